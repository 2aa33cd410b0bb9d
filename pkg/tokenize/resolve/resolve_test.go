package resolve

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/agent-trace/agent-trace/pkg/tokenize"
	"github.com/agent-trace/agent-trace/pkg/tokenize/hfbuiltin"
)

const tinyDir = "../../../testdata/tokenizers/tiny"

// env returns a Getenv over a map, so tests never read the real HOME cache.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// checkGolden encodes the texts of a golden.jsonl (ids from Hugging Face
// tokenizers) with tok.
func checkGolden(t *testing.T, tok *tokenize.Tokenizer, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	enc := tok.NewEncoder()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		var g struct {
			Text string
			IDs  []int
		}
		if err := json.Unmarshal(sc.Bytes(), &g); err != nil {
			t.Fatal(err)
		}
		n++
		if got := enc.Encode(g.Text); !slices.Equal(got, g.IDs) {
			t.Errorf("%s: %q = %v, Hugging Face gives %v", path, g.Text, got, g.IDs)
		}
	}
	if n == 0 {
		t.Fatal("empty golden file")
	}
}

func TestTinyTokenizersMatchHF(t *testing.T) {
	for _, dir := range []string{tinyDir, "../../../testdata/tokenizers/tiny-gpt2", "../../../testdata/tokenizers/tiny-nfc"} {
		tok, src, err := Resolve(context.Background(), dir, Options{Getenv: env(nil)})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(src), "file ") {
			t.Errorf("source %q", src)
		}
		checkGolden(t, tok, filepath.Join(dir, "golden.jsonl"))
	}
}

func TestBuiltinIsOffline(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("built-in name went to the network: %s", r.URL)
	}))
	defer srv.Close()
	tok, src, err := Resolve(context.Background(), "meta-llama/Llama-3.3-70B-Instruct", Options{Getenv: env(map[string]string{"HF_ENDPOINT": srv.URL})})
	if err != nil || src != "built-in" {
		t.Fatalf("%v %v", src, err)
	}
	if got := tok.NewEncoder().Encode(" <|eot_id|> "); !slices.Equal(got, []int{220, 128009, 220}) {
		t.Errorf("got %v", got)
	}
}

