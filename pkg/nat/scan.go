package nat

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"runtime"
)

// ArrayScanner reads the elements of a top-level JSON array one at a time,
// so that memory is bounded by the largest element, not by the input. Each
// element must be a JSON object. Python writes NaN, Infinity and -Infinity
// into these files (json.dump allows them); the scanner turns those tokens,
// outside strings, into null. It finds where elements end; it does not check
// their syntax, which the decoder does.
type ArrayScanner struct {
	r     io.Reader
	buf   []byte
	pos   int   // next byte to look at in buf
	end   int   // end of valid data in buf
	base  int64 // input offset of buf[0]
	eof   bool
	rerr  error
	began bool
	done  bool
	n     int   // elements returned so far
	at    int64 // input offset of the element last returned
	fixes []fix
	fixed []byte
	mem   *mapping // buf's memory when newBuffer mapped it
}

// mapping holds the function that gives back a mapped buffer.
type mapping struct{ release func() }

func (m *mapping) set(release func()) {
	if m.release != nil {
		m.release()
	}
	m.release = release
}

type fix struct{ at, n int } // a non-standard number token at element offset at, n bytes long

// NewArrayScanner returns an ArrayScanner reading from r.
func NewArrayScanner(r io.Reader) *ArrayScanner {
	s := &ArrayScanner{r: r, buf: make([]byte, 64<<10), mem: &mapping{}}
	runtime.AddCleanup(s, func(m *mapping) { m.set(nil) }, s.mem)
	return s
}

// Offset returns the input byte offset where the element last returned by
// Next starts.
func (s *ArrayScanner) Offset() int64 { return s.at }

// TruncatedError reports an input that ends before its array is closed.
// Every element returned before it was complete.
type TruncatedError struct {
	Offset int64 // where the damage starts: the incomplete element, or the end of input
	Index  int   // 0-based index of the incomplete element (= number of complete ones)
	// RequestNumber is the incomplete element's request_number when its
	// start holds one, else "".
	RequestNumber string
}

func (e *TruncatedError) Error() string {
	return fmt.Sprintf("input ends inside the array, at element %d (byte offset %d)", e.Index, e.Offset)
}

var requestNumber = regexp.MustCompile(`"request_number"\s*:\s*(-?\d+)`)

// NotArrayError reports input whose top level is not a JSON array of objects.
type NotArrayError struct {
	Offset int64
	Found  string
}

func (e *NotArrayError) Error() string {
	return fmt.Sprintf("at byte offset %d: want a JSON array of request objects, found %s", e.Offset, e.Found)
}

// fill reads more input, keeping buf[keep:end]; it returns the shift applied
// to offsets into buf, and false at the end of input.
func (s *ArrayScanner) fill(keep int) (shift int, ok bool) {
	if s.eof {
		return 0, false
	}
	if keep > 0 {
		copy(s.buf, s.buf[keep:s.end])
		s.end -= keep
		s.pos -= keep
		s.base += int64(keep)
		shift = keep
	}
	if s.end == len(s.buf) {
		nb, release := newBuffer(2 * len(s.buf))
		copy(nb, s.buf[:s.end])
		s.buf = nb
		s.mem.set(release)
	}
	for {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err != nil {
			s.eof = true
			if err != io.EOF {
				s.rerr = err
			}
			return shift, n > 0
		}
		if n > 0 {
			return shift, true
		}
	}
}

// skipSpace advances pos past white space; it returns false at the end of
// input.
func (s *ArrayScanner) skipSpace() bool {
	for {
		for s.pos < s.end {
			switch s.buf[s.pos] {
			case ' ', '\t', '\n', '\r':
				s.pos++
				continue
			}
			return true
		}
		if _, ok := s.fill(s.pos); !ok {
			return false
		}
	}
}

// skipBOM skips a UTF-8 byte-order mark at the very start of the input.
func (s *ArrayScanner) skipBOM() bool {
	if s.base+int64(s.pos) != 0 || s.buf[s.pos] != 0xef {
		return false
	}
	for s.end-s.pos < 3 {
		if _, ok := s.fill(s.pos); !ok {
			return false
		}
	}
	if bytes.HasPrefix(s.buf[s.pos:s.end], []byte("\xef\xbb\xbf")) {
		s.pos += 3
		return true
	}
	return false
}

