package tokenize

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agent-trace/agent-trace/pkg/tokenize/internal/agenttext"
)

// benchFamilies returns the tokenizers to benchmark: the full ones in
// $AGENTTRACE_FAMILIES when set (the speed users see), else the cut ones
// of testdata (smaller vocabularies: more, shorter tokens).
func benchFamilies(b *testing.B) map[string]*Tokenizer {
	dir := os.Getenv("AGENTTRACE_FAMILIES")
	if dir == "" {
		dir = "../../testdata/tokenizers/families"
	} else if !filepath.IsAbs(dir) {
		dir = filepath.Join("../..", dir)
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "*.tokenizer.json"))
	out := map[string]*Tokenizer{}
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".tokenizer.json")
		if strings.HasPrefix(name, "tiny") {
			continue
		}
		out[name] = loadFamily(b, p, nil)
	}
	if len(out) == 0 {
		b.Fatalf("no tokenizers in %s", dir)
	}
	return out
}

// BenchmarkFamilies: MB/s of each family on 4 MB of fresh agent text, and on
// 1 MB pathological runs (one long word of letters; marks; white space
// with text after each run; control characters, which DeepSeek V3's
// pattern leaves unmatched).
func BenchmarkFamilies(b *testing.B) {
	toks := benchFamilies(b)
	rng := rand.New(rand.NewPCG(5, 5))
	run := func(alphabet []rune) string {
		var sb strings.Builder
		for sb.Len() < 1<<20 {
			sb.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		return sb.String()
	}
	texts := []struct{ name, text string }{
		{"agent", agenttext.Make(4<<20, 1)},
		{"letters", run([]rune("abcdefghijklmnopqrstuvwxyz"))},
		{"marks", run([]rune("中\u0301\u0316ÅǅA"))},
		{"spaces", strings.Repeat("     \t  x", 1<<17)},
		{"controls", run([]rune("\x01\x02\x7f\u200b"))},
	}
	for _, name := range []string{"qwen3", "gptoss", "gpt4o", "deepseek_v3", "gpt35turbo", "gpt2", "llama2", "gemma3", "llama2-metaspace-always-split"} {
		tok := toks[name]
		if tok == nil {
			continue
		}
		for _, tx := range texts {
			b.Run(name+"/"+tx.name, func(b *testing.B) {
				b.SetBytes(int64(len(tx.text)))
				for b.Loop() {
					tok.NewEncoder().Encode(tx.text)
				}
			})
		}
	}
}

// BenchmarkSplitLlama3: MB/s of the Llama 3 pre-tokenizer alone on agent
// text (a fifth of trace-tokenize's time on the telemetry bench trace).
func BenchmarkSplitLlama3(b *testing.B) {
	text := agenttext.Make(4<<20, 1)
	b.SetBytes(int64(len(text)))
	var ends []int
	for b.Loop() {
		ends = splitLlama3(text, ends[:0])
	}
}
