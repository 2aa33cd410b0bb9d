// Package resolve finds the tokenizer a name stands for: a built-in one, a
// local tokenizer.json, the Hugging Face cache, or a download from the hub.
package resolve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/agent-trace/agent-trace/pkg/hfhub"
	"github.com/agent-trace/agent-trace/pkg/tokenize"
	"github.com/agent-trace/agent-trace/pkg/tokenize/hfbuiltin"
	"github.com/agent-trace/agent-trace/pkg/tokenize/llama3"
	"github.com/agent-trace/agent-trace/pkg/tokenize/openai"
)

// DefaultTokenizer is the reference's default when the model says nothing.
const DefaultTokenizer = "deepseek-ai/DeepSeek-R1-Distill-Llama-8B"

// modelPatterns is the reference's mapping from a lower-cased model name
// substring to a tokenizer, extended with DeepSeek-R1-Distill-Llama,
// gpt-oss, Qwen3 and DeepSeek-V3 (all built in, offline).
var modelPatterns = []struct{ substr, tokenizer string }{
	{"llama-3.3-70b", "meta-llama/Llama-3.3-70B-Instruct"},
	{"llama-3.1-70b", "meta-llama/Llama-3.1-70B-Instruct"},
	{"llama-3.1-8b", "meta-llama/Llama-3.1-8B-Instruct"},
	{"llama-3-70b", "meta-llama/Meta-Llama-3-70B-Instruct"},
	{"llama-3-8b", "meta-llama/Meta-Llama-3-8B-Instruct"},
	{"deepseek-r1-distill-llama-70b", "deepseek-ai/DeepSeek-R1-Distill-Llama-70B"},
	{"deepseek-r1-distill-llama", DefaultTokenizer},
	{"gpt-oss", "openai/gpt-oss-120b"},
	{"qwen3", "Qwen/Qwen3-8B"},
	{"deepseek-v3", "deepseek-ai/DeepSeek-V3"},
}

// Known returns the tokenizer a model name maps to, and whether it maps to
// one (rather than the default).
func Known(model string) (tokenizer string, ok bool) {
	lm := strings.ToLower(model)
	for _, p := range modelPatterns {
		if strings.Contains(lm, p.substr) {
			return p.tokenizer, true
		}
	}
	return "", false
}

