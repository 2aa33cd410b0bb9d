//go:build !linux

package nat

// newBuffer returns a zeroed buffer of n bytes, and a function that gives
// it back (nil: the garbage collector does).
func newBuffer(n int) ([]byte, func()) { return make([]byte, n), nil }
