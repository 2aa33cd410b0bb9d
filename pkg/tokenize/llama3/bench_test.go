package llama3

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// agentText returns about n bytes of non-repetitive agent-like text: prose,
// JSON tool output, code, numbers and some non-ASCII.
func agentText(n int, seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 1))
	words := strings.Fields(`the of and to in is for that with on as by this are from research agent
	tool call result search query cache prefix token latency throughput benchmark server GPU memory
	{"name": "web_search", "arguments": {"query": "kv cache"}} def return import if else for
	0.95 2025-06-01 10:00:03 128 4096 http://example.com/a?b=c résumé 東京 модель — ✓`)
	var b strings.Builder
	for b.Len() < n {
		w := words[rng.IntN(len(words))]
		if rng.IntN(7) == 0 {
			w = strings.ToUpper(w[:1]) + w[1:]
		}
		if rng.IntN(5) == 0 {
			w += string(rune('a' + rng.IntN(26)))
		}
		b.WriteString(w)
		switch rng.IntN(15) {
		case 0:
			b.WriteString(".\n\n")
		case 1:
			b.WriteString(", ")
		case 2:
			b.WriteString("\n    ")
		default:
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// BenchmarkEncodeAgentText: MB/s of the fast path on fresh (uncached) text.
func BenchmarkEncodeAgentText(b *testing.B) {
	tok, err := New("bench", Llama31)
	if err != nil {
		b.Fatal(err)
	}
	text := agentText(4<<20, 1)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		tok.NewEncoder().Encode(text)
	}
}

// BenchmarkEncodeLetterRun: one 1 MB run of letters, a single piece; the
// heap merge keeps it O(n log n).
func BenchmarkEncodeLetterRun(b *testing.B) {
	tok, err := New("bench", Llama31)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte('a' + rng.IntN(26))
	}
	text := string(buf)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		tok.NewEncoder().Encode(text)
	}
}

// BenchmarkTiktokenAgentText: tiktoken-go on the same text, the baseline.
func BenchmarkTiktokenAgentText(b *testing.B) {
	tk := tiktokenLlama3(b)
	text := agentText(1<<20, 1)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		tk.Encode(text, []string{"all"}, nil)
	}
}
