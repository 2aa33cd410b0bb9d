package tokenize

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/dlclark/regexp2"

	"github.com/agent-trace/agent-trace/pkg/jsondecode"
)

// Spec is what a Tokenizer is built from: the part of a Hugging Face
// tokenizer.json that BPE uses.
type Spec struct {
	Vocab      []string   // id -> token bytes (byte-level decoded unless CharLevel); "" for an unused id
	Merges     [][2]int32 // merges in rank order, as (left id, right id)
	MergeRanks []int32    // the rank of each merge; nil: its position in Merges
	Added      []AddedToken
	Patterns   []string // pre-tokenizer split patterns, applied in order
	// Behaviors[i] is what Patterns[i] does with its matches; missing
	// entries are Isolated.
	Behaviors    []SplitBehavior
	IgnoreMerges bool // a piece found whole in the vocabulary is one token
	// Normalizers apply in order to the text between added tokens.
	Normalizers []Normalizer
	// Metaspace, when set, is the SentencePiece-style pre-tokenizer,
	// applied before Patterns.
	Metaspace *Metaspace
	// CharLevel models start from characters, not bytes (SentencePiece-
	// style BPE): a character not in the vocabulary becomes its bytes'
	// <0xXX> tokens with ByteFallback, else the unknown token Unk (-1:
	// none), consecutive ones fused into one with FuseUnk.
	CharLevel    bool
	ByteFallback bool
	Unk          int
	FuseUnk      bool
	// Tables are the lookup tables of a tokenizer built from this Spec
	// before ((*Tokenizer).Tables), for New to use in place instead of
	// building them; ignored (and the tables built) when they were built
	// from another Spec or cannot be used on this machine.
	Tables string
}

// SplitBehavior is what a Split pre-tokenizer does with the matches of its
// pattern (Hugging Face's SplitDelimiterBehavior, with invert).
type SplitBehavior uint8

// The split behaviours.
const (
	Isolated           SplitBehavior = iota // matches and the text between them are pieces
	MatchesOnly                             // matches are pieces, the text between them is dropped (Removed with invert)
	Removed                                 // matches are dropped
	MergedWithPrevious                      // a match ends a piece
	MergedWithNext                          // a match starts a piece
)

// Normalizer is one step of a tokenizer's normalizer.
type Normalizer struct {
	// "NFC", "NFKC", "Prepend" (To before non-empty text), "Replace" (each
	// From by To), "Strip", "StripLeft" or "StripRight" (white space at both
	// ends, the start, the end).
	Kind string
	From string
	To   string
}

// Metaspace is SentencePiece's pre-tokenizer: spaces become Replacement,
// which is put before the text (Prepend "always"; "first": only before text
// at the start of the input; "never"), and with Split each Replacement
// starts a piece.
type Metaspace struct {
	Replacement string
	Prepend     string
	Split       bool
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
		UnkToken     *string           `json:"unk_token"`
		FuseUnk      bool              `json:"fuse_unk"`
	} `json:"model"`
}

type preTokenizer struct {
	Type           string          `json:"type"`
	Pretokenizers  []preTokenizer  `json:"pretokenizers"`
	Pattern        json.RawMessage `json:"pattern"`
	Behavior       string          `json:"behavior"`
	Invert         bool            `json:"invert"`
	AddPrefixSpace *bool           `json:"add_prefix_space"`
	UseRegex       *bool           `json:"use_regex"`
	Replacement    string          `json:"replacement"`
	PrependScheme  string          `json:"prepend_scheme"`
	Split          *bool           `json:"split"`
}

// normalizerJSON is a normalizer of a tokenizer.json.
type normalizerJSON struct {
	Type        string
	Normalizers []normalizerJSON
	Prepend     string
	Pattern     struct{ String, Regex *string }
	Content     string
	StripLeft   bool `json:"strip_left"`
	StripRight  bool `json:"strip_right"`
}

