package tokenize

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/dlclark/regexp2"

	"agenttrace/pkg/jsondecode"
)

// Spec is what a Tokenizer is built from: the part of a Hugging Face
// tokenizer.json that byte-level BPE uses.
type Spec struct {
	Vocab        []string   // id -> token bytes (byte-level decoded); "" for an unused id
	Merges       [][2]int32 // merges in rank order, as (left id, right id)
	MergeRanks   []int32    // the rank of each merge; nil: its position in Merges
	Added        []AddedToken
	Patterns     []string // pre-tokenizer split patterns, applied in order
	IgnoreMerges bool     // a piece found whole in the vocabulary is one token
	NFC          bool     // the normalizer: Unicode NFC on the text between added tokens (Qwen2/3)
	// Tables are the lookup tables of a tokenizer built from this Spec
	// before ((*Tokenizer).Tables), for New to use in place instead of
	// building them; ignored (and the tables built) when they were built
	// from another Spec or cannot be used on this machine.
	Tables string
}

// AddedToken is a token matched in the text before pre-tokenization.
type AddedToken struct {
	ID      int    `json:"id"`
	Content string `json:"content"`
	Special bool   `json:"special"`
}

// gpt2Pattern is the pattern of a ByteLevel pre-tokenizer with use_regex.
const gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// ErrUnsupported is wrapped by the errors ParseJSON returns for tokenizers
// that are not byte-level BPE, or use a part this package does not
// implement; they are refused rather than encoded wrongly.
var ErrUnsupported = errors.New("unsupported tokenizer")

type jsonFile struct {
	AddedTokens []struct {
		AddedToken
		SingleWord bool `json:"single_word"`
		LStrip     bool `json:"lstrip"`
		RStrip     bool `json:"rstrip"`
		Normalized bool `json:"normalized"`
	} `json:"added_tokens"`
	Normalizer   json.RawMessage `json:"normalizer"`
	PreTokenizer json.RawMessage `json:"pre_tokenizer"`
	Model        struct {
		Type         string            `json:"type"`
		Vocab        map[string]int    `json:"vocab"`
		Merges       []json.RawMessage `json:"merges"`
		ByteFallback bool              `json:"byte_fallback"`
		IgnoreMerges bool              `json:"ignore_merges"`
		Dropout      *float64          `json:"dropout"`
		Prefix       *string           `json:"continuing_subword_prefix"`
		Suffix       *string           `json:"end_of_word_suffix"`
	} `json:"model"`
}

type preTokenizer struct {
	Type           string          `json:"type"`
	Pretokenizers  []preTokenizer  `json:"pretokenizers"`
	Pattern        json.RawMessage `json:"pattern"`
	Behavior       string          `json:"behavior"`
	Invert         bool            `json:"invert"`
	AddPrefixSpace bool            `json:"add_prefix_space"`
	UseRegex       *bool           `json:"use_regex"`
}

// ParseJSON reads a Hugging Face tokenizer.json. It accepts byte-level BPE
// models with no normalizer, and pre-tokenizers made of Split (behaviour
// Isolated) and ByteLevel steps; anything else is refused with an error
// wrapping ErrUnsupported.
func ParseJSON(data []byte) (*Spec, error) {
	var f jsonFile
	if err := jsondecode.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("not a tokenizer.json: %w", err)
	}
	unsupported := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrUnsupported, fmt.Sprintf(format, args...))
	}
	if f.Model.Type != "BPE" {
		return nil, unsupported("model type %q (only byte-level BPE is supported; SentencePiece, Unigram and WordPiece are not)", f.Model.Type)
	}
	if f.Model.ByteFallback || f.Model.Dropout != nil && *f.Model.Dropout != 0 ||
		f.Model.Prefix != nil && *f.Model.Prefix != "" || f.Model.Suffix != nil && *f.Model.Suffix != "" {
		return nil, unsupported("BPE options byte_fallback, dropout or subword affixes (a SentencePiece-style BPE)")
	}
	nfc := false
	if n := strings.TrimSpace(string(f.Normalizer)); n != "" && n != "null" {
		var norm struct{ Type string }
		if json.Unmarshal(f.Normalizer, &norm) != nil || norm.Type != "NFC" {
			return nil, unsupported("normalizer %s (only NFC is supported)", abbrev(n))
		}
		nfc = true
	}
	var pt preTokenizer
	if err := json.Unmarshal(f.PreTokenizer, &pt); err != nil {
		return nil, fmt.Errorf("pre_tokenizer: %w", err)
	}
	spec := &Spec{IgnoreMerges: f.Model.IgnoreMerges, NFC: nfc}
	byteLevel := false
	var walk func(p preTokenizer) error
	walk = func(p preTokenizer) error {
		switch p.Type {
		case "Sequence":
			for _, q := range p.Pretokenizers {
				if err := walk(q); err != nil {
					return err
				}
			}
		case "Split":
			var pat struct{ Regex, String string }
			if err := json.Unmarshal(p.Pattern, &pat); err != nil {
				return fmt.Errorf("pre_tokenizer Split pattern: %w", err)
			}
			if p.Behavior != "Isolated" || p.Invert {
				return unsupported("Split behaviour %q (invert=%v)", p.Behavior, p.Invert)
			}
			if pat.Regex == "" {
				pat.Regex = regexp2.Escape(pat.String)
			}
			spec.Patterns = append(spec.Patterns, pat.Regex)
		case "ByteLevel":
			if p.AddPrefixSpace {
				return unsupported("ByteLevel add_prefix_space")
			}
			if p.UseRegex == nil || *p.UseRegex {
				spec.Patterns = append(spec.Patterns, gpt2Pattern)
			}
			byteLevel = true
		default:
			return unsupported("pre-tokenizer %q", p.Type)
		}
		return nil
	}
	if err := walk(pt); err != nil {
		return nil, err
	}
	if !byteLevel {
		return nil, unsupported("no ByteLevel pre-tokenizer: not a byte-level BPE")
	}

	decode := byteDecoder()
	spec.Vocab = make([]string, len(f.Model.Vocab))
	for tok, id := range f.Model.Vocab {
		raw, ok := decodeByteLevel(tok, decode)
		if !ok {
			return nil, unsupported("vocabulary entry %q is not byte-level", tok)
		}
		if id < 0 || id > 1<<24 {
			return nil, fmt.Errorf("vocabulary entry %q has id %d", tok, id)
		}
		for id >= len(spec.Vocab) {
			spec.Vocab = append(spec.Vocab, "")
		}
		spec.Vocab[id] = raw
	}
	for i, raw := range f.Model.Merges {
		var a, b string
		var s string
		var pair []string
		if plain, ok := plainString(raw); ok { // the usual case, without a decoder
			var found bool
			if a, b, found = strings.Cut(plain, " "); !found {
				return nil, fmt.Errorf("merge %d %q: want two tokens", i, plain)
			}
		} else if json.Unmarshal(raw, &s) == nil {
			var ok bool
			if a, b, ok = strings.Cut(s, " "); !ok {
				return nil, fmt.Errorf("merge %d %q: want two tokens", i, s)
			}
		} else if json.Unmarshal(raw, &pair) == nil && len(pair) == 2 {
			a, b = pair[0], pair[1]
		} else {
			return nil, fmt.Errorf("merge %d: want \"a b\" or [\"a\",\"b\"]", i)
		}
		ia, oka := f.Model.Vocab[a]
		ib, okb := f.Model.Vocab[b]
		if !oka || !okb {
			return nil, fmt.Errorf("merge %d (%q %q): token not in the vocabulary", i, a, b)
		}
		spec.Merges = append(spec.Merges, [2]int32{int32(ia), int32(ib)})
	}
	for _, a := range f.AddedTokens {
		if a.SingleWord || a.LStrip || a.RStrip {
			return nil, unsupported("added token %q with single_word, lstrip or rstrip", a.Content)
		}
		if nfc && a.Normalized {
			return nil, unsupported("added token %q matched after normalization", a.Content)
		}
		spec.Added = append(spec.Added, a.AddedToken)
	}
	return spec, nil
}

