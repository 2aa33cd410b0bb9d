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
			// No added tokens: the margin EncodeAfter keeps past a cut is
			// the scanner's reach alone, which this test checks.
			tok := loadFamily(t, path, func(spec *Spec) { spec.Added = nil })
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

// AppendPart equals Encode of the part for every family, added tokens
// included: prompts are golden texts joined by new lines, encoded in two
// steps (so the memo holds kept and new cuts), and the parts are the
// joined texts themselves and random ranges.
func TestFamiliesAppendPartEqualsEncode(t *testing.T) {
	dir := "../../testdata/tokenizers/families"
	toks, _ := filepath.Glob(filepath.Join(dir, "*.tokenizer.json"))
	for _, path := range toks {
		name := strings.TrimSuffix(filepath.Base(path), ".tokenizer.json")
		t.Run(name, func(t *testing.T) {
			checkAppendPart(t, loadFamily(t, path, nil), goldenTexts(t, dir, name), uint64(len(name)))
		})
	}
}

// checkAppendPart checks AppendPart against Encode on prompts made of
// texts, and that long parts copy ids from the memo when the tokenizer
// has cuts.
func checkAppendPart(t *testing.T, tok *Tokenizer, texts []string, seed uint64) {
	t.Helper()
	full, inc := tok.NewEncoder(), tok.NewEncoder()
	rng := rand.New(rand.NewPCG(seed, 5))
	joins := []string{"\n", "\n\n", " ", "", "\r\n", ".", "'s"}
	copied, long := 0, 0
	for p := 0; p < 40; p++ {
		var parts []string
		for range 2 + rng.IntN(6) {
			parts = append(parts, texts[rng.IntN(len(texts))])
		}
		join := joins[rng.IntN(len(joins))]
		prompt := strings.Join(parts, join)
		head := strings.Join(parts[:len(parts)/2], join)
		_, memo := inc.EncodeAfter(nil, head)
		_, memo = inc.EncodeAfter(memo, prompt)
		check := func(from, to int) {
			want := full.Encode(prompt[from:to])
			before := inc.copied
			got := inc.AppendPart(nil, memo, from, to)
			if !slices.Equal(got, want) {
				t.Fatalf("prompt of %d texts joined by %q, part [%d:%d] %q: ids differ from Encode of the part", len(parts), join, from, to, shorten(prompt[from:to]))
			}
			if to-from >= 4*partHead {
				long++
				if inc.copied > before {
					copied++
				}
			}
		}
		at := 0
		for _, s := range parts {
			check(at, at+len(s))
			at += len(s) + len(join)
		}
		// Parts that end just past a cut of the prompt, or start just
		// before one: where the bytes past a cut decide it.
		for range 4 {
			if len(memo.cuts) == 0 {
				break
			}
			c := memo.cuts[rng.IntN(len(memo.cuts))].Byte
			for k := 0; k <= tok.reach+tok.maxAdded+1; k++ {
				if c+k <= len(prompt) && utf8.RuneStart(prompt[min(c+k, len(prompt)-1)]) {
					check(max(0, c-4*partHead-rng.IntN(200)), c+k)
				}
				if c-k >= 0 && utf8.RuneStart(prompt[c-k]) {
					check(c-k, min(len(prompt), c+4*partHead+rng.IntN(200)))
				}
			}
		}
		for range 8 {
			from, to := rng.IntN(len(prompt)+1), rng.IntN(len(prompt)+1)
			if from > to {
				from, to = to, from
			}
			for from > 0 && !utf8.RuneStart(prompt[from]) {
				from--
			}
			for to < len(prompt) && !utf8.RuneStart(prompt[to]) {
				to++
			}
			check(from, to)
		}
	}
	if tok.reach >= 0 && long > 0 && copied == 0 {
		t.Errorf("none of %d long parts copied ids from the memo", long)
	}
	t.Logf("%d of %d long parts copied ids", copied, long)
}
