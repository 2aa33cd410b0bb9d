// Package jsonl reads and writes JSON Lines: one JSON value per line.
//
// Reader has no limit on line length (records of tens of megabytes occur when
// a long conversation carries its token ids), accepts LF and CRLF line ends,
// skips blank lines and a UTF-8 byte-order mark at the start, and counts lines so that errors can name the input and
// the line. Writer is a buffered writer that reports a closed pipe as
// ErrClosedPipe, so a command feeding `head` can stop quietly.
package jsonl

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"syscall"
)

// Reader reads lines from an input, skipping blank ones.
type Reader struct {
	r    *bufio.Reader
	name string
	line int   // number of the line last returned (1-based)
	off  int64 // byte offset of the start of the next line
	buf  []byte
}

// NewReader returns a Reader that reads from r. name identifies the input in
// error messages (a file path, or "<stdin>").
func NewReader(r io.Reader, name string) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 256<<10), name: name}
}

// Name returns the input's name as given to NewReader.
func (r *Reader) Name() string { return r.name }

// Line returns the 1-based number of the line last returned by Next.
func (r *Reader) Line() int { return r.line }

// Offset returns the number of bytes consumed so far.
func (r *Reader) Offset() int64 { return r.off }

// Next returns the next non-blank line without its line end (LF or CRLF).
// The slice is valid until the next call. At the end of input it returns
// io.EOF; a last line without a line end is returned as a line.
func (r *Reader) Next() ([]byte, error) {
	for {
		line, err := r.readLine()
		if err != nil {
			return nil, err
		}
		if r.line == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")) // a UTF-8 byte-order mark
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		return line, nil
	}
}

func (r *Reader) readLine() ([]byte, error) {
	r.buf = r.buf[:0]
	for {
		frag, err := r.r.ReadSlice('\n')
		r.off += int64(len(frag))
		if err == nil {
			// A whole line in one fragment: avoid the copy.
			var line []byte
			if len(r.buf) == 0 {
				line = frag
			} else {
				r.buf = append(r.buf, frag...)
				line = r.buf
			}
			r.line++
			return trimEOL(line), nil
		}
		r.buf = append(r.buf, frag...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == io.EOF {
			if len(r.buf) == 0 {
				return nil, io.EOF
			}
			r.line++
			return trimEOL(r.buf), nil
		}
		return nil, &Error{Name: r.name, Line: r.line + 1, Err: err}
	}
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// Errorf returns an *Error for the line last returned by Next.
func (r *Reader) Errorf(format string, args ...any) error {
	return &Error{Name: r.name, Line: r.line, Err: fmt.Errorf(format, args...)}
}

// Error is an error tied to a line of a named input.
type Error struct {
	Name string // the input: a path or "<stdin>"
	Line int    // 1-based line number; 0 when not tied to a line
	Err  error
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.Name, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Name, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrClosedPipe is returned by Writer when the reader of its output has gone
// away (for example `head` has read enough). Commands treat it as a quiet,
// successful end.
var ErrClosedPipe = errors.New("output closed by reader")

// Writer is a buffered line writer.
type Writer struct {
	w   *bufio.Writer
	err error
}

// NewWriter returns a Writer with a 256 KiB buffer on w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, 256<<10)}
}

// WriteLine writes b followed by a newline. Once a write has failed, every
// later call returns the same error.
func (w *Writer) WriteLine(b []byte) error {
	if w.err != nil {
		return w.err
	}
	if _, err := w.w.Write(b); err != nil {
		return w.fail(err)
	}
	if err := w.w.WriteByte('\n'); err != nil {
		return w.fail(err)
	}
	return nil
}

// WriteLineParts writes the concatenation of parts and a newline: a line
// whose largest part is written where it lies rather than copied into one
// slice first.
func (w *Writer) WriteLineParts(parts ...[]byte) error {
	if w.err != nil {
		return w.err
	}
	for _, p := range parts {
		if _, err := w.w.Write(p); err != nil {
			return w.fail(err)
		}
	}
	if err := w.w.WriteByte('\n'); err != nil {
		return w.fail(err)
	}
	return nil
}

// Flush writes any buffered data to the underlying writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if err := w.w.Flush(); err != nil {
		return w.fail(err)
	}
	return nil
}

func (w *Writer) fail(err error) error {
	if errors.Is(err, syscall.EPIPE) {
		err = ErrClosedPipe
	}
	w.err = err
	return err
}
