// Package tokenize turns prompt text into token ids exactly as the Hugging
// Face tokenizers library does with add_special_tokens=False, for BPE
// tokenizers: byte-level (Llama 3, DeepSeek-R1-Distill-Llama and V3, Qwen2/3
// with their NFC normalizer, gpt-oss, GPT-2 style, and OpenAI's cl100k_base
// and o200k_base) and SentencePiece-style with byte fallback (Llama 2,
// Mistral, Gemma).
//
// Encoding has three steps, as in Hugging Face tokenizers:
//
//  1. Added tokens (<|eot_id|>, <think>, ...) are cut out of the text first,
//     leftmost-longest, even when they are special: add_special_tokens=False
//     only drops the BOS that the post-processor would add.
//  2. The rest is normalized (NFC, NFKC, Prepend, Replace), then cut into
//     pieces by the pre-tokenizer: patterns in wide use have hand-written
//     scanners (handWritten), others run on a backtracking regex engine;
//     Metaspace cuts before each SentencePiece space.
//  3. Each piece is encoded with BPE, from its bytes (byte-level) or from
//     its characters (SentencePiece-style, bytes as <0xXX> tokens for
//     characters outside the vocabulary).
//
// Text is a Go string. Invalid UTF-8 cannot reach Hugging Face (Python and
// Rust strings are valid Unicode); here each invalid byte is one character
// of class "other" and is encoded as its byte.
package tokenize

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unsafe"
)

// Tokenizer holds an immutable tokenizer; it is safe for concurrent use.
// Encoding goes through an Encoder, which keeps a per-goroutine cache.
type Tokenizer struct {
	name        string
	model       *bpe
	added       map[string]int // added token content -> id
	lengths     [256][]int     // lengths of the added tokens by first byte, longest first
	maxAdded    int            // length of the longest added token
	addedFirst  int            // the byte every added token starts with, or -1 when they start with several
	normalizers []Normalizer   // applied to the text between added tokens
	metaspace   *Metaspace     // SentencePiece's pre-tokenizer, or nil
	split       splitFunc
	reach       int // bytes the split may read past a cut (see handWritten); -1: no cuts
}

type addedToken struct {
	content string
	id      int
}

// Name returns the tokenizer's name, as given to New.
func (t *Tokenizer) Name() string { return t.name }

// New builds a Tokenizer named name from spec.
func New(name string, spec *Spec) (*Tokenizer, error) {
	m := &bpe{ignoreMerges: spec.IgnoreMerges, fingerprint: fingerprint(spec)}
	stored := false
	m.vocab, m.merges, stored = storedTables(spec, m.fingerprint)
	if !stored {
		if err := m.build(name, spec); err != nil {
			return nil, err
		}
	}
	if spec.CharLevel {
		m.charLevel, m.fuseUnk, m.unk = true, spec.FuseUnk, int32(spec.Unk)
		for b := 0; b < 256; b++ {
			m.byteID[b] = -1
			if id, ok := m.vocab.get(fmt.Sprintf("<0x%02X>", b)); ok && spec.ByteFallback {
				m.byteID[b] = id
			}
		}
	} else {
		for b := 0; b < 256; b++ {
			id, ok := m.vocab.get(string([]byte{byte(b)}))
			if !ok {
				return nil, fmt.Errorf("tokenizer %s: byte 0x%02x has no token: not a byte-level BPE", name, b)
			}
			m.byteID[b] = id
		}
	}
	split, reach, err := splitter(spec.Patterns, spec.Behaviors)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", name, err)
	}
	if ms := spec.Metaspace; ms != nil {
		split, reach = splitMetaspace(ms), -1
	}
	for _, n := range spec.Normalizers {
		if n.Kind != "NFC" && n.Kind != "NFKC" {
			reach = -1 // offsets move: no cuts
		}
	}
	if c := newSpaceCuts(spec); c != nil {
		inner := split
		split = func(s string, ends []int) []int {
			n := len(ends)
			ends = inner(s, ends)
			pieces := append([]int(nil), ends[n:]...)
			return c.refine(s, pieces, ends[:n])
		}
	}
	base := &Tokenizer{model: m, normalizers: spec.Normalizers, metaspace: spec.Metaspace, split: split, reach: reach}
	return base.WithAdded(name, spec.Added), nil
}

