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
