package openai

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/pkoukk/tiktoken-go"
	loader "github.com/pkoukk/tiktoken-go-loader"

	"github.com/agent-trace/agent-trace/pkg/tokenize"
)

// texts mixes agent-like prose, code, JSON, numbers, white-space runs,
// contractions, special tokens and non-Latin scripts.
func texts() []string {
	rng := rand.New(rand.NewPCG(3, 3))
	pieces := []string{"The ", "agent's ", "results", " DON'T ", "we'll", "  ", "\n\n", "\r\n", "\t", "1234567", " 3.14", "{\"k\": [1, 2]}",
		"def f(x):\n    return x", "東京の", "данные ", "résumé", "🙂", "—", "<|endoftext|>", "<|endofprompt|>", "<|fim_prefix|>", "HTTPServer", "iPhone", "camelCaseWord", "https://example.com/a?b=c", "   \n  x"}
	var out []string
	for i := 0; i < 3000; i++ {
		var b strings.Builder
		for n := rng.IntN(30); n >= 0; n-- {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		out = append(out, b.String())
	}
	return out
}

// Both encodings against tiktoken-go on the same rank files, with every
// special token allowed.
func TestMatchesTiktoken(t *testing.T) {
	tiktoken.SetBpeLoader(loader.NewOfflineLoader())
	for _, name := range Encodings {
		ref, err := tiktoken.GetEncoding(name)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := New(name)
		if err != nil {
			t.Fatal(err)
		}
		enc := tok.NewEncoder()
		for _, text := range texts() {
			if newer(text) {
				continue
			}
			if got, want := enc.Encode(text), ref.Encode(text, []string{"all"}, nil); !slices.Equal(got, want) {
				t.Fatalf("%s %q: got %v, tiktoken %v", name, text, got, want)
			}
		}
	}
}

func newer(s string) bool {
	for _, r := range s {
		if tokenize.NewerThanGo(r) {
			return true
		}
	}
	return false
}

// o200k_harmony (the built-in for openai/gpt-oss-*) gives the ids Hugging
// Face tokenizers 0.22.2 gives with gpt-oss's own tokenizer.json
// (testdata/tokenizers/gpt-oss.golden.jsonl.gz: edge cases, Unicode fuzz,
// agent text, code-point probes and harmony chat turns).
func TestHarmonyMatchesHF(t *testing.T) {
	enc, ok := Lookup("openai/gpt-oss-120b")
	if !ok || enc != "o200k_harmony" {
		t.Fatalf("Lookup: %q %v", enc, ok)
	}
	tok, err := New(enc)
	if err != nil {
		t.Fatal(err)
	}
	e := tok.NewEncoder()
	f, err := os.Open("../../../testdata/tokenizers/gpt-oss.golden.jsonl.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<24)
	n, bad := 0, 0
	for sc.Scan() {
		var g struct {
			Text string
			IDs  []int `json:"ids"`
		}
		if err := json.Unmarshal(sc.Bytes(), &g); err != nil {
			t.Fatal(err)
		}
		n++
		if got := e.Encode(g.Text); !slices.Equal(got, g.IDs) {
			if bad++; bad <= 3 {
				t.Errorf("line %d: got %d ids, Hugging Face %d (text %.80q)", n, len(got), len(g.IDs), g.Text)
			}
		}
	}
	if n < 400 {
		t.Fatalf("%d texts", n)
	}
	t.Logf("%d texts, %d mismatches", n, bad)
}

// Every built-in pattern runs on a hand-written scanner.
func TestHandWritten(t *testing.T) {
	for _, name := range []string{"cl100k_base", "o200k_base", "o200k_harmony"} {
		s, err := Spec(name)
		if err != nil {
			t.Fatal(err)
		}
		if !tokenize.HandWritten(s.Patterns) {
			t.Errorf("%s: pattern runs on the regex engine", name)
		}
	}
}