func (s *ArrayScanner) found() string {
	c := s.buf[s.pos]
	switch {
	case c == '{':
		return "a JSON object"
	case c == '"':
		return "a string"
	case c == '-' || '0' <= c && c <= '9':
		return "a number"
	case c >= 0x20 && c < 0x7f:
		return fmt.Sprintf("%q", string(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// Next returns the next element of the array. The slice is valid until the
// next call. At the end of the array it returns io.EOF; when the input ends
// before the array does, a *TruncatedError; when the input is not an array of
// objects, a *NotArrayError.
func (s *ArrayScanner) Next() ([]byte, error) {
	if s.done {
		return nil, io.EOF
	}
	if !s.skipSpace() {
		return nil, s.endErr()
	}
	if !s.began {
		if s.skipBOM() && !s.skipSpace() {
			return nil, s.endErr()
		}
		if s.buf[s.pos] != '[' {
			return nil, &NotArrayError{s.base + int64(s.pos), s.found()}
		}
		s.began = true
		s.pos++
		if !s.skipSpace() {
			return nil, s.endErr()
		}
		if s.buf[s.pos] == ']' {
			return nil, s.closeArray()
		}
	} else {
		switch s.buf[s.pos] {
		case ']':
			return nil, s.closeArray()
		case ',':
			s.pos++
			if !s.skipSpace() {
				return nil, s.endErr()
			}
		default:
			return nil, &NotArrayError{s.base + int64(s.pos), s.found() + " where ',' or ']' should follow an element"}
		}
	}
	if s.buf[s.pos] != '{' {
		return nil, &NotArrayError{s.base + int64(s.pos), s.found() + fmt.Sprintf(" as element %d", s.n)}
	}
	start := s.pos
	s.at = s.base + int64(start)
	s.fixes = s.fixes[:0]
	if err := s.scanObject(&start); err != nil {
		return nil, err
	}
	s.n++
	elem := s.buf[start:s.pos]
	if len(s.fixes) > 0 {
		elem = s.applyFixes(elem)
	}
	return elem, nil
}

// closeArray passes the closing ']' at pos: only white space may follow it.
func (s *ArrayScanner) closeArray() error {
	s.done = true
	s.pos++
	if !s.skipSpace() {
		if s.rerr != nil {
			return s.rerr
		}
		return io.EOF
	}
	what := s.found()
	if s.buf[s.pos] == '[' {
		what = "another array (files joined with cat? give them as separate arguments)"
	}
	return &ExtraDataError{s.base + int64(s.pos), what}
}

// ExtraDataError is returned by Next when something other than white
// space follows the array.
type ExtraDataError struct {
	Offset int64
	Found  string
}

func (e *ExtraDataError) Error() string {
	return fmt.Sprintf("at byte offset %d: %s after the end of the array", e.Offset, e.Found)
}

func (s *ArrayScanner) endErr() error {
	if s.rerr != nil {
		return s.rerr
	}
	if !s.began {
		return &NotArrayError{s.base + int64(s.pos), "no data"}
	}
	return &TruncatedError{Offset: s.base + int64(s.end), Index: s.n}
}

// scanObject advances pos past the object starting at *start, keeping
// *start up to date when the buffer moves.
func (s *ArrayScanner) scanObject(start *int) error {
	depth := 0
	for {
		for s.pos < s.end {
			c := s.buf[s.pos]
			switch c {
			case '"':
				// Find the closing quote: one not preceded by an odd number of backslashes.
				j := s.pos + 1
				for {
					k := bytes.IndexByte(s.buf[j:s.end], '"')
					if k < 0 {
						// Need more data; rescan this string after the fill.
						goto more
					}
					q := j + k
					bs := 0
					for p := q - 1; p > s.pos && s.buf[p] == '\\'; p-- {
						bs++
					}
					if bs%2 == 0 {
						s.pos = q + 1
						break
					}
					j = q + 1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.pos++
					return nil
				}
			case 'N':
				if !s.token("NaN", *start) {
					goto more
				}
				continue
			case 'I':
				if !s.token("Infinity", *start) {
					goto more
				}
				continue
			case '-':
				if s.pos+1 < s.end && s.buf[s.pos+1] == 'I' {
					if !s.token("-Infinity", *start) {
						goto more
					}
					continue
				} else if s.pos+1 >= s.end && !s.eof {
					goto more
				}
			}
			s.pos++
		}
	more:
		shift, ok := s.fill(*start)
		*start -= shift
		if !ok {
			if s.rerr != nil {
				return s.rerr
			}
			te := &TruncatedError{Offset: s.base + int64(*start), Index: s.n}
			head := s.buf[*start:min(s.end, *start+4096)]
			if m := requestNumber.FindSubmatch(head); m != nil {
				te.RequestNumber = string(m[1])
			}
			return te
		}
	}
}

// token records the non-standard token tok at pos if it is there and moves
// past it; it returns false when more data is needed to tell.
func (s *ArrayScanner) token(tok string, start int) bool {
	if s.end-s.pos < len(tok) && !s.eof {
		return false
	}
	if s.end-s.pos >= len(tok) && string(s.buf[s.pos:s.pos+len(tok)]) == tok {
		s.fixes = append(s.fixes, fix{s.pos - start, len(tok)})
		s.pos += len(tok)
		return true
	}
	s.pos++ // not the token: leave it to the decoder to reject
	return true
}

func (s *ArrayScanner) applyFixes(elem []byte) []byte {
	out := s.fixed[:0]
	prev := 0
	for _, f := range s.fixes {
		out = append(out, elem[prev:f.at]...)
		out = append(out, "null"...)
		prev = f.at + f.n
	}
	out = append(out, elem[prev:]...)
	s.fixed = out
	return out
}
