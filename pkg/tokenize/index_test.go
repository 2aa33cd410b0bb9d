package tokenize

import (
	"fmt"
	"reflect"
	"testing"
)

// vocabIndex finds every token, the larger id of two with the same bytes
// (as a map filled in id order does), and nothing else.
func TestVocabIndex(t *testing.T) {
	tokens := []string{"a", "b", "", "ab", "\x80", "a"}
	for i := range 5000 {
		tokens = append(tokens, fmt.Sprintf("tok%d", i))
	}
	v := newVocabIndex(tokens)
	want := map[string]int32{}
	for id, tok := range tokens {
		if tok != "" {
			want[tok] = int32(id)
		}
	}
	for tok, id := range want {
		if got, ok := v.get(tok); !ok || got != id {
			t.Errorf("get(%q) = %d, %v; want %d", tok, got, ok, id)
		}
	}
	for _, s := range []string{"", "c", "abc", "tok5000", "\x80\x80", "A"} {
		if id, ok := v.get(s); ok {
			t.Errorf("get(%q) = %d, want none", s, id)
		}
	}
	for id, tok := range tokens {
		if got := v.token(int32(id)); got != tok {
			t.Errorf("token(%d) = %q, want %q", id, got, tok)
		}
	}
}

// The index holds its vocabulary without a pointer per token: a
// []string of the vocabulary, kept by a tokenizer for a run, is scanned
// by the garbage collector in every cycle (7% of trace-tokenize's
// instructions on the telemetry bench).
func TestVocabIndexHasNoPointerPerToken(t *testing.T) {
	v := newVocabIndex([]string{"a", "bc", "d"})
	typ := reflect.TypeOf(*v)
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() != reflect.Int32 && f.Type.Elem().Kind() != reflect.Uint32 {
			t.Errorf("vocabIndex.%s is a %s: a pointer per element", f.Name, f.Type)
		}
	}
}

// mergeIndex keeps the first merge of a pair (the lowest rank), finds
// every pair added, pair (0, 0) included, and nothing else.
func TestMergeIndex(t *testing.T) {
	x := newMergeIndex(3000)
	want := map[uint64]merge{}
	for i := range int32(3000) {
		a, b := i%97, i/97
		key := pairKey(a, b)
		x.add(key, merge{rank: i, id: 1000 + i})
		x.add(key, merge{rank: i + 5000, id: 7}) // a later merge of the same pair loses
		want[key] = merge{rank: i, id: 1000 + i}
	}
	for key, mg := range want {
		if got, ok := x.get(key); !ok || got != mg {
			t.Errorf("get(%x) = %v, %v; want %v", key, got, ok, mg)
		}
	}
	for _, key := range []uint64{pairKey(97, 0), pairKey(0, 31), pairKey(1<<20, 1)} {
		if mg, ok := x.get(key); ok {
			t.Errorf("get(%x) = %v, want none", key, mg)
		}
	}
}