// build builds the vocabulary and merge indexes of spec.
func (m *bpe) build(name string, spec *Spec) error {
	m.vocab = newVocabIndex(spec.Vocab)
	m.merges = newMergeIndex(len(spec.Merges))
	var merged []byte
	for rank, p := range spec.Merges {
		if int(p[0]) >= len(spec.Vocab) || int(p[1]) >= len(spec.Vocab) || p[0] < 0 || p[1] < 0 {
			return fmt.Errorf("tokenizer %s: merge %d refers to an unknown token", name, rank)
		}
		merged = append(append(merged[:0], spec.Vocab[p[0]]...), spec.Vocab[p[1]]...)
		id, ok := m.vocab.get(unsafe.String(unsafe.SliceData(merged), len(merged))) // not kept
		if !ok {
			return fmt.Errorf("tokenizer %s: merge %d makes %q, which is not in the vocabulary", name, rank, merged)
		}
		r := int32(rank)
		if spec.MergeRanks != nil {
			r = spec.MergeRanks[rank]
		}
		m.merges.add(pairKey(p[0], p[1]), merge{rank: r, id: id})
	}
	return nil
}

// WithAdded returns a tokenizer named name that shares t's vocabulary,
// merges and pre-tokenizer, with the added tokens added instead of t's:
// models that differ only in their special tokens (Llama 3.0 and 3.1)
// share the costly part.
func (t *Tokenizer) WithAdded(name string, added []AddedToken) *Tokenizer {
	n := &Tokenizer{name: name, model: t.model, normalizers: t.normalizers, metaspace: t.metaspace, split: t.split, reach: t.reach}
	n.added = make(map[string]int, len(added))
	for _, a := range added {
		if a.Content == "" {
			continue
		}
		c := a.Content[0]
		if !slices.Contains(n.lengths[c], len(a.Content)) {
			n.lengths[c] = append(n.lengths[c], len(a.Content))
		}
		if _, dup := n.added[a.Content]; !dup { // the first of equal contents wins
			n.added[a.Content] = a.ID
		}
		n.maxAdded = max(n.maxAdded, len(a.Content))
	}
	n.addedFirst = -1
	for c := range n.lengths {
		sort.Sort(sort.Reverse(sort.IntSlice(n.lengths[c])))
		if n.lengths[c] != nil {
			if n.addedFirst == -1 {
				n.addedFirst = c
			} else {
				n.addedFirst = -2 // several
			}
		}
	}
	n.addedFirst = max(n.addedFirst, -1)
	return n
}

// matchAdded returns the longest added token at s[i:], if any: a lookup
// per distinct length of the added tokens starting with s[i] (Gemma 3 has
// 6,415 added tokens, of a few dozen lengths).
func (t *Tokenizer) matchAdded(s string, i int) (addedToken, bool) {
	for _, l := range t.lengths[s[i]] { // longest first
		if i+l <= len(s) {
			if id, ok := t.added[s[i:i+l]]; ok {
				return addedToken{s[i : i+l], id}, true
			}
		}
	}
	return addedToken{}, false
}

// Encoder encodes text with a Tokenizer, caching the ids of frequent pieces.
// An Encoder is not safe for concurrent use; make one per goroutine.
type Encoder struct {
	t     *Tokenizer
	short *[shortSlots]cachedPiece // pieces of at most 16 bytes and 3 ids, direct-mapped
	cache map[string][]int32
	ends  []int
	head  []int // scratch of AppendPart
	cuts  []Cut // scratch of AppendPart
	// copied counts the ids AppendPart took from memos (tests read it).
	copied int
}

// cacheLimit bounds the piece cache; it is emptied when full.
const cacheLimit = 1 << 16

// shortSlots is the size of the short piece cache (512 KB: it stays in a
// core's second-level cache, where most lookups of the map missed).
const shortSlots = 1 << shortBits

// shortBits is the number of bits of a short piece's slot.
const shortBits = 14

// A cachedPiece is a piece of at most 16 bytes (zero-padded in k0, k1; n
// its length, 0 for an empty slot) and its ids (cnt of them).
type cachedPiece struct {
	k0, k1 uint64
	n, cnt uint8
	ids    [3]int32
}

