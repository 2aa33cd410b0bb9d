package tokenize

import (
	"slices"
	"strings"
)

// Memo remembers the last text an Encoder encoded for a conversation, so
// that the next, longer text of that conversation costs only its new part.
type Memo struct {
	text   string
	ids    []int
	cuts   []Cut
	reused int
}

// Text returns the remembered text.
func (m *Memo) Text() string { return m.text }

// IDs returns the token ids of the remembered text.
func (m *Memo) IDs() []int { return m.ids }

// Reused returns how many leading ids of the remembered text EncodeAfter
// took from the memo before it instead of encoding them: they equal that
// memo's first ids.
func (m *Memo) Reused() int { return m.reused }

// EncodeAfter returns the ids of text and a memo for the next call. When
// prev (which may be nil) shares a prefix with text, the tokens up to the
// last safe cut inside that prefix are reused and only the rest is
// encoded. The result always equals Encode(text).
//
// The returned ids may share storage with prev's: after the call, prev and
// the ids returned with it must not be used.
//
// Agent traces repeat the whole conversation at every call, so this makes
// the cost of a session proportional to its new text, not to the sum of its
// prompts.
func (e *Encoder) EncodeAfter(prev *Memo, text string) ([]int, *Memo) {
	l := 0
	if prev != nil {
		l = CommonPrefix(prev.text, text)
	}
	return e.encodeAfter(prev, text, l)
}

// EncodeAfterPrefix is EncodeAfter for a caller that knows that text
// starts with the first common bytes of prev's text (a lower bound of what
// they share will do): prev's text is not read, so the caller may have
// written text over it (a memo's text is the caller's buffer).
func (e *Encoder) EncodeAfterPrefix(prev *Memo, text string, common int) ([]int, *Memo) {
	if prev == nil {
		common = 0
	}
	return e.encodeAfter(prev, text, min(common, len(text)))
}

// encodeAfter is EncodeAfter once the length l of the prefix text shares
// with prev's text is known.
func (e *Encoder) encodeAfter(prev *Memo, text string, l int) ([]int, *Memo) {
	keepBytes, keepIDs, keepCuts := 0, 0, 0
	if prev != nil && e.t.reach >= 0 {
		// A cut is safe when the text agrees a little past it: the piece
		// before it read at most reach bytes beyond it, and an added token
		// starting before it fits in the prefix.
		margin := e.t.reach + e.t.maxAdded
		for i := len(prev.cuts) - 1; i >= 0; i-- {
			if c := prev.cuts[i]; c.Byte+margin <= l {
				keepBytes, keepIDs, keepCuts = c.Byte, c.IDs, i+1
				break
			}
		}
	}
	// prev's storage is reused: the kept tokens stay where they are.
	var ids []int
	var cuts []Cut
	if prev != nil {
		ids, cuts = prev.ids[:keepIDs], prev.cuts[:keepCuts]
	}
	// New cuts are relative to the encoded tail; shift them to the text.
	ids, tail := e.AppendCuts(ids, text[keepBytes:], nil, true)
	for _, c := range tail {
		cuts = append(cuts, Cut{Byte: c.Byte + keepBytes, IDs: c.IDs + keepIDs})
	}
	return ids, &Memo{text: text, ids: ids, cuts: cuts, reused: keepIDs}
}

// CommonPrefix returns the length of the longest common prefix of a and b.
func CommonPrefix(a, b string) int {
	if strings.HasPrefix(b, a) { // the usual case: the conversation grew
		return len(a)
	}
	n := min(len(a), len(b))
	i := 0
	for i+8 <= n && a[i:i+8] == b[i:i+8] {
		i += 8
	}
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

// partHead is how many bytes of a part AppendPart encodes at first to find
// where the part's own pieces meet the whole text's.
const partHead = 256

// AppendPart appends to dst the ids of m's text[from:to] encoded alone:
// what Append(dst, text[from:to]) appends. Between the first and the last
// cut of the whole text that the part's own pieces also have, the ids are
// copied from m rather than encoded again, so a long part costs about
// partHead bytes of encoding. (A cut of the whole text is a cut of the part
// once the two agree on the pieces before it: the pieces after it are read
// from the same bytes.)
//
// Agent prompts join messages that are each tokenized alone too; this
// derives a message's ids from its prompt's.
func (e *Encoder) AppendPart(dst []int, m *Memo, from, to int) []int {
	part := m.text[from:to]
	margin := e.t.reach + e.t.maxAdded
	if e.t.reach < 0 || len(part) < partHead+2*margin+cutSpacing {
		return e.Append(dst, part)
	}
	// The whole text's cuts inside the part, far enough from its end that
	// the bytes after the part cannot have placed them.
	lo, _ := slices.BinarySearchFunc(m.cuts, from+1, func(c Cut, b int) int { return c.Byte - b })
	hi, _ := slices.BinarySearchFunc(m.cuts, to-margin+1, func(c Cut, b int) int { return c.Byte - b })
	if hi-lo < 2 {
		return e.Append(dst, part)
	}
	// Encode the part's head alone with all its cuts, until one of them is
	// one of the whole text's: from there on the two read the same pieces.
	for h := partHead; ; h *= 2 {
		h = min(h, len(part))
		e.head, e.cuts = e.appendCuts(e.head[:0], part[:h], e.cuts[:0], 0)
		i := lo
		for _, c := range e.cuts {
			if c.Byte+margin > h {
				break // the bytes after the head could move it
			}
			for i < hi && m.cuts[i].Byte < from+c.Byte {
				i++
			}
			if i == hi {
				break
			}
			if m.cuts[i].Byte != from+c.Byte {
				continue
			}
			// The part's ids: the head's up to the shared cut, the whole
			// text's up to its last cut in the part, and the rest encoded.
			last := m.cuts[hi-1]
			dst = append(dst, e.head[:c.IDs]...)
			dst = append(dst, m.ids[m.cuts[i].IDs:last.IDs]...)
			e.copied += last.IDs - m.cuts[i].IDs
			return e.Append(dst, part[last.Byte-from:])
		}
		if h == len(part) {
			return append(dst, e.head...)
		}
		if h >= 4*partHead {
			return e.Append(dst, part)
		}
	}
}