// ParseJSON reads a Hugging Face tokenizer.json. It accepts BPE models,
// byte-level (GPT-2 style: Llama 3, Qwen, DeepSeek, gpt-oss) or
// SentencePiece-style (characters with byte fallback: Llama 2, Mistral,
// Gemma); normalizers NFC, NFKC, Prepend, Replace of a string and Strip;
// pre-tokenizers Split, ByteLevel and Metaspace. Anything else is refused
// with an error wrapping ErrUnsupported, naming the part.
func ParseJSON(data []byte) (*Spec, error) {
	var f jsonFile
	if err := jsondecode.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("not a tokenizer.json: %w", err)
	}
	unsupported := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrUnsupported, fmt.Sprintf(format, args...))
	}
	if f.Model.Type != "BPE" {
		return nil, unsupported("model type %q (only BPE is supported; Unigram and WordPiece are not)", f.Model.Type)
	}
	if f.Model.Dropout != nil && *f.Model.Dropout != 0 ||
		f.Model.Prefix != nil && *f.Model.Prefix != "" || f.Model.Suffix != nil && *f.Model.Suffix != "" {
		return nil, unsupported("BPE options dropout or subword affixes (continuing_subword_prefix, end_of_word_suffix)")
	}
	spec := &Spec{IgnoreMerges: f.Model.IgnoreMerges, ByteFallback: f.Model.ByteFallback, FuseUnk: f.Model.FuseUnk, Unk: -1}
	if n := strings.TrimSpace(string(f.Normalizer)); n != "" && n != "null" {
		var nj normalizerJSON
		if json.Unmarshal(f.Normalizer, &nj) != nil {
			return nil, fmt.Errorf("normalizer: not a JSON object: %s", abbrev(n))
		}
		var walk func(nj normalizerJSON) error
		walk = func(nj normalizerJSON) error {
			switch nj.Type {
			case "Sequence":
				for _, m := range nj.Normalizers {
					if err := walk(m); err != nil {
						return err
					}
				}
			case "NFC", "NFKC":
				spec.Normalizers = append(spec.Normalizers, Normalizer{Kind: nj.Type})
			case "Prepend":
				spec.Normalizers = append(spec.Normalizers, Normalizer{Kind: "Prepend", To: nj.Prepend})
			case "Replace":
				if nj.Pattern.String == nil {
					return unsupported("normalizer Replace of a regex (only of a string)")
				}
				spec.Normalizers = append(spec.Normalizers, Normalizer{Kind: "Replace", From: *nj.Pattern.String, To: nj.Content})
			case "Strip":
				switch {
				case nj.StripLeft && nj.StripRight:
					spec.Normalizers = append(spec.Normalizers, Normalizer{Kind: "Strip"})
				case nj.StripLeft:
					spec.Normalizers = append(spec.Normalizers, Normalizer{Kind: "StripLeft"})
				case nj.StripRight:
					spec.Normalizers = append(spec.Normalizers, Normalizer{Kind: "StripRight"})
				}
			default:
				return unsupported("normalizer %q in %s (NFC, NFKC, Prepend, Replace and Strip are supported)", nj.Type, abbrev(n))
			}
			return nil
		}
		if err := walk(nj); err != nil {
			return nil, err
		}
	}
	var pt preTokenizer
	noPreTokenizer := strings.TrimSpace(string(f.PreTokenizer)) == "" || strings.TrimSpace(string(f.PreTokenizer)) == "null"
	if !noPreTokenizer {
		if err := json.Unmarshal(f.PreTokenizer, &pt); err != nil {
			return nil, fmt.Errorf("pre_tokenizer: %w", err)
		}
	}
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
			// Isolated keeps matches and gaps alike, so invert changes
			// nothing; Removed with invert keeps the matches alone.
			var behavior SplitBehavior
			switch {
			case p.Behavior == "Isolated":
				behavior = Isolated
			case p.Behavior == "Removed" && p.Invert:
				behavior = MatchesOnly
			case p.Behavior == "Removed":
				behavior = Removed
			case p.Behavior == "MergedWithPrevious" && !p.Invert:
				behavior = MergedWithPrevious
			case p.Behavior == "MergedWithNext" && !p.Invert:
				behavior = MergedWithNext
			default:
				return unsupported("Split behaviour %q (invert=%v)", p.Behavior, p.Invert)
			}
			if spec.Metaspace != nil {
				return unsupported("Split after Metaspace")
			}
			if pat.Regex == "" {
				pat.Regex = regexp2.Escape(pat.String)
			}
			if posixClass.MatchString(pat.Regex) {
				// Hugging Face's regex engine (Oniguruma) reads [[:alpha:]] as
				// a POSIX class; this one would read a set of characters.
				return unsupported("Split pattern with a POSIX class (%s)", abbrev(pat.Regex))
			}
			spec.Patterns = append(spec.Patterns, pat.Regex)
			spec.Behaviors = append(spec.Behaviors, behavior)
		case "ByteLevel":
			if p.AddPrefixSpace != nil && *p.AddPrefixSpace {
				return unsupported("ByteLevel add_prefix_space")
			}
			if p.UseRegex == nil || *p.UseRegex {
				spec.Patterns = append(spec.Patterns, gpt2Pattern)
				spec.Behaviors = append(spec.Behaviors, Isolated)
			}
			byteLevel = true
		case "Metaspace":
			if spec.Metaspace != nil || len(spec.Patterns) > 0 {
				return unsupported("Metaspace after another pre-tokenizer")
			}
			m := &Metaspace{Replacement: p.Replacement, Prepend: p.PrependScheme, Split: p.Split == nil || *p.Split}
			if m.Prepend == "" { // older files: add_prefix_space
				m.Prepend = "always"
				if p.AddPrefixSpace != nil && !*p.AddPrefixSpace {
					m.Prepend = "never"
				}
			}
			if m.Prepend != "always" && m.Prepend != "first" && m.Prepend != "never" {
				return unsupported("Metaspace prepend_scheme %q", m.Prepend)
			}
			if utf8.RuneCountInString(m.Replacement) != 1 {
				return unsupported("Metaspace replacement %q (one character is supported)", m.Replacement)
			}
			spec.Metaspace = m
		default:
			return unsupported("pre-tokenizer %q", p.Type)
		}
		return nil
	}
	if noPreTokenizer {
		// No pre-tokenizer (Llama 2): the text between added tokens is
		// one piece.
	} else if err := walk(pt); err != nil {
		return nil, err
	}
	if byteLevel && (spec.Metaspace != nil || f.Model.ByteFallback) {
		return nil, unsupported("ByteLevel with Metaspace or byte_fallback")
	}
	// Without a ByteLevel pre-tokenizer the vocabulary is text
	// (SentencePiece-style), which byte fallback or an unknown token must
	// complete.
	spec.CharLevel = !byteLevel
	if spec.CharLevel && !f.Model.ByteFallback && f.Model.UnkToken == nil {
		return nil, unsupported("no ByteLevel pre-tokenizer, byte_fallback or unk_token: characters outside the vocabulary have no token")
	}
	decode := byteDecoder()
	if spec.CharLevel {
		decode = nil
	}
	spec.Vocab = make([]string, len(f.Model.Vocab))
	added := map[string]bool{}
	for _, a := range f.AddedTokens {
		added[a.Content] = true
	}
	for tok, id := range f.Model.Vocab {
		raw, ok := tok, true
		if decode != nil {
			raw, ok = decodeByteLevel(tok, decode)
		}
		if !ok && added[tok] {
			// An added token's entry (DeepSeek V3's <｜begin▁of▁sentence｜>):
			// the byte-level model never makes it; the added token is
			// matched in the text before.
			continue
		}
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
		if len(spec.Normalizers) > 0 && a.Normalized {
			return nil, unsupported("added token %q matched after normalization", a.Content)
		}
		spec.Added = append(spec.Added, a.AddedToken)
	}
	if f.Model.UnkToken != nil && spec.CharLevel {
		id, ok := f.Model.Vocab[*f.Model.UnkToken]
		if !ok {
			return nil, fmt.Errorf("unk_token %q is not in the vocabulary", *f.Model.UnkToken)
		}
		spec.Unk = id
	}
	return spec, nil
}

