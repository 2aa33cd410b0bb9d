package tokenize

import (
	"sort"
	"unicode"
	"unicode/utf8"
)

// Character classes of the pre-tokenizer patterns: \p{L}, \p{N}, \s, and
// [\r\n] (which is also \s).
const (
	clsOther   uint8 = iota // none of the below
	clsLetter               // \p{L}
	clsNumber               // \p{N}
	clsSpace                // \s other than \r and \n
	clsNewline              // \r or \n
)

// cpRange is the code points lo to hi.
type cpRange struct{ lo, hi rune }

func inRanges(rs []cpRange, r rune) bool {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].hi >= r })
	return i < len(rs) && rs[i].lo <= r
}

// classify returns the class of r as Hugging Face tokenizers' regex engine
// (Oniguruma) sees it: Unicode 16.0 general categories (props16; Go 1.26's
// unicode tables are 15.0, about 5,000 code points short), and White_Space
// for \s.
func classify(r rune) uint8 {
	if r == '\r' || r == '\n' {
		return clsNewline
	}
	p := propsOf(r)
	switch {
	case p&propL != 0:
		return clsLetter
	case p&propN != 0:
		return clsNumber
	case p&propSpace != 0:
		return clsSpace
	}
	return clsOther
}

// bmpClass caches classify for the Basic Multilingual Plane.
var bmpClass = func() *[0x10000]uint8 {
	var t [0x10000]uint8
	for r := rune(0); r < 0x10000; r++ {
		t[r] = classify(r)
	}
	return &t
}()

// classAt decodes the rune at s[i] and returns its class and width. Invalid
// UTF-8 is one byte of class other.
func classAt(s string, i int) (uint8, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		return bmpClass[c], 1
	}
	return classAtRune(s, i)
}

// classAtRune is classAt for a rune that is not ASCII.
func classAtRune(s string, i int) (uint8, int) {
	r, n := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && n == 1 {
		return clsOther, 1
	}
	if r < 0x10000 {
		return bmpClass[r], n
	}
	return classify(r), n
}

// NewerThanGo reports whether Hugging Face classes r differently from Go's
// own unicode tables (letters and numbers added after Unicode 15.0), which
// tools built on Go's regexp engines (tiktoken-go) use.
func NewerThanGo(r rune) bool {
	goClass := clsOther
	switch {
	case r == '\r' || r == '\n':
		goClass = clsNewline
	case unicode.IsLetter(r):
		goClass = clsLetter
	case unicode.IsNumber(r):
		goClass = clsNumber
	case unicode.IsSpace(r):
		goClass = clsSpace
	}
	return goClass != classify(r)
}
