package tokenize

import "unicode/utf8"

// bpe is a BPE model with Hugging Face semantics: the pair with the lowest
// merge rank is merged first (the leftmost among equal ranks), and with
// ignoreMerges a piece that is itself in the vocabulary is one token
// without merging. A byte-level model starts from the piece's bytes; a
// character-level one (SentencePiece-style) from its characters.
type bpe struct {
	vocab        *vocabIndex // token bytes -> id
	byteID       [256]int32  // id of each single byte; character-level: of its <0xXX> token, or -1
	merges       *mergeIndex // (left id, right id) -> merge
	ignoreMerges bool
	charLevel    bool   // start from characters, bytes for those outside the vocabulary
	unk          int32  // character-level: the token of a character with no other, or -1
	fuseUnk      bool   // consecutive unknown characters are one unknown token
	fingerprint  uint64 // of the Spec, for Tables
}

type merge struct {
	rank int32 // position in the merges list
	id   int32 // id of the merged token
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// shortPiece is the length up to which the quadratic merge loop is faster
// than the heap.
const shortPiece = 48

// encode appends the ids of one pre-tokenized piece to dst.
func (m *bpe) encode(piece string, dst []int) []int {
	if m.charLevel {
		return m.encodeChars(piece, dst)
	}
	if len(piece) == 1 {
		return append(dst, int(m.byteID[piece[0]]))
	}
	if id, ok := m.whole(piece); ok {
		return append(dst, int(id))
	}
	var buf [shortPiece]int32
	syms := symbols(&buf, len(piece))
	for i := 0; i < len(piece); i++ {
		syms = append(syms, m.byteID[piece[i]])
	}
	return m.merge(syms, dst)
}

// encodeChars is encode for a character-level model, as Hugging Face's
// BPE.merge_word: each character's token, else its bytes' <0xXX> tokens
// (byte fallback), else the unknown token, fused with the unknown ones
// before it when fuseUnk. An unknown token waits until the next known
// character, as there (bytes of a fallback character go before it); a
// character with none of these is dropped, as there.
func (m *bpe) encodeChars(piece string, dst []int) []int {
	if id, ok := m.whole(piece); ok {
		return append(dst, int(id))
	}
	var buf [shortPiece]int32
	syms := symbols(&buf, len(piece))
	pendingUnk := false
	for i := 0; i < len(piece); {
		_, n := utf8.DecodeRuneInString(piece[i:])
		if id, ok := m.vocab.get(piece[i : i+n]); ok {
			if pendingUnk {
				syms = append(syms, m.unk)
				pendingUnk = false
			}
			syms = append(syms, id)
		} else if m.hasBytes(piece[i : i+n]) {
			for j := i; j < i+n; j++ {
				syms = append(syms, m.byteID[piece[j]])
			}
		} else if m.unk >= 0 {
			if pendingUnk && !m.fuseUnk {
				syms = append(syms, m.unk)
			}
			pendingUnk = true
		}
		i += n
	}
	if pendingUnk {
		syms = append(syms, m.unk)
	}
	return m.merge(syms, dst)
}

// whole returns the token of a whole piece when ignoreMerges says a piece
// in the vocabulary is one token.
func (m *bpe) whole(piece string) (int32, bool) {
	if !m.ignoreMerges {
		return 0, false
	}
	return m.vocab.get(piece)
}

// symbols returns an empty list of symbols for a piece of n bytes (at most
// n symbols): buf when it is long enough.
func symbols(buf *[shortPiece]int32, n int) []int32 {
	if n > shortPiece {
		return make([]int32, 0, n)
	}
	return buf[:0]
}

// hasBytes reports whether every byte of ch has a byte-fallback token.
func (m *bpe) hasBytes(ch string) bool {
	for i := 0; i < len(ch); i++ {
		if m.byteID[ch[i]] < 0 {
			return false
		}
	}
	return true
}

// merge applies the merges to the symbols syms (which it may overwrite)
// and appends the result to dst.
func (m *bpe) merge(syms []int32, dst []int) []int {
	if len(syms) <= shortPiece {
		return m.mergeShort(syms, dst)
	}
	return m.mergeLong(syms, dst)
}

// mergeShort merges by repeated scans: O(n²), fast for short pieces.
func (m *bpe) mergeShort(syms []int32, dst []int) []int {
	for len(syms) > 1 {
		best, bestRank, bestID := -1, int32(1<<31-1), int32(0)
		for i := 0; i+1 < len(syms); i++ {
			if mg, ok := m.merges.get(pairKey(syms[i], syms[i+1])); ok && mg.rank < bestRank {
				best, bestRank, bestID = i, mg.rank, mg.id
			}
		}
		if best < 0 {
			break
		}
		syms[best] = bestID
		syms = append(syms[:best+1], syms[best+2:]...)
	}
	for _, s := range syms {
		dst = append(dst, int(s))
	}
	return dst
}

// mergeLong merges with a heap of candidate pairs over a linked list of
// symbols, as Hugging Face's BPE does: O(n log n).
func (m *bpe) mergeLong(ids []int32, dst []int) []int {
	n := len(ids)
	type sym struct {
		id         int32
		prev, next int32 // -1 at the ends
		alive      bool
	}
	syms := make([]sym, n)
	for i := 0; i < n; i++ {
		syms[i] = sym{id: ids[i], prev: int32(i - 1), next: int32(i + 1), alive: true}
	}
	syms[n-1].next = -1
	h := make(pairHeap, 0, n)
	push := func(pos int32) {
		nx := syms[pos].next
		if nx < 0 {
			return
		}
		if mg, ok := m.merges.get(pairKey(syms[pos].id, syms[nx].id)); ok {
			h.push(candidate{rank: mg.rank, pos: pos, left: syms[pos].id, right: syms[nx].id, id: mg.id})
		}
	}
	for i := int32(0); i < int32(n); i++ {
		push(i)
	}
	for len(h) > 0 {
		c := h.pop()
		s := &syms[c.pos]
		// Skip candidates made stale by earlier merges.
		if !s.alive || s.id != c.left || s.next < 0 || syms[s.next].id != c.right {
			continue
		}
		nx := s.next
		s.id = c.id
		syms[nx].alive = false
		s.next = syms[nx].next
		if s.next >= 0 {
			syms[s.next].prev = c.pos
		}
		if s.prev >= 0 {
			push(s.prev)
		}
		push(c.pos)
	}
	for i := int32(0); i >= 0; i = syms[i].next {
		dst = append(dst, int(syms[i].id))
	}
	return dst
}

// candidate is a mergeable pair at a position; the heap orders by rank, then
// position.
type candidate struct {
	rank, pos, left, right, id int32
}

type pairHeap []candidate

func (h pairHeap) less(i, j int) bool {
	if h[i].rank != h[j].rank {
		return h[i].rank < h[j].rank
	}
	return h[i].pos < h[j].pos
}

func (h *pairHeap) push(c candidate) {
	*h = append(*h, c)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if !a.less(i, p) {
			break
		}
		a[i], a[p] = a[p], a[i]
		i = p
	}
}

func (h *pairHeap) pop() candidate {
	a := *h
	top := a[0]
	last := len(a) - 1
	a[0] = a[last]
	a = a[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(a) && a.less(l, m) {
			m = l
		}
		if r < len(a) && a.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
	*h = a
	return top
}
