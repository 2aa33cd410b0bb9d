package tokenize

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// familyDirs are the folders of tokenizer families to check against Hugging
// Face: the repository's small ones (testdata/tokenizers/families: the real
// normalizer and pre-tokenizer of each family, a vocabulary cut to its first
// merges) and, when set, $AGENTTRACE_FAMILIES (full tokenizers and golden
// sets; a relative path is taken from the repository's root). Each family is
// NAME.tokenizer.json beside NAME.golden.jsonl or NAME.golden.jsonl.gz, or
// NAME.*.golden.jsonl[.gz] for several sets: one {"text", "ids"} per line,
// the ids Hugging Face tokenizers gives with add_special_tokens=False. A
// line with no text takes the text of the same line of the folder's
// texts.jsonl.gz, which the families there share.
func familyDirs() []string {
	const root = "../.."
	dirs := []string{filepath.Join(root, "testdata/tokenizers/families")}
	if d := os.Getenv("AGENTTRACE_FAMILIES"); d != "" {
		if !filepath.IsAbs(d) {
			d = filepath.Join(root, d)
		}
		dirs = append(dirs, d)
	}
	return dirs
}

// TestFamiliesMatchHF encodes every golden text of every family and wants
// Hugging Face's ids exactly: zero mismatches is the bar.
func TestFamiliesMatchHF(t *testing.T) {
	for _, dir := range familyDirs() {
		toks, _ := filepath.Glob(filepath.Join(dir, "*.tokenizer.json"))
		if len(toks) == 0 {
			t.Fatalf("no tokenizers (*.tokenizer.json) in %s", dir)
		}
		for _, tokPath := range toks {
			name := strings.TrimSuffix(filepath.Base(tokPath), ".tokenizer.json")
			t.Run(name, func(t *testing.T) {
				tok := loadFamily(t, tokPath, nil)
				enc := tok.NewEncoder()
				var sets []string
				for _, pat := range []string{".golden.jsonl", ".golden.jsonl.gz", ".*.golden.jsonl", ".*.golden.jsonl.gz"} {
					m, _ := filepath.Glob(filepath.Join(dir, name+pat))
					sets = append(sets, m...)
				}
				if len(sets) == 0 {
					t.Fatalf("no golden set for %s", tokPath)
				}
				for _, set := range sets {
					n, bad := checkFamilySet(t, set, enc)
					t.Logf("%s: %d texts, %d mismatches", filepath.Base(set), n, bad)
				}
			})
		}
	}
}

// jsonLines calls each with every line of a JSONL file (gzipped when its
// name ends in .gz).
func jsonLines(t *testing.T, path string, each func(line []byte)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<28)
	for sc.Scan() {
		each(sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// sharedTexts returns the texts of dir's texts.jsonl.gz, or nil.
func sharedTexts(t *testing.T, dir string) []string {
	path := filepath.Join(dir, "texts.jsonl.gz")
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	var texts []string
	jsonLines(t, path, func(line []byte) {
		var g struct{ Text string }
		if err := json.Unmarshal(line, &g); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		texts = append(texts, g.Text)
	})
	return texts
}

type goldenLine struct {
	Text *string `json:"text"`
	IDs  []int   `json:"ids"`
}

// goldenSet returns the texts and ids of a golden set.
func goldenSet(t *testing.T, path string) (texts []string, ids [][]int) {
	var shared []string
	jsonLines(t, path, func(line []byte) {
		var g goldenLine
		if err := json.Unmarshal(line, &g); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if g.Text == nil {
			if shared == nil {
				shared = sharedTexts(t, filepath.Dir(path))
			}
			if len(texts) >= len(shared) {
				t.Fatalf("%s line %d has no text, and texts.jsonl.gz beside it no line %d", path, len(texts)+1, len(texts)+1)
			}
			g.Text = &shared[len(texts)]
		}
		texts = append(texts, *g.Text)
		ids = append(ids, g.IDs)
	})
	return texts, ids
}

func checkFamilySet(t *testing.T, path string, enc *Encoder) (n, bad int) {
	texts, want := goldenSet(t, path)
	for i, text := range texts {
		g := struct {
			Text string
			IDs  []int
		}{text, want[i]}
		n++
		got := enc.Encode(g.Text)
		if !slices.Equal(got, g.IDs) {
			bad++
			if bad <= 5 {
				i := 0
				for i < len(got) && i < len(g.IDs) && got[i] == g.IDs[i] {
					i++
				}
				lo := max(0, i-2)
				t.Errorf("%s line %d: first difference at id %d: got %v, want %v (text %q)",
					filepath.Base(path), n, i, got[lo:min(len(got), i+4)], g.IDs[lo:min(len(g.IDs), i+4)], shorten(g.Text))
			}
		}
	}
	if n == 0 {
		t.Errorf("%s: empty golden set", path)
	}
	return n, bad
}

func shorten(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}

// loadFamily builds the tokenizer of a tokenizer.json, named by the file,
// after edit (when not nil) has changed its parsed spec.
func loadFamily(t testing.TB, path string, edit func(*Spec)) *Tokenizer {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := ParseJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(spec)
	}
	tok, err := New(strings.TrimSuffix(filepath.Base(path), ".tokenizer.json"), spec)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