func TestCacheThenDownload(t *testing.T) {
	tiny, err := os.ReadFile(filepath.Join(tinyDir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	var hits []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits = append(hits, r.URL.Path+" "+r.Header.Get("Authorization"))
		switch r.URL.Path {
		case "/acme/tiny/resolve/main/tokenizer.json":
			w.Header().Set("X-Repo-Commit", "0123456789abcdef0123456789abcdef01234567")
			w.Write(tiny)
		case "/acme/gated/resolve/main/tokenizer.json":
			http.Error(w, "gated", http.StatusUnauthorized)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	cache := t.TempDir()
	e := map[string]string{"HF_HUB_CACHE": cache, "HF_ENDPOINT": srv.URL, "HF_TOKEN": "secret"}

	// First: downloaded into the cache, laid out as huggingface_hub does.
	tok, src, err := Resolve(context.Background(), "acme/tiny", Options{Getenv: env(e)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(src), "downloaded to ") || len(hits) != 1 || hits[0] != "/acme/tiny/resolve/main/tokenizer.json Bearer secret" {
		t.Fatalf("src %q, hits %v", src, hits)
	}
	ref, _ := os.ReadFile(filepath.Join(cache, "models--acme--tiny", "refs", "main"))
	if string(ref) != "0123456789abcdef0123456789abcdef01234567" {
		t.Errorf("refs/main = %q", ref)
	}
	checkGolden(t, tok, filepath.Join(tinyDir, "golden.jsonl"))

	// Second: from the cache, offline, no request.
	e["HF_HUB_OFFLINE"] = "1"
	_, src, err = Resolve(context.Background(), "acme/tiny", Options{Getenv: env(e)})
	if err != nil || !strings.HasPrefix(string(src), "Hugging Face cache ") || len(hits) != 1 {
		t.Fatalf("src %q err %v hits %v", src, err, hits)
	}

	// Offline and not cached: a clear error saying what was tried.
	_, _, err = Resolve(context.Background(), "acme/other", Options{Getenv: env(e)})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "HF_HUB_OFFLINE") || !strings.Contains(err.Error(), "Hugging Face cache: not in "+cache) {
		t.Errorf("offline miss: %v", err)
	}
	delete(e, "HF_HUB_OFFLINE")
	_, _, err = Resolve(context.Background(), "acme/gated", Options{Getenv: env(e)})
	if err == nil || !strings.Contains(err.Error(), "set HF_TOKEN") {
		t.Errorf("gated: %v", err)
	}
	_, _, err = Resolve(context.Background(), "acme/missing", Options{Getenv: env(e)})
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("missing: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cache, "models--acme--missing")); err == nil {
		t.Error("a failed download left files in the cache")
	}
}

func TestUnsupportedAndUnknown(t *testing.T) {
	dir := t.TempDir()
	wp := filepath.Join(dir, "tokenizer.json")
	os.WriteFile(wp, []byte(`{"model":{"type":"WordPiece","vocab":{}},"pre_tokenizer":{"type":"BertPreTokenizer"}}`), 0o644)
	if _, _, err := Resolve(context.Background(), dir, Options{Getenv: env(nil)}); !errors.Is(err, tokenize.ErrUnsupported) {
		t.Errorf("WordPiece: %v", err)
	}
	_, _, err := Resolve(context.Background(), "no such thing", Options{Getenv: env(nil)})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "built-in: not one of") {
		t.Errorf("unknown: %v", err)
	}
}

// gpt-oss names resolve offline to the built-in o200k_harmony.
func TestGptOssIsBuiltIn(t *testing.T) {
	for _, name := range []string{"openai/gpt-oss-20b", "openai/gpt-oss-120b", "o200k_harmony"} {
		tok, src, err := Resolve(context.Background(), name, Options{Getenv: env(map[string]string{"HF_HUB_OFFLINE": "1"})})
		if err != nil || src != "built-in" {
			t.Fatalf("%s: %v %v", name, src, err)
		}
		// The ids Hugging Face gives with gpt-oss's own tokenizer.json.
		if got := tok.NewEncoder().Encode("<|start|>user<|message|>hi<|end|>"); !slices.Equal(got, []int{200006, 1428, 200008, 3686, 200007}) {
			t.Errorf("%s: got %v", name, got)
		}
	}
}

func TestInfer(t *testing.T) {
	for _, tc := range []struct {
		models []string
		want   string
	}{
		{[]string{"meta/llama-3.3-70b-instruct"}, "meta-llama/Llama-3.3-70B-Instruct"},
		{[]string{"gpt-4o", "nvidia/Llama-3.1-8B-Instruct"}, "meta-llama/Llama-3.1-8B-Instruct"},
		{[]string{"meta/llama-3-70b"}, "meta-llama/Meta-Llama-3-70B-Instruct"},
		{[]string{"deepseek-ai/deepseek-r1-distill-llama-70b"}, "deepseek-ai/DeepSeek-R1-Distill-Llama-70B"},
		{[]string{"gpt-5.2"}, DefaultTokenizer},
		{[]string{"openai/gpt-oss-20b"}, "openai/gpt-oss-120b"}, // same tokenizer, built in
		{[]string{"qwen/qwen3-235b-a22b"}, "Qwen/Qwen3-8B"},
		{[]string{"deepseek-ai/deepseek-v3-0324"}, "deepseek-ai/DeepSeek-V3"},
		{nil, DefaultTokenizer},
	} {
		if got, reason := Infer(tc.models); got != tc.want || reason == "" {
			t.Errorf("Infer(%v) = %s (%s), want %s", tc.models, got, reason, tc.want)
		}
	}
}

// Qwen3 and DeepSeek-V3 names resolve offline to their embedded
// tokenizer.json; the ids are what Hugging Face tokenizers 0.22.2 gives with
// those files (testdata/tokenizers/families checks the same tokenizers, cut,
// on 1,280 texts).
func TestEmbeddedFamilies(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		want []int
	}{
		{"Qwen/Qwen3-8B", "<|im_start|>user\nHello, world!<|im_end|>", []int{151644, 872, 198, 9707, 11, 1879, 0, 151645}},
		{"Qwen/Qwen3-235B-A22B-Instruct-2507", "<think>\n\n</think>", []int{151667, 271, 151668}},
		{"deepseek-ai/DeepSeek-V3", "Hello, world! 12345", []int{19923, 14, 2058, 3, 223, 6895, 1883}},
	} {
		tok, src, err := Resolve(context.Background(), tc.name, Options{Getenv: env(map[string]string{"HF_HUB_OFFLINE": "1"})})
		if err != nil || src != "built-in" {
			t.Fatalf("%s: %v %v", tc.name, src, err)
		}
		if got := tok.NewEncoder().Encode(tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("%s %q: got %v, want %v", tc.name, tc.text, got, tc.want)
		}
	}
	for _, name := range []string{"Qwen/Qwen3-VL-8B-Instruct", "Qwen/Qwen2.5-7B-Instruct", "deepseek-ai/DeepSeek-V3.1"} {
		if _, ok := hfbuiltin.Lookup(name); ok {
			t.Errorf("%s: built in, but its tokenizer may differ", name)
		}
	}
}
