package llama3

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/agent-trace/agent-trace/pkg/tokenize"
)

// goldenDirs are the folders of golden files: the repository's samples and,
// when set, $AGENTTRACE_GOLDEN (for example ../shared/golden, the full sets;
// a relative path is taken from the repository's root, where make runs).
func goldenDirs() []string {
	const root = "../../.."
	dirs := []string{filepath.Join(root, "testdata/golden/tokens")}
	if d := os.Getenv("AGENTTRACE_GOLDEN"); d != "" {
		if !filepath.IsAbs(d) {
			d = filepath.Join(root, d)
		}
		dirs = append(dirs, d)
	}
	return dirs
}

// variantOf tells which tokenizer a golden file was made with, from its name.
func variantOf(file string) Variant {
	if strings.Contains(file, "deepseek") {
		return DeepSeek
	}
	return Llama31 // llama-3.3, and the probes (same ids for both)
}

// TestGolden checks every text of the golden files against the ids the
// Hugging Face tokenizers library (Rust, 0.22.2) gives with
// add_special_tokens=False. Zero mismatches is the bar.
func TestGolden(t *testing.T) {
	encs := map[Variant]*tokenize.Encoder{}
	for _, dir := range goldenDirs() {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.jsonl.gz"))
		if len(paths) == 0 {
			t.Fatalf("no golden files (*.jsonl.gz) in %s", dir)
		}
		for _, path := range paths {
			v := variantOf(filepath.Base(path))
			if encs[v] == nil {
				tok, err := New("golden", v)
				if err != nil {
					t.Fatal(err)
				}
				encs[v] = tok.NewEncoder()
			}
			n, bad := checkGoldenFile(t, path, encs[v])
			t.Logf("%s: %d texts, %d mismatches", path, n, bad)
		}
	}
}

func checkGoldenFile(t *testing.T, path string, enc *tokenize.Encoder) (n, bad int) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<28)
	for sc.Scan() {
		var g struct {
			Text string `json:"text"`
			IDs  []int  `json:"ids"`
		}
		if err := json.Unmarshal(sc.Bytes(), &g); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		n++
		got := enc.Encode(g.Text)
		if !slices.Equal(got, g.IDs) {
			bad++
			if bad <= 5 {
				i := 0
				for i < len(got) && i < len(g.IDs) && got[i] == g.IDs[i] {
					i++
				}
				t.Errorf("%s line %d: first difference at id %d: got %v, want %v (text %q)",
					filepath.Base(path), n, i, window(got, i), window(g.IDs, i), abbrev(g.Text))
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return n, bad
}

func window(ids []int, i int) []int {
	lo, hi := max(0, i-2), min(len(ids), i+4)
	return ids[lo:hi]
}

func abbrev(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}