// posixClass finds a POSIX bracket class ([:alpha:] and the like) in a
// regular expression.
var posixClass = regexp.MustCompile(`\[:[a-z]+:\]`)

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

// splitFunc appends to ends the end offset of each piece a pre-tokenizer
// cuts s into; a stretch of text it drops is given as ^end (a negative
// number).
type splitFunc func(s string, ends []int) []int

// handWritten are the pre-tokenizers written by hand, by their patterns:
// exact to Hugging Face's on every code point (Unicode 16.0) and ten times
// as fast as a regex engine. reach bounds how many bytes past the end of a
// piece, when that end and the byte after it are ASCII other than white
// space, the scanner may read to decide where the piece ends (what
// Encoder.EncodeAfter needs to reuse tokens). Each pattern matches every
// character, so behaviour Removed with invert is the same as Isolated.
var handWritten = []struct {
	patterns []string
	split    splitFunc
	reach    int
}{
	{[]string{PatternLlama3}, splitLlama3, 4},
	{[]string{qwen2Pattern}, splitQwen2, 4},
	{[]string{PatternO200k}, splitO200k, 4},
	{deepSeekPatterns, splitDeepSeek, 8},
	{[]string{gpt2Pattern}, splitGPT2, 4},
}

// HandWritten reports whether the pre-tokenizer patterns have a scanner
// written by hand: the Llama 3 / cl100k, Qwen2/2.5/3, o200k (GPT-4o,
// gpt-oss), DeepSeek V3 and GPT-2 patterns. Others run on a regex engine: slower,
// with Unicode 15.0 properties rather than Hugging Face's 16.0 (about 5,000
// code points added in 15.1 and 16.0 may split differently), and with no
// token reuse between the calls of a conversation.
func HandWritten(patterns []string) bool {
	_, _, ok := findHandWritten(patterns)
	return ok
}