// plainString returns the text of a JSON string without escapes, and
// whether raw is one.
func plainString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	for _, c := range body {
		if c == '\\' || c == '"' || c < 0x20 {
			return "", false
		}
	}
	if !utf8.Valid(body) { // a decoder would replace the bad bytes
		return "", false
	}
	return string(body), true
}

func abbrev(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// byteDecoder returns the inverse of GPT-2's bytes_to_unicode: the printable
// bytes stand for themselves, the others for U+0100 onwards in order.
func byteDecoder() map[rune]byte {
	m := make(map[rune]byte, 256)
	n := 0
	for b := 0; b < 256; b++ {
		if b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE {
			m[rune(b)] = byte(b)
		} else {
			m[rune(256+n)] = byte(b)
			n++
		}
	}
	return m
}

func decodeByteLevel(tok string, decode map[rune]byte) (string, bool) {
	out := make([]byte, 0, len(tok))
	for _, r := range tok {
		b, ok := decode[r]
		if !ok {
			return "", false
		}
		out = append(out, b)
	}
	return string(out), true
}

// splitter returns the pre-tokenizer for the patterns: the hand-written
// scanner for the Llama 3 pattern alone, else the patterns applied in turn
// with a backtracking regex engine.
func splitter(patterns []string) (func(s string, ends []int) []int, error) {
	if len(patterns) == 1 && patterns[0] == llama3Pattern {
		return splitLlama3, nil
	}
	var res []*regexp2.Regexp
	for _, p := range patterns {
		re, err := regexp2.Compile(p, regexp2.Unicode)
		if err != nil {
			return nil, fmt.Errorf("pre-tokenizer pattern %q: %w", p, err)
		}
		res = append(res, re)
	}
	return func(s string, ends []int) []int {
		pieces := []string{s}
		for _, re := range res {
			var next []string
			for _, p := range pieces {
				next = splitRegex(re, p, next)
			}
			pieces = next
		}
		off := 0
		for _, p := range pieces {
			off += len(p)
			ends = append(ends, off)
		}
		return ends
	}, nil
}

// splitRegex cuts s into the matches of re and the gaps between them
// (Hugging Face's Isolated behaviour), appending the pieces to out.
func splitRegex(re *regexp2.Regexp, s string, out []string) []string {
	// regexp2 reports rune offsets; map them back to byte offsets (an
	// invalid byte is one rune, U+FFFD).
	runes := make([]rune, 0, len(s))
	byteAt := make([]int, 0, len(s)+1)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		runes = append(runes, r)
		byteAt = append(byteAt, i)
		i += n
	}
	byteAt = append(byteAt, len(s))
	prev := 0
	m, _ := re.FindRunesMatch(runes)
	for m != nil {
		start, end := byteAt[m.Index], byteAt[m.Index+m.Length]
		if start > prev {
			out = append(out, s[prev:start])
		}
		if end > start {
			out = append(out, s[start:end])
		}
		prev = end
		m, _ = re.FindNextMatch(m)
	}
	if prev < len(s) {
		out = append(out, s[prev:])
	}
	return out
}
