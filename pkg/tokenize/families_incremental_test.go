package tokenize

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// EncodeAfter equals Encode for every family: the previous text shares a
// prefix of the new one, cut at a random place and continued with text
// chosen to move piece boundaries (contractions, marks, control characters
// before letters, numbers, CJK, white space).
func TestFamiliesEncodeAfterEqualsEncode(t *testing.T) {
	tails := []string{"'s", "'x", "'LL", "ab", "\x01\x01𐐀", "\x01a", "\u0301b", "123", "4", "中文", "カ・カ", "  \n", " x", "ſ", "\r\n", "/", "!", "A", "ǅ", "😀"}
	dir := "../../testdata/tokenizers/families"
	toks, _ := filepath.Glob(filepath.Join(dir, "*.tokenizer.json"))
	for _, path := range toks {
		name := strings.TrimSuffix(filepath.Base(path), ".tokenizer.json")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			spec, err := ParseJSON(data)
			if err != nil {
				t.Fatal(err)
			}
			// No added tokens: the margin EncodeAfter keeps past a cut is
			// the scanner's reach alone, which this test checks.
			spec.Added = nil
			tok, err := New(name, spec)
			if err != nil {
				t.Fatal(err)
			}
			full, inc := tok.NewEncoder(), tok.NewEncoder()
			rng := rand.New(rand.NewPCG(uint64(len(name)), 3))
			texts := goldenTexts(t, dir, name)
			reused, n := 0, 0
			for _, text := range texts {
				if len(text) < 200 {
					continue
				}
				for range 4 {
					k := rng.IntN(len(text))
					for k > 0 && !utf8.RuneStart(text[k]) {
						k--
					}
					prev := text[:k] + tails[rng.IntN(len(tails))] + tails[rng.IntN(len(tails))]
					_, memo := inc.EncodeAfter(nil, prev)
					got, next := inc.EncodeAfter(memo, text)
					if want := full.Encode(text); !slices.Equal(got, want) {
						t.Fatalf("text %q cut at %d after %q: incremental ids differ from a full encode", shorten(text), k, shorten(prev[k:]))
					}
					reused += next.Reused()
					n++
				}
			}
			if n == 0 {
				t.Skip("no text of 200 bytes or more")
			}
			if tok.reach >= 0 && !strings.HasPrefix(name, "tiny") && reused == 0 {
				t.Errorf("%d encodes reused no token", n)
			}
		})
	}
}

// goldenTexts returns the texts of a family's golden set.
func goldenTexts(t *testing.T, dir, name string) []string {
	t.Helper()
	path := filepath.Join(dir, name+".golden.jsonl.gz")
	if _, err := os.Stat(path); err != nil {
		path = filepath.Join(dir, name+".golden.jsonl")
	}
	texts, _ := goldenSet(t, path)
	return texts
}