func findHandWritten(patterns []string) (splitFunc, int, bool) {
	for _, h := range handWritten {
		if slices.Equal(h.patterns, patterns) {
			return h.split, h.reach, true
		}
	}
	return nil, 0, false
}

// splitter returns the pre-tokenizer for the patterns: a hand-written
// scanner for a pattern in wide use, else the patterns applied in turn with
// a backtracking regex engine. behaviors[i] is what patterns[i] does with
// its matches. reach is what handWritten says, or -1 for the regex engine
// (whose patterns may look arbitrarily far ahead).
func splitter(patterns []string, behaviors []SplitBehavior) (split splitFunc, reach int, err error) {
	covering := true // the hand-written patterns match every character
	for _, b := range behaviors {
		covering = covering && (b == Isolated || b == MatchesOnly)
	}
	if split, reach, ok := findHandWritten(patterns); ok && covering {
		return split, reach, nil
	}
	split, err = engineSplitter(patterns, behaviors)
	return split, -1, err
}

// engineSplitter returns the pre-tokenizer that applies the patterns in
// turn with a backtracking regex engine (a plain string without it).
func engineSplitter(patterns []string, behaviors []SplitBehavior) (splitFunc, error) {
	type step struct {
		re       *regexp2.Regexp
		literal  string // the pattern when it is a plain string (Gemma's " "), found without the regex engine
		behavior SplitBehavior
	}
	var steps []step
	for i, p := range patterns {
		b := Isolated
		if i < len(behaviors) {
			b = behaviors[i]
		}
		if lit, ok := literalPattern(p); ok {
			steps = append(steps, step{literal: lit, behavior: b})
			continue
		}
		re, err := regexp2.Compile(p, regexp2.Unicode)
		if err != nil {
			return nil, fmt.Errorf("pre-tokenizer pattern %q: %w", p, err)
		}
		steps = append(steps, step{re: re, behavior: b})
	}
	return func(s string, ends []int) []int {
		pieces := []span{{0, len(s)}}
		for _, st := range steps {
			var next []span
			for _, p := range pieces {
				if st.re == nil {
					next = splitLiteral(st.literal, s, p, st.behavior, next)
				} else {
					next = splitRegex(st.re, s, p, st.behavior, next)
				}
			}
			pieces = next
		}
		off := 0
		for _, p := range pieces {
			if p.start > off {
				ends = append(ends, ^p.start)
			}
			ends = append(ends, p.end)
			off = p.end
		}
		if off < len(s) {
			ends = append(ends, ^len(s))
		}
		return ends
	}, nil
}

