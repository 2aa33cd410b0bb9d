package record

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string to dst. Non-ASCII characters are
// written as UTF-8; only '"', '\\' and control characters are escaped.
// Invalid UTF-8 bytes are replaced by U+FFFD, so the output is always valid.
func AppendString(dst []byte, s string) []byte {
	mark := len(dst)
	dst, ascii := appendString(dst, s)
	// Only text with non-ASCII bytes can be invalid UTF-8: the scan that
	// escaped it said whether it has any.
	if !ascii && !utf8.ValidString(s) {
		dst, _ = appendString(dst[:mark], validUTF8(s))
	}
	return dst
}

// appendString is AppendString without the UTF-8 check; ascii reports
// whether s is all ASCII. It copies the runs between the bytes to escape,
// which it finds eight bytes at a time.
func appendString(dst []byte, s string) ([]byte, bool) {
	dst = append(dst, '"')
	var high uint64 // the bytes scanned, or'ed: their high bits say if any is not ASCII
	start := 0
	for i := 0; ; i++ {
		i, high = nextEscape(s, i, high)
		if i == len(s) {
			break
		}
		dst = append(dst, s[start:i]...)
		dst = appendEscape(dst, s[i])
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"'), high&hi8 == 0
}

// nextEscape returns the offset of the first byte at or after s[i] that
// JSON escapes (a control character, '"' or '\\'), or len(s), and high
// or'ed with the bytes it scanned (some past that byte too, all of s).
func nextEscape(s string, i int, high uint64) (int, uint64) {
	if i+8 <= len(s) && littleEndian {
		// The masks' constants are read into variables once: as constants
		// the compiler writes each into a register again in every round.
		k := &escapeConsts
		lo, quotes, slashes, spaces, hi := k[0], k[1], k[2], k[3], k[4]
		p := unsafe.Pointer(unsafe.StringData(s))
		for i+8 <= len(s) {
			w := *(*uint64)(unsafe.Add(p, i))
			high |= w
			if m := escapeMaskWith(w, lo, quotes, slashes, spaces, hi); m != 0 {
				return i + bits.TrailingZeros64(m)>>3, high
			}
			i += 8
		}
	}
	for i+8 <= len(s) { // a big-endian machine
		w := binary.LittleEndian.Uint64([]byte(s[i : i+8]))
		high |= w
		if m := escapeMask8(w); m != 0 {
			return i + bits.TrailingZeros64(m)>>3, high
		}
		i += 8
	}
	for ; i < len(s); i++ {
		c := s[i]
		high |= uint64(c)
		if c < 0x20 || c == '"' || c == '\\' {
			return i, high
		}
	}
	return i, high
}

const (
	lo8 = 0x0101010101010101
	hi8 = 0x8080808080808080
)

// escapeMask8 has the high bit of each byte of w that is a control
// character, '"' or '\\' set, and maybe of bytes after the first such one
// (a borrow runs on): its lowest set bit marks the first exactly, so
// bits.TrailingZeros64(m)/8 is that byte's index.
func escapeMask8(w uint64) uint64 {
	ctl := (w - 0x20*lo8) & ^w & hi8 // bytes below 0x20 (bytes >= 0x80 never set it)
	return ctl | byteMask8(w, '"') | byteMask8(w, '\\')
}

// plainRun returns the offset of the first byte at or after b[i] that is a
// control character, '"' or '\\', or len(b): 8 bytes at a time.
func plainRun(b []byte, i int) int {
	if i+8 <= len(b) && littleEndian { // nextEscape's loop, without its or
		k := &escapeConsts
		lo, quotes, slashes, spaces, hi := k[0], k[1], k[2], k[3], k[4]
		p := unsafe.Pointer(unsafe.SliceData(b))
		for i+8 <= len(b) {
			if m := escapeMaskWith(*(*uint64)(unsafe.Add(p, i)), lo, quotes, slashes, spaces, hi); m != 0 {
				return i + bits.TrailingZeros64(m)>>3
			}
			i += 8
		}
	}
	for i+8 <= len(b) { // a big-endian machine
		if m := escapeMask8(binary.LittleEndian.Uint64(b[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for i < len(b) && b[i] != '"' && b[i] != '\\' && b[i] >= 0x20 {
		i++
	}
	return i
}

// escapeMaskWith is escapeMask8 with its constants (escapeConsts) passed
// in, so that a loop keeps them in registers.
func escapeMaskWith(w, lo, quotes, slashes, spaces, hi uint64) uint64 {
	q, b := w^quotes, w^slashes
	return ((w-spaces)&^w | (q-lo)&^q | (b-lo)&^b) & hi
}

// littleEndian: nextEscape and plainRun read eight bytes as a
// little-endian word in place.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// escapeConsts are escapeMask8's constants, for nextEscape and plainRun.
var escapeConsts = [5]uint64{lo8, lo8 * '"', lo8 * '\\', lo8 * 0x20, hi8}

func appendEscape(dst []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
}

// validUTF8 returns s with each byte that is not part of valid UTF-8
// replaced by U+FFFD, as encoding/json does.
func validUTF8(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// DecodeString decodes a raw JSON string (with its quotes). A lone UTF-16
// surrogate escape (\ud800) becomes U+FFFD, as in encoding/json.
func DecodeString(raw []byte) (string, error) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", errors.New("want a string, got " + abbrev(raw))
	}
	out, end, err := AppendUnquote(nil, raw, 0)
	if err != nil || end != len(raw) {
		return "", errors.New("invalid string " + abbrev(raw))
	}
	return string(out), nil
}

// AppendUnquote decodes the JSON string that starts at b[i] == '"', appends
// its value to dst, and returns the offset just past its closing quote.
// Escapes are decoded as in DecodeString; other bytes are copied as they
// are (invalid UTF-8 is not replaced).
func AppendUnquote(dst, b []byte, i int) ([]byte, int, error) {
	if i >= len(b) || b[i] != '"' {
		return dst, 0, &SyntaxError{i, "want a string"}
	}
	start := i
	i++
	for {
		// Copy 8 plain bytes at a time.
		j := plainRun(b, i)
		dst = append(dst, b[i:j]...)
		i = j
		if i >= len(b) {
			return dst, 0, &SyntaxError{start, "unterminated string"}
		}
		switch c := b[i]; {
		case c == '"':
			return dst, i + 1, nil
		case c < 0x20:
			return dst, 0, &SyntaxError{i, "control character in string"}
		}
		if i+1 >= len(b) {
			return dst, 0, &SyntaxError{start, "unterminated string"}
		}
		switch e := b[i+1]; e {
		case '"', '\\', '/':
			dst = append(dst, e)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(b, i+2)
			if !ok {
				return dst, 0, &SyntaxError{i, `bad \u escape`}
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if r < 0xdc00 && i+6 <= len(b) && b[i] == '\\' && b[i+1] == 'u' {
					if r2, ok := hex4(b, i+2); ok {
						if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
							dst = utf8.AppendRune(dst, d)
							i += 6
							continue
						}
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default:
			return dst, 0, &SyntaxError{i, "bad escape in string"}
		}
		i += 2
	}
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[i:i+4]), 16, 32)
	return rune(n), err == nil
}

// AppendInts appends v as a compact JSON array of integers to dst.
func AppendInts[T ~int | ~int32 | ~int64 | ~uint32](dst []byte, v []T) []byte {
	dst = slices.Grow(dst, 7*len(v)+2)
	dst = append(dst, '[')
	for i, x := range v {
		if i > 0 {
			dst = append(dst, ',')
		}
		if x >= 0 && int64(x) < 1e8 {
			dst = appendSmall(dst, uint32(x))
		} else {
			dst = strconv.AppendInt(dst, int64(x), 10)
		}
	}
	return append(dst, ']')
}

// appendSmall appends v < 1e8 in decimal straight into dst, without a
// branch on its length: token ids are formatted by the million, and this
// is several times faster than strconv. The eight digits of v are made in
// one uint64, one digit a byte, most significant first (little-endian),
// by splitting it in two halves of four digits, each half in two of two,
// each of those in two digits, every step in every lane at once with a
// multiplication by a reciprocal; the leading zeros are then shifted out
// and the digits stored in one write.
func appendSmall(dst []byte, v uint32) []byte {
	l := len(dst)
	if cap(dst)-l < 8 {
		dst = slices.Grow(dst, 8)
	}
	x := uint64(v/10000) | uint64(v%10000)<<32
	// Each 32-bit lane (< 10000): q = x/100 (x*10486>>20 is exact there),
	// then q in the low 16 bits, x-100q in the high ones.
	q := (x * 10486 >> 20) & 0x0000007f0000007f
	x = q | (x-100*q)<<16
	// Each 16-bit lane (< 100): q = x/10 (x*103>>10 is exact there).
	q = (x * 103 >> 10) & 0x000f000f000f000f
	x = q | (x-10*q)<<8
	// Leading zero digits are the low zero bytes; the last digit counts
	// as set, so that 0 is "0".
	zeros := uint(bits.TrailingZeros64(x|1<<56)) / 8
	binary.LittleEndian.PutUint64(dst[l:l+8], (x+0x3030303030303030)>>(8*zeros))
	return dst[:l+8-int(zeros)]
}

// byteMask8 returns a mask whose lowest set bit is the high bit of the
// first byte of x (little-endian) equal to c, or 0 when none is (the bits
// above the first may be false).
func byteMask8(x uint64, c byte) uint64 {
	x ^= lo8 * uint64(c)
	return (x - lo8) &^ x & hi8
}
