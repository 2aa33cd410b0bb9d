//go:build 386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm

package gunzip

import "unsafe"

// load64 reads eight bytes at p as a little-endian number.
func load64(p unsafe.Pointer) uint64 { return *(*uint64)(p) }
