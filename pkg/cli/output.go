package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// SamePath reports whether paths a and b name the same file: the same
// existing file (also through links), or the same clean absolute path for
// files that do not exist yet. "-" and "" name no file.
func SamePath(a, b string) bool {
	if a == "" || b == "" || a == "-" || b == "-" {
		return false
	}
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(fa, fb)
	}
	return absPath(a) == absPath(b)
}

// absPath is path made absolute and clean, its folder's links resolved.
func absPath(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	if dir, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		return filepath.Join(dir, filepath.Base(abs))
	}
	return abs
}

// DistinctPaths fails with a usage error, before anything is read or
// written, when two of the named paths are one file: an output written over
// an input or a prefix table loses it. Each entry is a flag name and its
// path; paths "" and "-" are skipped.
func DistinctPaths(named ...[2]string) error {
	for i := range named {
		for j := i + 1; j < len(named); j++ {
			if SamePath(named[i][1], named[j][1]) {
				return UsageError(fmt.Errorf("%s and %s name the same file (%s): it would be overwritten; give another path",
					named[i][0], named[j][0], named[i][1]))
			}
		}
	}
	return nil
}

// An AtomicFile is an output file written under a temporary name beside it
// and renamed to its name by Commit: readers never see part of it, and a
// failed or interrupted run leaves the file as it was.
type AtomicFile struct {
	*os.File
	name, temp string
}

// CreateAtomic starts writing the file name.
func CreateAtomic(name string) (*AtomicFile, error) {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return nil, IOError(err)
	}
	// The mode of the file it replaces, else that of a new file (the
	// temporary one is private).
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(name); err == nil {
		mode = fi.Mode().Perm()
	}
	f.Chmod(mode)
	return &AtomicFile{File: f, name: name, temp: f.Name()}, nil
}

// TempName is the temporary file's name, for a signal handler to remove.
func (f *AtomicFile) TempName() string { return f.temp }

// Commit syncs the file and gives it its name.
func (f *AtomicFile) Commit() error {
	if err := f.Sync(); err != nil {
		f.Abort()
		return IOError(fmt.Errorf("writing %s: %w", f.name, err))
	}
	if err := f.Close(); err != nil {
		f.Abort()
		return IOError(fmt.Errorf("writing %s: %w", f.name, err))
	}
	if err := os.Rename(f.File.Name(), f.name); err != nil {
		os.Remove(f.File.Name())
		return IOError(err)
	}
	f.File = nil
	return nil
}

// Abort removes the temporary file; after Commit it does nothing.
func (f *AtomicFile) Abort() {
	if f == nil || f.File == nil {
		return
	}
	f.Close()
	os.Remove(f.File.Name())
	f.File = nil
}

// StdoutNotInput fails with a usage error when standard output is a file
// that is also one of the inputs (cmd FILE >> FILE): writing would feed the
// output back into the input, or (with >) has already emptied it.
func StdoutNotInput(files []string, stdout io.Writer) error {
	f, ok := stdout.(*os.File)
	if !ok {
		return nil
	}
	out, err := f.Stat()
	if err != nil || !out.Mode().IsRegular() {
		return nil
	}
	for _, name := range files {
		if name == "-" {
			continue
		}
		if in, err := os.Stat(name); err == nil && os.SameFile(in, out) {
			return UsageError(fmt.Errorf("standard output is %s, which this run also reads: write the output to another file", name))
		}
	}
	return nil
}
