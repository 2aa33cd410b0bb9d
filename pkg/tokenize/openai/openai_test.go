package openai

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/pkoukk/tiktoken-go"
	loader "github.com/pkoukk/tiktoken-go-loader"

	"agenttrace/pkg/tokenize"
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
