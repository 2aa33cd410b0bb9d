package tokenize

import (
	"strings"
	"unicode/utf8"
)

// SentencePiece-style tokenizers (Llama 2, Gemma) have no pre-tokenizer
// worth the name: the text between added tokens is one piece, and BPE over
// a whole prompt is slow. But a merge can only make a token of the
// vocabulary, so two symbols are never merged across a place where no
// token could span: before a space mark (▁) that follows a character c when
// no token of the vocabulary holds c followed by ▁. BPE merges each side
// of such a place alone, so the piece can be cut there without changing
// its tokens; that cuts before nearly every word (no Llama 2 token holds
// "c▁" for any c other than ▁; one Gemma 3 token does, after '>').

// spaceCuts holds what cutting at space marks needs.
type spaceCuts struct {
	mark   string        // the space mark, ▁
	before map[rune]bool // characters some token holds just before the mark
}

// newSpaceCuts returns the cuts of a character-level spec, or nil when it
// has no space mark.
func newSpaceCuts(spec *Spec) *spaceCuts {
	if !spec.CharLevel {
		return nil
	}
	mark := ""
	if spec.Metaspace != nil {
		mark = spec.Metaspace.Replacement
	}
	for _, n := range spec.Normalizers {
		if n.Kind == "Replace" && n.From == " " && utf8.RuneCountInString(n.To) == 1 {
			mark = n.To
		}
	}
	if mark == "" {
		return nil
	}
	c := &spaceCuts{mark: mark, before: map[rune]bool{}}
	for _, tok := range spec.Vocab {
		for i := 1; i < len(tok); i++ {
			if strings.HasPrefix(tok[i:], mark) {
				r, _ := utf8.DecodeLastRuneInString(tok[:i])
				c.before[r] = true
			}
		}
	}
	return c
}

// refine cuts each piece of s (ends, as a splitFunc gives them) before the
// space marks no merge can cross, appending the new ends to out.
func (c *spaceCuts) refine(s string, ends, out []int) []int {
	prev := 0
	for _, end := range ends {
		if end < 0 { // dropped text stays dropped
			out = append(out, end)
			prev = ^end
			continue
		}
		for i := prev; i < end; {
			j := strings.Index(s[i:end], c.mark)
			if j < 0 {
				break
			}
			j += i
			if j > prev {
				r, _ := utf8.DecodeLastRuneInString(s[prev:j])
				if !c.before[r] && !strings.HasSuffix(s[prev:j], c.mark) {
					out = append(out, j)
				}
			}
			i = j + len(c.mark)
		}
		out = append(out, end)
		prev = end
	}
	return out
}