// shortKey returns a piece of at most 16 bytes as two words that, with
// its length, tell it from every other such piece: its first and last
// eight bytes (overlapping below 16), its first and last four below 8, its
// first, middle and last byte below 4. It reads no byte outside p (a copy
// into a zeroed array cost a call to memmove a piece).
func shortKey(p string) (k0, k1 uint64) {
	n := len(p)
	switch {
	case n >= 8:
		return binary.LittleEndian.Uint64([]byte(p[:8])), binary.LittleEndian.Uint64([]byte(p[n-8:]))
	case n >= 4:
		return uint64(binary.LittleEndian.Uint32([]byte(p[:4]))) | uint64(binary.LittleEndian.Uint32([]byte(p[n-4:])))<<32, 0
	case n > 0:
		return uint64(p[0]) | uint64(p[n/2])<<8 | uint64(p[n-1])<<16, 0
	}
	return 0, 0
}

// shortSlot returns the slot of the short piece (k0, k1, n).
func shortSlot(k0, k1 uint64, n int) uint64 {
	h := k0*0x9e3779b97f4a7c15 ^ k1*0xc2b2ae3d27d4eb4f ^ uint64(n)*0x165667b19e3779f9
	return h >> (64 - shortBits)
}

// NewEncoder returns an Encoder for t.
func (t *Tokenizer) NewEncoder() *Encoder {
	return &Encoder{t: t, short: new([shortSlots]cachedPiece), cache: make(map[string][]int32, 1024)}
}

// Encode returns the token ids of text.
func (e *Encoder) Encode(text string) []int {
	return e.Append(nil, text)
}

// Append appends the token ids of text to dst.
func (e *Encoder) Append(dst []int, text string) []int {
	dst, _ = e.AppendCuts(dst, text, nil, false)
	return dst
}

// Cut is a place where a text can be cut without changing its tokens: the
// tokens of text[:Byte] are the first IDs tokens of the whole text, and the
// tokens of text[Byte:] alone are the rest. See Reuse.
type Cut struct {
	Byte int // offset in the text
	IDs  int // number of tokens before it
}

// cutSpacing is the least distance in bytes between recorded cuts.
const cutSpacing = 64

// AppendCuts is Append that also records cuts (when record is true),
// appending them to cuts. Offsets and counts are relative to text and to
// the ids appended for it.
func (e *Encoder) AppendCuts(dst []int, text string, cuts []Cut, record bool) ([]int, []Cut) {
	spacing := -1
	if record {
		spacing = cutSpacing
	}
	return e.appendCuts(dst, text, cuts, spacing)
}

// appendCuts is AppendCuts recording cuts at least spacing bytes apart (0:
// every cut; -1: none).
func (e *Encoder) appendCuts(dst []int, text string, cuts []Cut, spacing int) ([]int, []Cut) {
	t := e.t
	base := len(dst)
	start := 0
	if len(t.added) > 0 {
		for i := 0; i < len(text); i++ {
			if t.addedFirst >= 0 {
				// One byte starts every added token (Llama 3's '<'):
				// jump to the next one.
				k := strings.IndexByte(text[i:], byte(t.addedFirst))
				if k < 0 {
					break
				}
				i += k
			} else if t.lengths[text[i]] == nil {
				continue
			}
			if a, ok := t.matchAdded(text, i); ok {
				dst, cuts = e.appendPlain(dst, text, start, i, base, cuts, spacing)
				dst = append(dst, a.id)
				start = i + len(a.content)
				i = start - 1
			}
		}
	}
	return e.appendPlain(dst, text, start, len(text), base, cuts, spacing)
}

