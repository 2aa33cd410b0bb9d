package tokenize

import (
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
