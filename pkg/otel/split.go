package otel

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// valueSplitter cuts a stream into its top-level JSON values (objects or
// arrays, one per line or pretty-printed over many lines), finding where
// each ends by its brackets outside strings; the values themselves are
// decoded (and checked) later.
type valueSplitter struct {
	br  *bufio.Reader
	off int64 // bytes consumed
	buf []byte
}

func newValueSplitter(r io.Reader) *valueSplitter {
	return &valueSplitter{br: bufio.NewReaderSize(r, 256<<10)}
}

// next returns the next value and its offset in the stream; the slice is
// valid until the next call. At the end it returns io.EOF.
func (s *valueSplitter) next() ([]byte, int64, error) {
	// Skip white space (and a byte-order mark at the start).
	for {
		c, err := s.br.ReadByte()
		if err != nil {
			return nil, s.off, err
		}
		s.off++
		if c == ' ' || c == '\n' || c == '\r' || c == '\t' || s.off <= 3 && (c == 0xef || c == 0xbb || c == 0xbf) {
			continue
		}
		if c != '{' && c != '[' {
			return nil, s.off - 1, fmt.Errorf("want a JSON object, found %q", c)
		}
		// Read the value from its opening bracket, in place while it
		// lies in the reader's buffer.
		s.br.UnreadByte()
		s.off--
		break
	}
	start := s.off
	s.buf = s.buf[:0]
	depth, inString, first := 1, false, true
	for {
		chunk, err := s.br.Peek(max(1, s.br.Buffered()))
		if len(chunk) == 0 {
			if err == io.EOF {
				return nil, start, errors.New("the input ends inside a JSON value")
			}
			return nil, start, err
		}
		// A string may end beyond this chunk: keep its last bytes in view
		// (a backslash run before a quote decides whether it ends there).
		i := 0
		if first {
			i = 1 // the opening bracket
		}
		for i < len(chunk) {
			if inString {
				j := bytes.IndexByte(chunk[i:], '"')
				if j < 0 {
					i = len(chunk)
					break
				}
				i += j
				if escapedAt(s.buf, chunk, i) {
					i++
					continue
				}
				inString = false
				i++
				continue
			}
			c := chunk[i]
			switch c {
			case '"':
				inString = true
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					value := chunk[:i+1]
					if !first {
						s.buf = append(s.buf, value...)
						value = s.buf
					}
					// Discarding does not refill the buffer: a value
					// read in place stays valid until the next call.
					s.br.Discard(i + 1)
					s.off += int64(i + 1)
					return value, start, nil
				}
			}
			i++
		}
		s.buf = append(s.buf, chunk...)
		s.br.Discard(len(chunk))
		s.off += int64(len(chunk))
		first = false
	}
}

// escapedAt reports whether the quote at chunk[i] is escaped: preceded by
// an odd run of backslashes, which may begin in buf (the value so far).
func escapedAt(buf, chunk []byte, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && chunk[j] == '\\'; j-- {
		n++
	}
	if n == i { // the run may go on before this chunk
		for j := len(buf) - 1; j >= 0 && buf[j] == '\\'; j-- {
			n++
		}
	}
	return n%2 == 1
}
