package tokenize

import (
	"os"
	"slices"
	"testing"
	"unsafe"
)

// aligned returns b as a string whose data is 8-byte aligned, as a stored
// table must be to be used in place.
func aligned(b []byte, offset int) string {
	words := make([]uint64, (len(b)+offset)/8+1)
	buf := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), 8*len(words))[offset:]
	copy(buf, b)
	return unsafe.String(&buf[0], len(b))
}

// Stored tables are used in place when they were built from the same Spec,
// and encode exactly as built ones; tables of another Spec, or misaligned,
// are ignored (the tokenizer builds its own).
func TestStoredTables(t *testing.T) {
	data, err := os.ReadFile("../../testdata/tokenizers/tiny-gpt2/tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := ParseJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	built, err := New("tiny", spec)
	if err != nil {
		t.Fatal(err)
	}
	tables := built.Tables()
	texts := []string{"hello world", "  the\n\n\nhell's 12345 ??", "Hello World, héllo wörld 東京", ""}

	withTables := func(s string) (*Tokenizer, bool) {
		sp := *spec
		sp.Tables = s
		tok, err := New("tiny", &sp)
		if err != nil {
			t.Fatal(err)
		}
		inPlace := unsafe.Pointer(unsafe.SliceData(tok.model.vocab.slots)) == unsafe.Add(unsafe.Pointer(unsafe.StringData(s)), tablesHeader)
		return tok, inPlace
	}
	stored, inPlace := withTables(aligned(tables, 0))
	if !inPlace {
		t.Fatal("aligned tables of the same spec were not used in place")
	}
	for _, text := range texts {
		if a, b := built.NewEncoder().Encode(text), stored.NewEncoder().Encode(text); !slices.Equal(a, b) {
			t.Errorf("%q: stored tables give %v, built ones %v", text, b, a)
		}
	}
	if !slices.Equal(stored.Tables(), tables) {
		t.Error("tables of a tokenizer on stored tables differ from the stored ones")
	}
	if _, inPlace := withTables(aligned(tables, 4)); inPlace {
		t.Error("misaligned tables were used")
	}
	if _, inPlace := withTables(aligned(tables[:len(tables)-1], 0)); inPlace {
		t.Error("truncated tables were used")
	}
	other := *spec
	other.Vocab = append(slices.Clone(spec.Vocab), "a token more")
	other.Tables = aligned(tables, 0)
	tok, err := New("other", &other)
	if err != nil {
		t.Fatal(err)
	}
	if unsafe.Pointer(unsafe.SliceData(tok.model.vocab.slots)) == unsafe.Add(unsafe.Pointer(unsafe.StringData(other.Tables)), tablesHeader) {
		t.Error("tables of another vocabulary were used")
	}
}
