package tokenize

import (
	"slices"
	"testing"
	"unicode"
)

// regexSplitter returns the regex-engine pre-tokenizer of patterns, never
// a hand-written one.
func regexSplitter(t testing.TB, patterns []string) splitFunc {
	t.Helper()
	split, err := engineSplitter(patterns, nil)
	if err != nil {
		t.Fatal(err)
	}
	return split
}

// knownToGo reports whether Go's Unicode 15.0 tables, which the regex
// engine uses, know every character of s the way Unicode 16.0 does. U+017F
// (ſ) is left out too: Hugging Face's engine folds it to s in (?i:'s), as
// the scanners do (the code-point probes show it), this regex engine does
// not.
func knownToGo(s string) bool {
	for _, r := range s {
		if r == unicode.ReplacementChar || r == 'ſ' || NewerThanGo(r) ||
			// unicode.C holds the unassigned code points too: name the
			// assigned kinds of C.
			!unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs) {
			return false
		}
	}
	return true
}

// FuzzHandWritten checks each hand-written pre-tokenizer against the
// regex engine running the pattern it implements, on text whose characters
// both know alike.
func FuzzHandWritten(f *testing.F) {
	for _, s := range []string{"Hello world's 1234567 ", "  \n\n x", "中文カ・カ 12", "ABCdef'LL\u0301é", "\x01\x01a /!!\r\n", "x'ſ 'S", "ǅemal ﬁ ½"} {
		f.Add(s)
	}
	type family struct {
		name  string
		hand  splitFunc
		regex splitFunc
	}
	var fams []family
	for _, h := range handWritten {
		fams = append(fams, family{h.patterns[0][:min(20, len(h.patterns[0]))], h.split, regexSplitter(f, h.patterns)})
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !knownToGo(s) {
			return
		}
		for _, fm := range fams {
			got, want := fm.hand(s, nil), fm.regex(s, nil)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: %q: hand-written %v, regex engine %v", fm.name, s, got, want)
			}
		}
	})
}

// TestASCIILettersEnd checks the eight-bytes-at-a-time letter scan against
// a byte loop for every byte value at every place of a run, after letter
// runs of every length up to 17 (so across word boundaries too).
func TestASCIILettersEnd(t *testing.T) {
	isLetter := func(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }
	want := func(s string, i int) int {
		for i < len(s) && isLetter(s[i]) {
			i++
		}
		return i
	}
	buf := make([]byte, 0, 40)
	for run := 0; run <= 17; run++ {
		for b := 0; b < 256; b++ {
			for _, tail := range []string{"", "a", "Zq", "@", "`xyz", "\xff\xfe", "[a{", "abcdefghij"} {
				buf = buf[:0]
				buf = append(buf, ' ')
				for k := range run {
					buf = append(buf, "abcXYZmnoPQRstuvw"[k])
				}
				buf = append(buf, byte(b))
				buf = append(buf, tail...)
				s := string(buf)
				if got, w := asciiLettersEnd(s, 1), want(s, 1); got != w {
					t.Fatalf("%q from 1: %d, want %d", s, got, w)
				}
			}
		}
	}
	for b := range 256 {
		for place := range 8 {
			x := uint64(0x6161616161616161) // "aaaaaaaa"
			x = x&^(0xff<<(8*place)) | uint64(b)<<(8*place)
			m := nonLetters(x)
			for k := range 8 {
				byteK := byte(x >> (8 * k))
				if got := m>>(8*k)&0xff == 0x80; got != !isLetter(byteK) || m>>(8*k)&0x7f != 0 {
					t.Fatalf("nonLetters(%#x) = %#x: byte %d (%#x) marked %v", x, m, k, byteK, got)
				}
			}
		}
	}
}
