package llama3

import (
	"math/rand/v2"
	"testing"

	"github.com/agent-trace/agent-trace/pkg/tokenize/internal/agenttext"
)

// agentText returns about n bytes of agent-like text.
func agentText(n int, seed uint64) string { return agenttext.Make(n, seed) }

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
