// Package hfbuiltin embeds the Hugging Face tokenizer.json of model
// families whose licences allow it, so that their names resolve offline:
// Qwen3 (Apache-2.0) and DeepSeek-V3 (MIT). The files are zstd-compressed
// (3 MB for both); see NOTICE.md for their source and licences.
package hfbuiltin

import (
	"embed"
	"fmt"
	"regexp"
	"strings"

	"github.com/klauspost/compress/zstd"
)

//go:embed *.tokenizer.json.zst
var files embed.FS

// families maps a Hugging Face repository name (lower-cased) to its
// embedded tokenizer.
var families = []struct {
	match *regexp.Regexp
	file  string
}{
	// Qwen3 dense and MoE models, any variant (Base, FP8, Instruct-2507,
	// Thinking-2507, ...): one tokenizer.
	{regexp.MustCompile(`^qwen/qwen3-(\d+(\.\d+)?b|\d+b-a\d+b)(-[a-z0-9.-]+)?$`), "qwen3"},
	{regexp.MustCompile(`^deepseek-ai/deepseek-v3(-0324)?$`), "deepseek-v3"},
}

// Lookup returns the embedded tokenizer a repository name stands for.
func Lookup(name string) (string, bool) {
	n := strings.ToLower(name)
	for _, f := range families {
		if f.match.MatchString(n) {
			return f.file, true
		}
	}
	return "", false
}

// Names lists the names Lookup knows, for messages.
func Names() []string {
	return []string{"Qwen/Qwen3-* (0.6B to 235B-A22B)", "deepseek-ai/DeepSeek-V3[-0324]"}
}

// TokenizerJSON returns the tokenizer.json of an embedded tokenizer.
func TokenizerJSON(file string) ([]byte, error) {
	z, err := files.ReadFile(file + ".tokenizer.json.zst")
	if err != nil {
		return nil, fmt.Errorf("no built-in tokenizer %q", file)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	return dec.DecodeAll(z, nil)
}
