// Package openai provides OpenAI's cl100k_base and o200k_base encodings as
// built-in tokenizers, exactly as tiktoken encodes with every special token
// allowed, and o200k_harmony, the tokenizer of gpt-oss (o200k_base with
// the special tokens of its harmony chat format). The rank files come
// embedded in github.com/pkoukk/tiktoken-go-loader.
package openai

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/pkoukk/tiktoken-go-loader/assets"

	"github.com/agent-trace/agent-trace/pkg/tokenize"
)

// Encodings are the names of the built-in encodings.
var Encodings = []string{"cl100k_base", "o200k_base"}

var specials = map[string][]tokenize.AddedToken{
	"cl100k_base": {
		{ID: 100257, Content: "<|endoftext|>", Special: true},
		{ID: 100258, Content: "<|fim_prefix|>", Special: true},
		{ID: 100259, Content: "<|fim_middle|>", Special: true},
		{ID: 100260, Content: "<|fim_suffix|>", Special: true},
		{ID: 100276, Content: "<|endofprompt|>", Special: true},
	},
	"o200k_base": {
		{ID: 199999, Content: "<|endoftext|>", Special: true},
		{ID: 200018, Content: "<|endofprompt|>", Special: true},
	},
	// The added tokens of openai/gpt-oss-20b and -120b's tokenizer.json.
	"o200k_harmony": harmony(),
}

// harmony returns the special tokens of o200k_harmony: ids 199998 to
// 200018, named or reserved.
func harmony() []tokenize.AddedToken {
	named := map[int]string{
		199998: "<|startoftext|>", 199999: "<|endoftext|>", 200002: "<|return|>", 200003: "<|constrain|>",
		200005: "<|channel|>", 200006: "<|start|>", 200007: "<|end|>", 200008: "<|message|>",
		200012: "<|call|>", 200018: "<|endofprompt|>",
	}
	var out []tokenize.AddedToken
	for id := 199998; id <= 200018; id++ {
		name, ok := named[id]
		if !ok {
			name = fmt.Sprintf("<|reserved_%d|>", id)
		}
		out = append(out, tokenize.AddedToken{ID: id, Content: name, Special: true})
	}
	return out
}

// Lookup returns the built-in encoding a name stands for: an encoding's
// own name, or a Hugging Face repository of gpt-oss (openai/gpt-oss-20b,
// openai/gpt-oss-120b: o200k_harmony).
func Lookup(name string) (string, bool) {
	if IsEncoding(name) {
		return name, true
	}
	if strings.HasPrefix(strings.ToLower(name), "openai/gpt-oss-") {
		return "o200k_harmony", true
	}
	return "", false
}

var (
	mu    sync.Mutex
	specs = map[string]*tokenize.Spec{}
)

// IsEncoding reports whether name is a built-in encoding.
func IsEncoding(name string) bool { return specials[name] != nil }

// Spec returns the spec of an encoding. A tiktoken encoding merges the
// adjacent pair whose concatenation has the lowest rank; as merges, every
// split of a token into two tokens is a merge with the token's rank.
func Spec(name string) (*tokenize.Spec, error) {
	mu.Lock()
	defer mu.Unlock()
	if s := specs[name]; s != nil {
		return s, nil
	}
	if !IsEncoding(name) {
		return nil, fmt.Errorf("no built-in encoding %q", name)
	}
	ranks := name
	if name == "o200k_harmony" {
		ranks = "o200k_base"
	}
	data, err := assets.Assets.ReadFile(ranks + ".tiktoken")
	if err != nil {
		return nil, err
	}
	rankOf := map[string]int{}
	var vocab []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		tok, rank, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		b, err1 := base64.StdEncoding.DecodeString(tok)
		r, err2 := strconv.Atoi(rank)
		if err1 != nil || err2 != nil || r < 0 || r > 1<<24 {
			return nil, fmt.Errorf("%s: bad line %q", name, sc.Text())
		}
		for len(vocab) <= r {
			vocab = append(vocab, "")
		}
		vocab[r] = string(b)
		rankOf[string(b)] = r
	}
	s := &tokenize.Spec{Vocab: vocab, Added: specials[name], IgnoreMerges: true}
	order := make([]int, 0, len(vocab))
	for r := range vocab {
		order = append(order, r)
	}
	sort.Ints(order)
	for _, r := range order {
		t := vocab[r]
		for k := 1; k < len(t); k++ {
			a, okA := rankOf[t[:k]]
			b, okB := rankOf[t[k:]]
			if okA && okB {
				s.Merges = append(s.Merges, [2]int32{int32(a), int32(b)})
				s.MergeRanks = append(s.MergeRanks, int32(r))
			}
		}
	}
	if name == "cl100k_base" {
		s.Patterns = []string{tokenize.PatternLlama3}
	} else {
		s.Patterns = []string{tokenize.PatternO200k}
	}
	specs[name] = s
	return s, nil
}

// New returns the tokenizer of a built-in encoding.
func New(name string) (*tokenize.Tokenizer, error) {
	s, err := Spec(name)
	if err != nil {
		return nil, err
	}
	return tokenize.New(name, s)
}
