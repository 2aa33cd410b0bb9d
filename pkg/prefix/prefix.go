// Package prefix assigns Mooncake hash_ids: one id per block of token ids,
// chained so that two prompts share an id exactly when they share the whole
// prefix up to and including that block.
//
// Block k of a prompt is identified by (id of block k-1, or the root for
// k = 0; the block's token ids). A pair seen for the first time gets the
// next id, from 0 up, in first-seen order, in one id space for all sessions:
// exactly the reference converter's RollingHasher.
//
// The table keys each pair by its 128-bit XXH3 hash rather than by the pair
// itself, which would cost the block's tokens per entry. Two different
// pairs get the same id only if their hashes collide: for n blocks the
// chance is about n²/2¹²⁹, 1.5e-21 at 10⁹ blocks. An entry costs 16 bytes
// in the file and 21 to 27 in memory (its key and its index slots).
package prefix

import (
	"encoding/binary"
	"fmt"

	"github.com/zeebo/xxh3"
)

// Key is the 128-bit hash of a (parent id, block tokens) pair.
type Key struct{ Lo, Hi uint64 }

// root stands for the parent of a prompt's first block.
const root = ^uint64(0)

// Table maps blocks to ids. The zero value is not usable; use New or Load.
type Table struct {
	blockSize int
	tokenizer string
	index     index
	keys      []Key // keys[id]; the ids are dense
	loaded    int   // entries that came from the file
	buf       []byte
}

// New returns an empty table for blocks of blockSize tokens of the named
// tokenizer.
func New(blockSize int, tokenizer string) *Table {
	return &Table{blockSize: blockSize, tokenizer: tokenizer, index: newIndex(0)}
}

// BlockSize returns the number of tokens per block.
func (t *Table) BlockSize() int { return t.blockSize }

// Tokenizer returns the tokenizer the table's blocks were made with.
func (t *Table) Tokenizer() string { return t.tokenizer }

// Len returns the number of blocks (ids) in the table.
func (t *Table) Len() int { return len(t.keys) }

// Added returns the number of blocks added since the table was loaded.
func (t *Table) Added() int { return len(t.keys) - t.loaded }

// MaxBlocks is the number of ids a table can hold.
const MaxBlocks = 1<<32 - 1

// HashIDs appends the ids of the blocks of tokens to dst, adding blocks not
// yet in the table. The last block may be shorter than the block size.
// parent is the id the first block chains from, or -1 for the root (a new
// prompt); delta rows chain from the previous row's last block.
func (t *Table) HashIDs(tokens []uint32, parent int64, dst []int64) ([]int64, error) {
	p := root
	if parent >= 0 {
		p = uint64(parent)
	}
	for i := 0; i < len(tokens); i += t.blockSize {
		block := tokens[i:min(i+t.blockSize, len(tokens))]
		k := t.key(p, block)
		id, slot, ok := t.index.find(t.keys, k)
		if !ok {
			if len(t.keys) >= MaxBlocks {
				return dst, fmt.Errorf("prefix table full (%d blocks)", MaxBlocks)
			}
			if t.index.full(len(t.keys)) {
				t.index = rebuild(t.keys)
				_, slot, _ = t.index.find(t.keys, k)
			}
			id = uint32(len(t.keys))
			t.keys = append(t.keys, k)
			t.index.insert(slot, id)
		}
		dst = append(dst, int64(id))
		p = uint64(id)
	}
	return dst, nil
}

// key hashes (parent, block): the parent as 8 bytes, then each token as 4,
// little-endian. The block length is implied by the byte length.
func (t *Table) key(parent uint64, block []uint32) Key {
	b := t.buf[:0]
	b = binary.LittleEndian.AppendUint64(b, parent)
	for _, tok := range block {
		b = binary.LittleEndian.AppendUint32(b, tok)
	}
	t.buf = b
	h := xxh3.Hash128(b)
	return Key{Lo: h.Lo, Hi: h.Hi}
}
