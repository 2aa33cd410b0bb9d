package tokenize

import (
	"math/bits"
	"strings"

	"github.com/zeebo/xxh3"
)

// vocabIndex maps token bytes to ids. It is an open-addressing table of
// ids, probed linearly from a hash of the bytes, which are compared with
// the vocabulary itself: 4 bytes a slot, so the table of a 128k vocabulary
// fits in 1 MiB and is built several times faster than a Go map, which
// matters when a run builds it (see Spec.Tables for one that is not built).
// The hash is fixed, not seeded, so that a table built once can be stored.
type vocabIndex struct {
	// The tokens' bytes one after another, and where each token's end:
	// no pointer per token, so that the collector has nothing to scan in
	// a vocabulary of 128k tokens (a []string is 128k pointers, scanned in
	// every cycle of a long run).
	text  string
	ends  []uint32 // ends[id]: the end of token id's bytes in text; it starts where id-1's end
	slots []int32  // id+1 of the token in the slot; 0 is empty
}

func vocabHash(s string) uint64 { return xxh3.HashString(s) }

// newVocabText returns the tokens' bytes one after another and where
// each token ends, for a vocabIndex.
func newVocabText(tokens []string) (string, []uint32) {
	n := 0
	for _, tok := range tokens {
		n += len(tok)
	}
	var b strings.Builder
	b.Grow(n)
	ends := make([]uint32, len(tokens))
	for id, tok := range tokens {
		b.WriteString(tok)
		ends[id] = uint32(b.Len())
	}
	return b.String(), ends
}

// token returns the bytes of token id.
func (v *vocabIndex) token(id int32) string {
	start := uint32(0)
	if id > 0 {
		start = v.ends[id-1]
	}
	return v.text[start:v.ends[id]]
}

// newVocabIndex indexes tokens (by id; "" is no token). When two ids have
// the same bytes, the larger id wins, as with a map filled in id order.
func newVocabIndex(tokens []string) *vocabIndex {
	size := 1 << bits.Len(uint(2*len(tokens))) // load factor at most 1/2
	v := &vocabIndex{slots: make([]int32, size)}
	v.text, v.ends = newVocabText(tokens)
	mask := uint64(size - 1)
	for id, tok := range tokens {
		if tok == "" {
			continue
		}
		for i := vocabHash(tok) & mask; ; i = (i + 1) & mask {
			s := v.slots[i]
			if s == 0 || tokens[s-1] == tok {
				v.slots[i] = int32(id) + 1
				break
			}
		}
	}
	return v
}

// get returns the id of the token with the bytes s.
func (v *vocabIndex) get(s string) (int32, bool) {
	mask := uint64(len(v.slots) - 1)
	for i := vocabHash(s) & mask; ; i = (i + 1) & mask {
		id := v.slots[i] - 1
		if id < 0 {
			return 0, false
		}
		if v.token(id) == s {
			return id, true
		}
	}
}

// mergeIndex maps a pair of token ids to its merge: an open-addressing
// table of 16-byte slots probed linearly from a multiplicative hash of the
// pair. Built several times faster than a Go map of the same pairs.
type mergeIndex struct {
	slots []mergeSlot
	shift uint // 64 - log2(len(slots))
}

type mergeSlot struct {
	key uint64 // pairKey + 1; 0 is empty
	merge
}

func newMergeIndex(n int) *mergeIndex {
	b := bits.Len(uint(n + n/2 + 1)) // load factor below 2/3
	return &mergeIndex{slots: make([]mergeSlot, 1<<b), shift: uint(64 - b)}
}

func (x *mergeIndex) slot(key uint64) uint64 { return (key * 0x9E3779B97F4A7C15) >> x.shift }

// add adds the merge of a pair unless the pair has one already (the first,
// lowest-ranked merge wins, as in Hugging Face tokenizers).
func (x *mergeIndex) add(key uint64, mg merge) {
	mask := uint64(len(x.slots) - 1)
	for i := x.slot(key); ; i = (i + 1) & mask {
		switch x.slots[i].key {
		case 0:
			x.slots[i] = mergeSlot{key + 1, mg}
			return
		case key + 1:
			return
		}
	}
}

// get returns the merge of a pair.
func (x *mergeIndex) get(key uint64) (merge, bool) {
	mask := uint64(len(x.slots) - 1)
	for i := x.slot(key); ; i = (i + 1) & mask {
		switch x.slots[i].key {
		case key + 1:
			return x.slots[i].merge, true
		case 0:
			return merge{}, false
		}
	}
}
