//go:build unix

package extractcmd

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

// A mapped file cut short faults on reading past its new end; with
// SetPanicOnFault (as the telemetry pass sets it) that is a panic with the
// address, which the pass turns into an error, not a crash.
func TestMappedFileCutShort(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.jsonl")
	if err := os.WriteFile(path, make([]byte, 3*os.Getpagesize()), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, unmap, ok := mapFile(f, int64(3*os.Getpagesize()))
	if !ok {
		t.Fatal("not mapped")
	}
	defer unmap()
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	faulted := func() (fault bool) {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() {
			_, fault = recover().(interface{ Addr() uintptr })
		}()
		sink = data[2*os.Getpagesize()]
		return false
	}()
	if !faulted {
		t.Fatal("reading past the new end did not fault")
	}
}

// sink keeps the test's read from being optimized away.
var sink byte
