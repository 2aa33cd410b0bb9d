package synthtext

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agent-trace/agent-trace/pkg/tokenize"
	"github.com/agent-trace/agent-trace/pkg/tokenize/resolve"
)

// builtins are the built-in tokenizers every stand-in must suit.
var builtins = []string{
	"meta-llama/Llama-3.3-70B-Instruct",
	"meta-llama/Meta-Llama-3-8B",
	"deepseek-ai/DeepSeek-R1-Distill-Llama-8B",
	"cl100k_base",
	"o200k_base",
}

func load(t *testing.T, name string) *tokenize.Tokenizer {
	t.Helper()
	tok, _, err := resolve.Resolve(context.Background(), name, resolve.Options{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// wordsTokenizer writes a byte-level BPE tokenizer.json whose merges build
// the first n words of the list, alone and after a space (Ġ), on the
// pattern of testdata/tokenizers/tiny-gpt2, and loads it through the
// tokenizer.json path.
func wordsTokenizer(t *testing.T, n int) *tokenize.Tokenizer {
	t.Helper()
	raw, err := os.ReadFile("../../testdata/tokenizers/tiny-gpt2/tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	var tj map[string]any
	if err := json.Unmarshal(raw, &tj); err != nil {
		t.Fatal(err)
	}
	model := tj["model"].(map[string]any)
	vocab := map[string]any{}
	for k, v := range model["vocab"].(map[string]any) {
		if v.(float64) < 256 {
			vocab[k] = v
		}
	}
	var merges []string
	add := func(a, b string) {
		if _, ok := vocab[a+b]; ok {
			return
		}
		merges = append(merges, a+" "+b)
		vocab[a+b] = float64(len(vocab))
	}
	for _, w := range strings.Fields(wordList)[:n] {
		for _, s := range []string{w, "Ġ" + w} {
			r := []rune(s)
			cur := string(r[0])
			for _, c := range r[1:] {
				add(cur, string(c))
				cur += string(c)
			}
		}
	}
	model["vocab"], model["merges"] = vocab, merges
	tj["added_tokens"] = []any{map[string]any{"id": len(vocab), "content": "<|end|>", "special": true}}
	out, err := json.Marshal(tj)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return load(t, path)
}

// recorded returns n made-up recorded ids.
func recorded(r *rand.Rand, n int) []int {
	ids := make([]int, n)
	for i := range ids {
		ids[i] = r.IntN(100000)
	}
	return ids
}

// Every stand-in encodes to exactly as many tokens as the recorded ids it
// stands for, for every built-in tokenizer, a tokenizer.json, and any
// block size; the text is made of list words only.
func TestTokenCounts(t *testing.T) {
	toks := map[string]*tokenize.Tokenizer{"tokenizer.json": wordsTokenizer(t, 600)}
	for _, name := range builtins {
		toks[name] = load(t, name)
	}
	list := map[string]bool{}
	for _, w := range strings.Fields(wordList) {
		list[w] = true
	}
	for name, tok := range toks {
		t.Run(filepath.Base(name), func(t *testing.T) {
			enc := tok.NewEncoder()
			r := rand.New(rand.NewPCG(1, uint64(len(name))))
			for _, bs := range []int{1, 7, 16, 64} {
				g, err := New(tok, bs)
				if err != nil {
					t.Fatal(err)
				}
				if g.Words() < minWords {
					t.Fatalf("%d words", g.Words())
				}
				key := Root
				for range 60 {
					ids := recorded(r, r.IntN(300))
					if r.IntN(10) == 0 {
						ids = ids[:r.IntN(3)]
					}
					var text []byte
					text, key = g.Append(nil, Start(key, "user"), ids)
					if got := len(enc.Encode(string(text))); got != len(ids) {
						t.Fatalf("block size %d: %d recorded ids, stand-in encodes to %d: %q", bs, len(ids), got, text)
					}
					for _, w := range strings.Fields(string(text)) {
						if !list[w] {
							t.Fatalf("%q is not a list word", w)
						}
					}
				}
			}
		})
	}
}

// Stand-ins share a prefix exactly as far as the recorded ids do, to the
// block: the words of the blocks before the first differing id are equal,
// the block holding it differs.
func TestSharedPrefixes(t *testing.T) {
	tok := load(t, "meta-llama/Llama-3.3-70B-Instruct")
	r := rand.New(rand.NewPCG(2, 3))
	for _, bs := range []int{1, 4, 16, 64} {
		g, err := New(tok, bs)
		if err != nil {
			t.Fatal(err)
		}
		for range 300 {
			n := 1 + r.IntN(400)
			a := recorded(r, n)
			b := append([]int(nil), a...)
			p := r.IntN(n) // the first id that differs
			b[p]++
			if r.IntN(3) == 0 { // and b may go on differently
				b = append(b[:p+1], recorded(r, r.IntN(50))...)
			}
			start := Start(Root, "system")
			ta, _ := g.Append(nil, start, a)
			tb, _ := g.Append(nil, start, b)
			wa, wb := strings.Fields(string(ta)), strings.Fields(string(tb))
			same := (p / bs) * bs
			for i := range same {
				if wa[i] != wb[i] {
					t.Fatalf("bs %d: ids equal up to %d, words differ at %d", bs, p, i)
				}
			}
			// The block holding p differs (in at least one word).
			end := min(same+bs, len(wa), len(wb))
			if bs >= 4 && end-same >= 4 && strings.Join(wa[same:end], " ") == strings.Join(wb[same:end], " ") {
				t.Fatalf("bs %d: ids differ at %d, block %d has the same words", bs, p, same/bs)
			}
		}
	}
}

// What comes before a message decides its stand-in: the same ids after
// other messages, or with another role, get other words; the same
// conversation gets the same bytes from any Generator.
func TestConversationKeys(t *testing.T) {
	tok := load(t, "cl100k_base")
	g1, err := New(tok, 16)
	if err != nil {
		t.Fatal(err)
	}
	g2, err := New(tok, 16)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(4, 5))
	sys, user := recorded(r, 40), recorded(r, 40)
	conv := func(g *Generator, sys []int, role string) string {
		t1, k := g.Append(nil, Start(Root, "system"), sys)
		t2, _ := g.Append(nil, Start(k, role), user)
		return string(t1) + "|" + string(t2)
	}
	a := conv(g1, sys, "user")
	if b := conv(g2, sys, "user"); a != b {
		t.Fatal("the same conversation gave two stand-ins")
	}
	other := append([]int(nil), sys...)
	other[39]++
	b := conv(g1, other, "user")
	if strings.Split(a, "|")[1] == strings.Split(b, "|")[1] {
		t.Error("the same message after another system message got the same words")
	}
	if c := conv(g1, sys, "tool"); strings.Split(a, "|")[1] == strings.Split(c, "|")[1] {
		t.Error("the same message with another role got the same words")
	}
	// An empty message keeps the key: the next message is as if it were
	// not there, but its role still counts.
	t1, k1 := g1.Append(nil, Start(Root, "user"), nil)
	if len(t1) != 0 || k1 != Start(Root, "user") {
		t.Errorf("empty message: %q, key changed", t1)
	}
}

// A tokenizer that cannot make exact stand-ins is refused, not used: one
// that keeps too few words, and one whose words do not encode one by one.
func TestRefused(t *testing.T) {
	if _, err := New(wordsTokenizer(t, 100), 16); err == nil || !strings.Contains(err.Error(), "cannot make synthetic text") {
		t.Errorf("100-word tokenizer: %v", err)
	}
	if _, err := New(load(t, "../../testdata/tokenizers/tiny"), 16); err == nil {
		t.Error("tiny tokenizer accepted")
	}
	if _, err := New(load(t, "cl100k_base"), 0); err == nil {
		t.Error("block size 0 accepted")
	}
}

// An arguments stand-in is a JSON object of exactly as many tokens as the
// recorded arguments (for arguments longer than the object around the
// words; shorter ones are {}), for every built-in tokenizer and a
// tokenizer.json; equal recorded ids give equal stand-ins and keys.
func TestArguments(t *testing.T) {
	toks := map[string]*tokenize.Tokenizer{"tokenizer.json": wordsTokenizer(t, 600)}
	for _, name := range builtins {
		toks[name] = load(t, name)
	}
	for name, tok := range toks {
		t.Run(filepath.Base(name), func(t *testing.T) {
			enc := tok.NewEncoder()
			g, err := New(tok, 16)
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(3, uint64(len(name))))
			exact := 0
			for n := range 120 {
				ids := recorded(r, n)
				text, key := g.AppendArguments(nil, Root, ids)
				again, key2 := g.AppendArguments(nil, Root, ids)
				if string(again) != string(text) || key != key2 {
					t.Fatal("not deterministic")
				}
				if g.argsCost >= 0 {
					var v map[string]any
					if err := json.Unmarshal(text, &v); err != nil {
						t.Fatalf("%d ids: not a JSON object: %q", n, text)
					}
				}
				if n > max(g.argsCost, 0) || g.argsCost < 0 {
					if got := len(enc.Encode(string(text))); got != n {
						t.Fatalf("%d recorded ids, stand-in encodes to %d: %q", n, got, text)
					}
					exact++
				} else if string(text) != "{}" {
					t.Fatalf("%d ids (JSON costs %d): %q, want {}", n, g.argsCost, text)
				}
			}
			if g.argsCost < 0 {
				t.Logf("words alone: the JSON object does not encode word by word")
			}
			if exact < 100 {
				t.Fatalf("only %d of 120 exact (JSON costs %d tokens)", exact, g.argsCost)
			}
		})
	}
}

// Tool descriptions become stand-ins of as many tokens; everything else of
// the tools list is kept, in its order.
func TestTools(t *testing.T) {
	tok := load(t, "meta-llama/Llama-3.3-70B-Instruct")
	enc := tok.NewEncoder()
	g, err := New(tok, 16)
	if err != nil {
		t.Fatal(err)
	}
	raw := `[{"type":"function","function":{"name":"web_search","description":"Search the web for \"secret\" pages.","parameters":{"type":"object","properties":{"query":{"type":"string","description":"What to look for, in secret words"},"description":{"type":"string"}},"required":["query"]}}}]`
	out, err := g.AppendTools(nil, []byte(raw), enc.Encode)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "secret") {
		t.Fatalf("a description was kept: %s", out)
	}
	var in, got []any
	if err := json.Unmarshal([]byte(raw), &in); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("not JSON: %s", out)
	}
	fin := in[0].(map[string]any)["function"].(map[string]any)
	fgot := got[0].(map[string]any)["function"].(map[string]any)
	count := func(v any) int { return len(enc.Encode(v.(string))) }
	if fgot["name"] != "web_search" || count(fgot["description"]) != count(fin["description"]) {
		t.Fatalf("function: %v", fgot)
	}
	pin := fin["parameters"].(map[string]any)["properties"].(map[string]any)
	pgot := fgot["parameters"].(map[string]any)["properties"].(map[string]any)
	if count(pgot["query"].(map[string]any)["description"]) != count(pin["query"].(map[string]any)["description"]) {
		t.Fatalf("parameter: %v", pgot)
	}
	// A parameter named "description" is a key, not a description.
	if _, ok := pgot["description"].(map[string]any); !ok {
		t.Fatalf("the property named description: %v", pgot)
	}
	again, _ := g.AppendTools(nil, []byte(raw), enc.Encode)
	if string(again) != string(out) {
		t.Fatal("not deterministic")
	}
	// Key order kept: only the description values changed.
	if !strings.HasPrefix(string(out), `[{"type":"function","function":{"name":"web_search","description":"`) {
		t.Fatalf("order: %s", out)
	}
}