// appendPlain encodes text[from:to], which holds no added token.
func (e *Encoder) appendPlain(dst []int, text string, from, to, base int, cuts []Cut, spacing int) ([]int, []Cut) {
	if from == to {
		return dst, cuts
	}
	seg, changed := e.t.normalize(text[from:to], from == 0)
	// Offsets in a changed normalized text are not offsets in text: no cuts.
	record := spacing >= 0 && !changed && e.t.reach >= 0
	// Room for the ids and pieces of text of about four bytes a token, so
	// that a long text does not grow them again and again.
	if need := len(dst) + len(seg)/4; need > cap(dst) {
		// Twice the room: a prompt's ids grow call after call (append
		// grows a long slice by a quarter, copying it each time).
		dst = append(make([]int, 0, max(need, 2*cap(dst))), dst...)
	}
	e.ends = e.t.split(seg, slices.Grow(e.ends[:0], len(seg)/4))
	m, short := e.t.model, e.short
	prev := 0
	for _, end := range e.ends {
		if end < 0 { // dropped by the pre-tokenizer
			prev = ^end
			continue
		}
		// appendPiece, written out here: most pieces are one byte or in
		// the short cache, and take no call.
		piece := seg[prev:end]
		switch n := len(piece); {
		case n == 1 && !m.charLevel:
			dst = append(dst, int(m.byteID[piece[0]]))
		case n <= 16:
			k0, k1 := shortKey(piece)
			slot := shortSlot(k0, k1, n)
			if sp := &short[slot]; int(sp.n) == n && sp.k0 == k0 && sp.k1 == k1 {
				for _, id := range sp.ids[:sp.cnt] {
					dst = append(dst, int(id))
				}
				break
			}
			dst = e.appendUncached(dst, piece, k0, k1, slot)
		default:
			dst = e.appendUncached(dst, piece, 0, 0, 0)
		}
		prev = end
		// A piece that ends in, and is followed by, a character that is not
		// white space was matched by an alternative that read at most
		// reach bytes past it: text after those cannot move the cut.
		if record && end < len(seg) && !isSpaceByte(seg[end-1]) && !isSpaceByte(seg[end]) {
			at := from + end
			if len(cuts) == 0 || at-cuts[len(cuts)-1].Byte >= spacing {
				cuts = append(cuts, Cut{Byte: at, IDs: len(dst) - base})
			}
		}
	}
	return dst, cuts
}

// isSpaceByte reports whether c may be part of a white-space character:
// ASCII white space, or any byte of a non-ASCII character (some of which
// are white space). Cuts are only placed between ASCII non-space bytes.
func isSpaceByte(c byte) bool { return spaceBytes[c] }

// spaceBytes is isSpaceByte as a table (a lookup, not six branches, for
// every piece).
var spaceBytes = func() (t [256]bool) {
	for c := range t {
		t[c] = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c >= 0x80
	}
	return
}()

// appendPiece appends the ids of one pre-tokenized piece to dst, from the
// caches when they have it (appendPlain's loop does the same in place).
func (e *Encoder) appendPiece(dst []int, piece string) []int {
	m := e.t.model
	if len(piece) == 1 && !m.charLevel {
		return append(dst, int(m.byteID[piece[0]]))
	}
	var k0, k1, slot uint64
	if len(piece) <= 16 {
		k0, k1 = shortKey(piece)
		slot = shortSlot(k0, k1, len(piece))
		if sp := &e.short[slot]; int(sp.n) == len(piece) && sp.k0 == k0 && sp.k1 == k1 {
			for _, id := range sp.ids[:sp.cnt] {
				dst = append(dst, int(id))
			}
			return dst
		}
	}
	return e.appendUncached(dst, piece, k0, k1, slot)
}

// appendUncached is appendPiece for a piece that is not in the short
// cache (k0, k1, slot: its key and slot there, when it is of at most 16
// bytes): from the piece cache, else encoded, and then cached.
func (e *Encoder) appendUncached(dst []int, piece string, k0, k1, slot uint64) []int {
	m := e.t.model
	if ids, ok := e.cache[piece]; ok {
		if len(piece) <= 16 && len(ids) <= 3 {
			e.short[slot] = cachedPiece{k0: k0, k1: k1, n: uint8(len(piece)), cnt: uint8(len(ids))}
			copy(e.short[slot].ids[:], ids)
		}
		for _, id := range ids {
			dst = append(dst, int(id))
		}
		return dst
	}
	n := len(dst)
	dst = m.encode(piece, dst)
	if len(piece) <= 16 && len(dst)-n <= 3 {
		sp := &e.short[slot]
		*sp = cachedPiece{k0: k0, k1: k1, n: uint8(len(piece)), cnt: uint8(len(dst) - n)}
		for i, id := range dst[n:] {
			sp.ids[i] = int32(id)
		}
	}
	if len(piece) <= 64 {
		if len(e.cache) >= cacheLimit {
			clear(e.cache)
		}
		ids := make([]int32, len(dst)-n)
		for i, id := range dst[n:] {
			ids[i] = int32(id)
		}
		e.cache[strings.Clone(piece)] = ids
	}
	return dst
}
