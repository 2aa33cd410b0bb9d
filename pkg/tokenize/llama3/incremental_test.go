package llama3

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"

	"github.com/agent-trace/agent-trace/pkg/tokenize"
)

// growingSession returns the prompt texts of one generated agent session:
// each is the previous one plus new text, sometimes with the tail of the
// previous one changed, joined at places chosen to be hard (inside white
// space runs, inside words, numbers and added tokens).
func growingSession(rng *rand.Rand, calls int) []string {
	joins := []string{"\n", "\n\n", "  ", " ", "", "<|eot_id|>", "<|eot", "_id|>", "'", "s", "123", "4", "\r\n", "\t", "東", "<think>", "é"}
	var texts []string
	cur := ""
	for c := 0; c < calls; c++ {
		switch rng.IntN(6) {
		case 0: // edit the tail
			if n := len(cur); n > 10 {
				cur = strings.ToValidUTF8(cur[:n-rng.IntN(10)], "")
			}
		case 1: // start over
			if rng.IntN(4) == 0 {
				cur = ""
			}
		}
		cur += joins[rng.IntN(len(joins))] + agentText(50+rng.IntN(3000), rng.Uint64()) + joins[rng.IntN(len(joins))]
		texts = append(texts, cur)
	}
	return texts
}

// EncodeAfter must always equal a full Encode.
func TestEncodeAfterEqualsEncode(t *testing.T) {
	for _, v := range []Variant{Llama31, DeepSeek} {
		tok, err := New("t", v)
		if err != nil {
			t.Fatal(err)
		}
		full, inc := tok.NewEncoder(), tok.NewEncoder()
		rng := rand.New(rand.NewPCG(uint64(v), 9))
		reused := 0
		for s := 0; s < 30; s++ {
			var memo *tokenize.Memo
			for i, text := range growingSession(rng, 25) {
				want := full.Encode(text)
				got, next := inc.EncodeAfter(memo, text)
				if !slices.Equal(got, want) {
					t.Fatalf("variant %d session %d call %d: incremental ids differ from a full encode (len %d vs %d)", v, s, i, len(got), len(want))
				}
				if memo != nil && len(memo.IDs()) > 0 {
					reused++
				}
				memo = next
			}
		}
		if reused == 0 {
			t.Error("no call reused a previous encoding")
		}
	}
}

// EncodeAfterPrefix, given any lower bound of the prefix two texts share,
// equals a full Encode, also when the new text was written over the
// previous one's memory (as trace-tokenize does with compact records).
func TestEncodeAfterPrefixEqualsEncode(t *testing.T) {
	tok, err := New("t", Llama31)
	if err != nil {
		t.Fatal(err)
	}
	full, inc := tok.NewEncoder(), tok.NewEncoder()
	rng := rand.New(rand.NewPCG(3, 9))
	for s := 0; s < 30; s++ {
		var memo *tokenize.Memo
		var buf []byte // the texts live here, each written over the last
		prev := ""
		for i, text := range growingSession(rng, 25) {
			common := 0
			for common < min(len(prev), len(text)) && prev[common] == text[common] {
				common++
			}
			bound := common - rng.IntN(common/4+1) // a lower bound
			buf = append(buf[:bound], text[bound:]...)
			cur := unsafe.String(unsafe.SliceData(buf), len(buf))
			want := full.Encode(text)
			got, next := inc.EncodeAfterPrefix(memo, cur, bound)
			if !slices.Equal(got, want) {
				t.Fatalf("session %d call %d (bound %d of %d): ids differ from a full encode", s, i, bound, common)
			}
			memo, prev = next, text
		}
	}
}

// AppendPart equals a full Encode of the part, for parts of prompts that
// EncodeAfter encoded, joined at hard places (added tokens, white space,
// contractions): the last pieces of each prompt, and random ranges.
func TestAppendPartEqualsEncode(t *testing.T) {
	for _, v := range []Variant{Llama31, DeepSeek} {
		tok, err := New("t", v)
		if err != nil {
			t.Fatal(err)
		}
		full, inc := tok.NewEncoder(), tok.NewEncoder()
		rng := rand.New(rand.NewPCG(uint64(v), 11))
		for s := 0; s < 20; s++ {
			var memo *tokenize.Memo
			prev := ""
			for i, text := range growingSession(rng, 20) {
				_, memo = inc.EncodeAfter(memo, text)
				ranges := [][2]int{{0, len(text)}}
				if strings.HasPrefix(text, prev) {
					ranges = append(ranges, [2]int{len(prev), len(text)})
				}
				for range 6 {
					from, to := rng.IntN(len(text)+1), rng.IntN(len(text)+1)
					ranges = append(ranges, [2]int{min(from, to), max(from, to)})
				}
				for _, r := range ranges {
					part := strings.ToValidUTF8(text[r[0]:r[1]], "")
					if part != text[r[0]:r[1]] {
						continue // a range inside a character
					}
					if got, want := inc.AppendPart(nil, memo, r[0], r[1]), full.Encode(part); !slices.Equal(got, want) {
						t.Fatalf("variant %d session %d call %d, part [%d:%d] of %d bytes: ids differ from a full encode", v, s, i, r[0], r[1], len(text))
					}
				}
				prev = text
			}
		}
	}
}