// Append draws the words the plain algorithm draws (splitmix64 over each
// block's key, word z mod n, joined by spaces), whichever way it writes
// them: packed 8-byte stores or appends, a mask or a division, after text
// already in dst.
func TestAppendWordChoice(t *testing.T) {
	plain := func(g *Generator, dst []byte, start Key, ids []int) ([]byte, Key) {
		key := start
		for i := 0; i < len(ids); i += g.blockSize {
			block := ids[i:min(i+g.blockSize, len(ids))]
			key, _ = blockKey(nil, key, block)
			s := key.Lo ^ key.Hi
			for j := range block {
				s += 0x9e3779b97f4a7c15
				z := s
				z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
				z = (z ^ (z >> 27)) * 0x94d049bb133111eb
				z ^= z >> 31
				if i+j > 0 {
					dst = append(dst, ' ')
				}
				dst = append(dst, g.words[z%uint64(len(g.words))]...)
			}
		}
		return dst, key
	}
	llama, err := New(load(t, "meta-llama/Llama-3.3-70B-Instruct"), 16)
	if err != nil {
		t.Fatal(err)
	}
	odd := *llama // packed words, not a power of two
	odd.words = odd.words[:len(odd.words)-3]
	odd.packed, odd.lens = nil, nil
	odd.packWords()
	unpacked, err := New(wordsTokenizer(t, 600), 16)
	if err != nil {
		t.Fatal(err)
	}
	if llama.packed == nil || odd.packed == nil || unpacked.packed != nil {
		t.Fatal("the generators do not take the three paths")
	}
	r := rand.New(rand.NewPCG(7, 8))
	for name, g := range map[string]*Generator{"packed, mask": llama, "packed, division": &odd, "appended, division": unpacked} {
		for range 200 {
			ids := recorded(r, r.IntN(100))
			head := []byte("before ")
			got, gk := g.Append(append([]byte{}, head...), Start(Root, "user"), ids)
			want, wk := plain(g, append([]byte{}, head...), Start(Root, "user"), ids)
			if !bytes.Equal(got, want) || gk != wk {
				t.Fatalf("%s: %d ids: got %q, want %q", name, len(ids), got, want)
			}
		}
	}
}