// span is the piece s[start:end] of a text s.
type span struct{ start, end int }

// splitRegex cuts the piece p of s at the matches of re as behavior says,
// appending the pieces to out.
func splitRegex(re *regexp2.Regexp, s string, p span, behavior SplitBehavior, out []span) []span {
	text := s[p.start:p.end]
	// regexp2 reports rune offsets; map them back to byte offsets (an
	// invalid byte is one rune, U+FFFD).
	runes := make([]rune, 0, len(text))
	byteAt := make([]int, 0, len(text)+1)
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		runes = append(runes, r)
		byteAt = append(byteAt, p.start+i)
		i += n
	}
	byteAt = append(byteAt, p.end)
	var matches []span
	m, _ := re.FindRunesMatch(runes)
	for ; m != nil; m, _ = re.FindNextMatch(m) {
		if m.Length > 0 {
			matches = append(matches, span{byteAt[m.Index], byteAt[m.Index+m.Length]})
		}
	}
	return splitAt(p, matches, behavior, out)
}

// splitLiteral is splitRegex for a pattern that is a plain string.
func splitLiteral(lit, s string, p span, behavior SplitBehavior, out []span) []span {
	var matches []span
	for i := p.start; i < p.end; {
		j := strings.Index(s[i:p.end], lit)
		if j < 0 {
			break
		}
		matches = append(matches, span{i + j, i + j + len(lit)})
		i += j + len(lit)
	}
	return splitAt(p, matches, behavior, out)
}

// literalPattern returns the text a regular expression matches when it is
// a plain string of one or more characters.
func literalPattern(p string) (string, bool) {
	re, err := syntax.Parse(p, syntax.Perl)
	if err != nil || re.Op != syntax.OpLiteral || re.Flags&syntax.FoldCase != 0 || len(re.Rune) == 0 {
		return "", false
	}
	return string(re.Rune), true
}

// splitAt cuts the piece p at the non-empty matches (in order) as behavior
// says, appending the pieces to out.
func splitAt(p span, matches []span, behavior SplitBehavior, out []span) []span {
	add := func(a, b int) {
		if b > a {
			out = append(out, span{a, b})
		}
	}
	prev := p.start
	for _, m := range matches {
		start, end := m.start, m.end
		switch behavior {
		case Isolated:
			add(prev, start)
			add(start, end)
			prev = end
		case MatchesOnly:
			add(start, end)
			prev = end
		case Removed:
			add(prev, start)
			prev = end
		case MergedWithPrevious:
			add(prev, end)
			prev = end
		case MergedWithNext:
			add(prev, start)
			prev = start
		}
	}
	if behavior != MatchesOnly {
		add(prev, p.end)
	}
	return out
}

// splitMetaspace returns the pre-tokenizer part of m: with Split, each
// replacement character starts a piece (Hugging Face's MergedWithNext);
// else the text is one piece.
func splitMetaspace(m *Metaspace) splitFunc {
	return func(s string, ends []int) []int {
		if m.Split {
			for i := 1; i < len(s); i++ {
				if strings.HasPrefix(s[i:], m.Replacement) {
					ends = append(ends, i)
				}
			}
		}
		return append(ends, len(s))
	}
}
