// Package fuzzseed loads the seed corpora of the fuzz targets from the
// repository's testdata/fuzz/<Target>/ folders, where each file is one raw
// input. Keeping seeds as plain files lets a crasher found by `go test -fuzz`
// be saved next to the others as the input it is.
package fuzzseed

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Add adds every file in testdata/fuzz/<f's name>/ to f's corpus.
func Add(f *testing.F) {
	f.Helper()
	_, here, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(here), "..", "..", "testdata", "fuzz", f.Name())
	entries, err := os.ReadDir(dir)
	if err != nil {
		f.Fatalf("seed corpus: %v", err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}
