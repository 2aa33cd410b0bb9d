package nat

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugeBuffer is the size from which the scanner's buffer is mapped for
// transparent huge pages.
const hugeBuffer = 2 << 20

// newBuffer returns a zeroed buffer of n bytes, and a function that gives
// it back (nil when the garbage collector does).
//
// The buffer holds a whole request: megabytes, each page touched once. In
// 4 KiB pages that is thousands of page faults, which cost more than
// reading the file on virtual machines; so a large buffer is mapped on its
// own and advised for transparent huge pages (honoured where the system's
// setting is "madvise" or "always"; elsewhere it is an ordinary mapping).
func newBuffer(n int) ([]byte, func()) {
	if n < hugeBuffer {
		return make([]byte, n), nil
	}
	// Map one huge page more, to start on a huge-page boundary.
	m, err := unix.Mmap(-1, 0, n+hugeBuffer, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return make([]byte, n), nil
	}
	at := 0
	if off := int(uintptrOf(m) % hugeBuffer); off != 0 {
		at = hugeBuffer - off
	}
	b := m[at : at+n : at+n]
	_ = unix.Madvise(b, unix.MADV_HUGEPAGE) // advice: without it, small pages
	return b, func() { _ = unix.Munmap(m) }
}

func uintptrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
