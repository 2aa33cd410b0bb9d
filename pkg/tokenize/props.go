package tokenize

import (
	"sort"
	"unicode/utf8"
)

// Unicode 16.0 properties of a code point, as bits of a uint16 (the
// generated table props16 in unicode16.go). The hand-written pre-tokenizers
// of the o200k and DeepSeek V3 patterns test these; Hugging Face tokenizers'
// regex engine (Oniguruma) uses the same Unicode version.
const (
	propL           uint16 = 1 << iota // \p{L}
	propUpper                          // \p{Lu} or \p{Lt}
	propLower                          // \p{Ll}
	propOtherLetter                    // \p{Lm} or \p{Lo}
	propM                              // \p{M}
	propN                              // \p{N}
	propP                              // \p{P}
	propS                              // \p{S}
	propSpace                          // \s (White_Space)
)

// propRange gives the properties p to the code points lo to hi.
type propRange struct {
	lo, hi rune
	p      uint16
}

// bmpProps caches the properties of the Basic Multilingual Plane.
var bmpProps = func() *[0x10000]uint16 {
	var t [0x10000]uint16
	for _, r := range props16 {
		if r.lo >= 0x10000 {
			break
		}
		for c := r.lo; c <= min(r.hi, 0xFFFF); c++ {
			t[c] = r.p
		}
	}
	return &t
}()

// propsOf returns the properties of r.
func propsOf(r rune) uint16 {
	if r >= 0 && r < 0x10000 {
		return bmpProps[r]
	}
	i := sort.Search(len(props16), func(i int) bool { return props16[i].hi >= r })
	if i < len(props16) && props16[i].lo <= r {
		return props16[i].p
	}
	return 0
}

// propsAt decodes the rune at s[i] and returns its properties and width.
// Invalid UTF-8 is one byte with no property.
func propsAt(s string, i int) (uint16, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		return bmpProps[c], 1
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && n == 1 {
		return 0, 1
	}
	return propsOf(r), n
}

// skipProps returns the offset after the run of characters of s[i:to]
// that have one of the properties want, and how many there were, stopping
// after max of them (max < 0: no limit).
func skipProps(s string, i, to int, want uint16, max int) (int, int) {
	count := 0
	for i < to && count != max {
		p, n := propsAt(s, i)
		if p&want == 0 {
			break
		}
		i += n
		count++
	}
	return i, count
}

// spaceRunEnd returns where the white-space alternatives shared by the
// GPT-4-style patterns end a piece that starts with white space at s[i]
// (s[i:to] is the text): \s*[\r\n]+ (up to and including the run's last \r
// or \n), \s+(?!\S) (a run followed by text loses its last character), \s+.
func spaceRunEnd(s string, i, to int) int {
	end, lastNL, lastStart := i, -1, i
	for end < to {
		p, n := propsAt(s, end)
		if p&propSpace == 0 {
			break
		}
		if s[end] == '\r' || s[end] == '\n' {
			lastNL = end
		}
		lastStart = end
		end += n
	}
	switch {
	case end == i: // not white space: one character, so that the scan moves on
		_, n := propsAt(s, i)
		return i + n
	case lastNL >= 0:
		return lastNL + 1
	case end == to:
		return end
	case lastStart > i:
		return lastStart
	}
	return end
}
