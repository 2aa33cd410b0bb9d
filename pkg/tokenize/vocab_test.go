package tokenize

import (
	"fmt"
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
}