// Infer picks a tokenizer from the models of the first calls, as the
// reference does: the first model (in order) whose lower-cased name
// contains a known pattern decides; with none, DefaultTokenizer. reason
// says why, for the user.
func Infer(models []string) (name, reason string) {
	for _, m := range models {
		lm := strings.ToLower(m)
		for _, p := range modelPatterns {
			if strings.Contains(lm, p.substr) {
				return p.tokenizer, fmt.Sprintf("model %q contains %q", m, p.substr)
			}
		}
	}
	if len(models) == 0 {
		return DefaultTokenizer, "no model name in the first records: the default"
	}
	return DefaultTokenizer, fmt.Sprintf("no known model among %q: the default", dedupe(models))
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] && len(out) < 5 {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// Source says where a tokenizer was found.
type Source string

// Options configure Resolve.
type Options struct {
	Getenv hfhub.Env    // default os.Getenv
	Client *http.Client // default http.DefaultClient
}

// ErrNotFound is wrapped by Resolve's error when the name resolves nowhere.
var ErrNotFound = errors.New("tokenizer not found")

// Resolve returns the tokenizer name stands for, trying in order: a
// built-in tokenizer (offline and exact), a local tokenizer.json file or a
// folder holding one, the Hugging Face cache, and a download from the hub.
func Resolve(ctx context.Context, name string, o Options) (*tokenize.Tokenizer, Source, error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Client == nil {
		o.Client = http.DefaultClient
	}
	if v, ok := llama3.Lookup(name); ok {
		t, err := llama3.New(name, v)
		return t, "built-in", err
	}
	if enc, ok := openai.Lookup(name); ok {
		t, err := openai.New(enc)
		return t, "built-in", err
	}
	if file, ok := hfbuiltin.Lookup(name); ok {
		data, err := hfbuiltin.TokenizerJSON(file)
		if err != nil {
			return nil, "", err
		}
		t, err := fromData(name, "built-in "+file, data, o.Getenv)
		return t, "built-in", err
	}
	tried := []string{"built-in: not one of " + strings.Join(builtinNames(), ", ")}
	if st, err := os.Stat(name); err == nil {
		path := name
		if st.IsDir() {
			path = filepath.Join(name, "tokenizer.json")
		}
		t, err := fromFile(name, path, o.Getenv)
		return t, Source("file " + path), err
	}
	tried = append(tried, "file: no such file or folder "+name)
	if !hfhub.IsRepoName(name) {
		return nil, "", fmt.Errorf("%w: %q (tried %s); give a built-in name, a tokenizer.json path, or a Hugging Face repo ORG/NAME",
			ErrNotFound, name, strings.Join(tried, "; "))
	}
	if p, ok := hfhub.Cached(o.Getenv, name); ok {
		t, err := fromFile(name, p, o.Getenv)
		return t, Source("Hugging Face cache " + p), err
	}
	tried = append(tried, "Hugging Face cache: not in "+hfhub.CacheDir(o.Getenv))
	p, err := hfhub.Download(ctx, o.Getenv, o.Client, name)
	if err != nil {
		tried = append(tried, "download: "+err.Error())
		return nil, "", fmt.Errorf("%w: %q (tried %s); put its tokenizer.json in the cache (huggingface-cli download %s tokenizer.json) or pass its path",
			ErrNotFound, name, strings.Join(tried, "; "), name)
	}
	t, err := fromFile(name, p, o.Getenv)
	return t, Source("downloaded to " + p), err
}

func fromFile(name, path string, getenv hfhub.Env) (*tokenize.Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return fromData(name, path, data, getenv)
}

// fromData builds the tokenizer of a tokenizer.json's content (from where
// says where it came from, for errors).
func fromData(name, where string, data []byte, getenv hfhub.Env) (*tokenize.Tokenizer, error) {
	// A tokenizer.json compiled before loads from the cache in a few
	// milliseconds; parsing and building one takes a few hundred.
	sum := sha256.Sum256(data)
	cached := compiledPath(getenv, sum)
	if cached != "" {
		if blob, err := os.ReadFile(cached); err == nil {
			if spec, err := tokenize.UnmarshalCompiled(blob); err == nil {
				if t, err := tokenize.New(name, spec); err == nil {
					return t, nil
				}
			}
		}
	}
	spec, err := tokenize.ParseJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	t, err := tokenize.New(name, spec)
	if err == nil && cached != "" {
		writeCompiled(cached, tokenize.MarshalCompiled(spec, t))
	}
	return t, err
}

// compiledVersion changes when the compiled form or the tokenizer's
// behaviour changes: an older cache file is then not found, and rebuilt.
const compiledVersion = "v4"

// compiledPath is where the compiled form of the tokenizer.json whose
// SHA-256 is sum is cached: $AGENTTRACE_CACHE_DIR, else $XDG_CACHE_HOME,
// else ~/.cache, then agent-trace/tokenizers/. "" when there is no such
// folder to use (AGENTTRACE_CACHE_DIR=off turns the cache off).
func compiledPath(getenv hfhub.Env, sum [32]byte) string {
	dir := getenv("AGENTTRACE_CACHE_DIR")
	switch {
	case dir == "off":
		return ""
	case dir != "":
	case getenv("XDG_CACHE_HOME") != "":
		dir = filepath.Join(getenv("XDG_CACHE_HOME"), "agent-trace")
	case getenv("HOME") != "":
		dir = filepath.Join(getenv("HOME"), ".cache", "agent-trace")
	default:
		return ""
	}
	return filepath.Join(dir, "tokenizers", hex.EncodeToString(sum[:])+"."+compiledVersion+".bin")
}

// writeCompiled writes blob to path atomically (a temporary file renamed),
// so that a reader, or another run writing the same file, never sees part
// of it. A cache that cannot be written (a read-only folder) is no error:
// the next run parses the tokenizer.json again.
func writeCompiled(path string, blob []byte) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".compiling-*")
	if err != nil {
		return
	}
	_, err = f.Write(blob)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil || os.Chmod(f.Name(), 0o644) != nil || os.Rename(f.Name(), path) != nil {
		os.Remove(f.Name())
	}
}

func builtinNames() []string {
	return []string{"meta-llama/Llama-3.3-70B-Instruct", "meta-llama/Llama-3.1-*", "meta-llama/Llama-3.2-*", "meta-llama/Meta-Llama-3-*", "deepseek-ai/DeepSeek-R1-Distill-Llama-8B/70B", "cl100k_base", "o200k_base", "o200k_harmony", "openai/gpt-oss-20b/120b", hfbuiltin.Names()[0], hfbuiltin.Names()[1]}
}