// BenchmarkGrowingSession compares encoding every prompt of a session in
// full with encoding them incrementally; bytes are the total prompt text, so
// MB/s compare directly. The ratio is bounded by total text / new text:
// 25 for calls50 (each call adds 2.4 KB), about 100 for calls200 (a 40 KB
// system prompt and tool schemas, then 600 bytes a call).
func BenchmarkGrowingSession(b *testing.B) {
	b.Run("calls50", func(b *testing.B) { benchSession(b, "", 50, 2400) })
	b.Run("calls200", func(b *testing.B) { benchSession(b, agentText(40000, 77), 200, 600) })
}

func benchSession(b *testing.B, system string, calls, turn int) {
	tok, err := New("bench", Llama31)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	var texts []string
	cur := system
	for i := 0; i < calls; i++ {
		cur += "\n" + agentText(turn, rng.Uint64())
		texts = append(texts, cur)
	}
	total := 0
	for _, t := range texts {
		total += len(t)
	}
	b.Run("full", func(b *testing.B) {
		b.SetBytes(int64(total))
		for b.Loop() {
			enc := tok.NewEncoder()
			for _, t := range texts {
				enc.Encode(t)
			}
		}
	})
	b.Run("incremental", func(b *testing.B) {
		b.SetBytes(int64(total))
		for b.Loop() {
			enc := tok.NewEncoder()
			var memo *tokenize.Memo
			for _, t := range texts {
				_, memo = enc.EncodeAfter(memo, t)
			}
		}
	})
}

// The text after a saved cut point decides whether the cut holds: for
// every offset k of a text, a new text that is the old one cut at k plus
// one character (of each class) encodes after the old memo exactly as a
// full encode does. A cut kept without its margin (the piece before it
// read a character past it) is found here.
func TestEncodeAfterEveryCut(t *testing.T) {
	tok, err := New("t", Llama31)
	if err != nil {
		t.Fatal(err)
	}
	full, inc := tok.NewEncoder(), tok.NewEncoder()
	text := "Thought: I'll call search(\"KV cache\") now.\n\n  Observation: 42 results; 東京 é's <|eot_id|> done's  \t end"
	_, memo := inc.EncodeAfter(nil, text)
	for k := 0; k <= len(text); k++ {
		for _, c := range []string{"a", " ", "'", "s", "\n", "4", ".", "東", "<"} {
			next := text[:k] + c
			want := full.Encode(next)
			got, _ := inc.EncodeAfter(memo, next)
			if !slices.Equal(got, want) {
				t.Fatalf("cut at %d + %q: incremental ids differ from a full encode", k, c)
			}
		}
	}
}

// FuzzAppendPart: the ids AppendPart gives for any part of a text that
// EncodeAfter encoded after an earlier text (the input's first half) are
// those of encoding the part alone.
func FuzzAppendPart(f *testing.F) {
	f.Add([]byte("You are a helpful assistant.\n<|eot_id|>user: what's 12345 + 678?\n\n  tool output: {\"a\": 1}"), uint16(3), uint16(60))
	f.Add([]byte(strings.Repeat("word's 123 \u00e9\u6771 <|eot_id|>\r\n", 40)), uint16(100), uint16(700))
	tok, err := New("fuzz", Llama31)
	if err != nil {
		f.Fatal(err)
	}
	full, inc := tok.NewEncoder(), tok.NewEncoder()
	f.Fuzz(func(t *testing.T, data []byte, a, b uint16) {
		text := strings.ToValidUTF8(string(data), "\uFFFD")
		if len(text) > 1<<14 {
			return
		}
		_, memo := inc.EncodeAfter(nil, text[:len(text)/2])
		_, memo = inc.EncodeAfter(memo, text)
		from, to := int(a)%(len(text)+1), int(b)%(len(text)+1)
		if from > to {
			from, to = to, from
		}
		for from > 0 && from < len(text) && !utf8.RuneStart(text[from]) {
			from--
		}
		for to < len(text) && !utf8.RuneStart(text[to]) {
			to++
		}
		if got, want := inc.AppendPart(nil, memo, from, to), full.Encode(text[from:to]); !slices.Equal(got, want) {
			t.Fatalf("%q [%d:%d]: AppendPart %v, Encode %v", text, from, to, got, want)
		}
	})
}
