package jsonl

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
)

func readAll(t *testing.T, in string) (lines []string, nums []int) {
	t.Helper()
	r := NewReader(strings.NewReader(in), "in.jsonl")
	for {
		l, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(l))
		nums = append(nums, r.Line())
	}
}

func TestReaderLineEndsAndBlankLines(t *testing.T) {
	lines, nums := readAll(t, "a\r\n\n  \r\nb\nc")
	if strings.Join(lines, "|") != "a|b|c" {
		t.Errorf("lines %q", lines)
	}
	if want := []int{1, 4, 5}; !equal(nums, want) {
		t.Errorf("line numbers %v, want %v", nums, want)
	}
}

func TestReaderNoLineLengthLimit(t *testing.T) {
	long := strings.Repeat("x", 20<<20) // 20 MiB, far past the buffer
	lines, nums := readAll(t, "1\n"+long+"\r\n3\n")
	if len(lines) != 3 || lines[1] != long || lines[2] != "3" || nums[2] != 3 {
		t.Fatalf("got %d lines, second of %d bytes", len(lines), len(lines[1]))
	}
}

func TestErrorNamesInputAndLine(t *testing.T) {
	r := NewReader(strings.NewReader("x\ny\n"), "trace.jsonl")
	r.Next()
	r.Next()
	if got := r.Errorf("bad %s", "thing").Error(); got != "trace.jsonl:2: bad thing" {
		t.Errorf("got %q", got)
	}
}

type epipeWriter struct{}

func (epipeWriter) Write([]byte) (int, error) {
	return 0, &os.PathError{Op: "write", Path: "/dev/stdout", Err: syscall.EPIPE}
}

func TestWriterClosedPipe(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.WriteLine([]byte(`{"a":1}`))
	if err := w.Flush(); err != nil || buf.String() != "{\"a\":1}\n" {
		t.Fatalf("got %q, %v", buf.String(), err)
	}
	w = NewWriter(epipeWriter{})
	w.WriteLine([]byte("x"))
	if err := w.Flush(); !errors.Is(err, ErrClosedPipe) {
		t.Errorf("Flush on a closed pipe = %v, want ErrClosedPipe", err)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
