// Package agenttext makes agent-like text for the tokenizers' tests and
// benchmarks.
package agenttext

import (
	"math/rand/v2"
	"strings"
)

// Make returns about n bytes of non-repetitive agent-like text: prose,
// JSON tool output, code, numbers and some non-ASCII, the same for the
// same seed.
func Make(n int, seed uint64) string {
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
