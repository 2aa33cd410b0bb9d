package tokenize

import (
	"hash/maphash"
	"math/bits"
)

// vocabIndex maps token bytes to ids. It is an open-addressing table of
// ids, probed linearly from a hash of the bytes, which are compared with
// the vocabulary itself: 4 bytes a slot, so the table of a 128k vocabulary
// fits in 1 MiB and is built several times faster than a Go map, which
// matters because every run of trace-tokenize builds it first.
type vocabIndex struct {
	tokens []string // by id
	slots  []int32  // id+1 of the token in the slot; 0 is empty
	seed   maphash.Seed
}

// newVocabIndex indexes tokens (by id; "" is no token). When two ids have
// the same bytes, the larger id wins, as with a map filled in id order.
func newVocabIndex(tokens []string) *vocabIndex {
	size := 1 << bits.Len(uint(2*len(tokens))) // load factor at most 1/2
	v := &vocabIndex{tokens: tokens, slots: make([]int32, size), seed: maphash.MakeSeed()}
	mask := uint64(size - 1)
	for id, tok := range tokens {
		if tok == "" {
			continue
		}
		for i := maphash.String(v.seed, tok) & mask; ; i = (i + 1) & mask {
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
	for i := maphash.String(v.seed, s) & mask; ; i = (i + 1) & mask {
		id := v.slots[i] - 1
		if id < 0 {
			return 0, false
		}
		if v.tokens[id] == s {
			return id, true
		}
	}
}
