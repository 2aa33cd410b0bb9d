//go:build !(386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm)

package gunzip

import (
	"math/bits"
	"unsafe"
)

// load64 reads eight bytes at p as a little-endian number.
func load64(p unsafe.Pointer) uint64 { return bits.ReverseBytes64(*(*uint64)(p)) }
