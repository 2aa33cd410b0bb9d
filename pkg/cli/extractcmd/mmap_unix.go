//go:build unix

package extractcmd

import (
	"os"
	"syscall"
)

// mapFile maps the first size bytes of f into memory, read-only, to be read
// in place (the second pass over a telemetry file reads its calls in
// session order: a read call and a copy each, otherwise). ok is false when
// the file cannot be mapped (the caller reads it); unmap releases it.
func mapFile(f *os.File, size int64) (data []byte, unmap func(), ok bool) {
	if size <= 0 || int64(int(size)) != size {
		return nil, nil, false
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, false
	}
	return data, func() { syscall.Munmap(data) }, true
}
