package tokenize

import (
	"encoding/binary"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
)

// The short piece cache gives what encoding the piece gives: after random
// pieces in any order, and when the slot a piece looks in holds another
// piece that shares its first eight bytes, or all its bytes but a length
// of trailing NULs, or nothing in common (the slot set by hand: such
// collisions are too rare to meet by chance).
func TestPieceCache(t *testing.T) {
	tok := loadFamily(t, "../../testdata/tokenizers/families/gpt2.tokenizer.json", nil)
	list, err := os.ReadFile("../synthtext/words.txt")
	if err != nil {
		t.Fatal(err)
	}
	words := strings.Fields(string(list))
	warm := tok.NewEncoder()
	fresh := func(p string) []int { return tok.model.encode(p, nil) } // no cache
	r := rand.New(rand.NewPCG(3, 4))
	piece := func() string {
		p := words[r.IntN(len(words))]
		if r.IntN(2) == 0 {
			p = " " + p
		}
		if r.IntN(3) == 0 {
			p += words[r.IntN(len(words))]
		}
		return p
	}
	for range 20000 {
		p := piece()
		if got, want := warm.appendPiece(nil, p), fresh(p); !slices.Equal(got, want) {
			t.Fatalf("%q: got %v, want %v", p, got, want)
		}
	}
	tried := 0
	for range 5000 {
		q := " between" + words[r.IntN(len(words))]
		var p string
		switch r.IntN(3) {
		case 0: // the same first eight bytes and length
			p = " between" + words[r.IntN(len(words))]
			if len(p) != len(q) {
				continue
			}
		case 1: // the same bytes but trailing NULs
			p = q + strings.Repeat("\x00", 1+r.IntN(3))
			q, p = p, q[:len(q)-r.IntN(2)]
		default:
			p = piece()
		}
		if len(p) > 16 || len(q) > 16 || p == q {
			continue
		}
		ids := fresh(p)
		if len(ids) > 3 {
			continue
		}
		k0, k1 := shortKey(p)
		q0, q1 := shortKey(q)
		e := cachedPiece{k0: k0, k1: k1, n: uint8(len(p)), cnt: uint8(len(ids))}
		for i, id := range ids {
			e.ids[i] = int32(id)
		}
		warm.short[shortSlot(q0, q1, len(q))] = e
		if got, want := warm.appendPiece(nil, q), fresh(q); !slices.Equal(got, want) {
			t.Fatalf("%q in a slot holding %q: got %v, want %v", q, p, got, want)
		}
		tried++
	}
	if tried < 1000 {
		t.Fatalf("only %d pairs tried", tried)
	}
}

// shortKey's words and a piece's length give back every byte of it, so
// two short pieces never share a key: checked on random pieces of every
// length, bytes of every value.
func TestShortKeyGivesThePieceBack(t *testing.T) {
	back := func(k0, k1 uint64, n int) string {
		b := make([]byte, n)
		var w [8]byte
		switch {
		case n >= 8:
			binary.LittleEndian.PutUint64(w[:], k0)
			copy(b, w[:])
			binary.LittleEndian.PutUint64(w[:], k1)
			copy(b[n-8:], w[:])
		case n >= 4:
			binary.LittleEndian.PutUint64(w[:], k0)
			copy(b, w[:4])
			copy(b[n-4:], w[4:])
		case n > 0:
			b[0], b[n/2], b[n-1] = byte(k0), byte(k0>>8), byte(k0>>16)
		}
		return string(b)
	}
	r := rand.New(rand.NewPCG(3, 3))
	for n := 0; n <= 16; n++ {
		for range 20000 {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			k0, k1 := shortKey(string(b))
			if got := back(k0, k1, n); got != string(b) {
				t.Fatalf("%q: the key gives %q back", b, got)
			}
		}
	}
}
