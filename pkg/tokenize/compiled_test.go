package tokenize

import (
	"os"
	"slices"
	"testing"

	"github.com/agent-trace/agent-trace/pkg/fuzzseed"
)

func tinySpec(t testing.TB) *Spec {
	data, err := os.ReadFile("../../testdata/tokenizers/tiny/tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := ParseJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// A compiled tokenizer gives back its spec and the ids of the tokenizer it
// was made from.
func TestCompiledRoundTrip(t *testing.T) {
	spec := tinySpec(t)
	tok, err := New("tiny", spec)
	if err != nil {
		t.Fatal(err)
	}
	back, err := UnmarshalCompiled(MarshalCompiled(spec, tok))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Vocab, spec.Vocab) || !slices.Equal(back.Merges, spec.Merges) || !slices.Equal(back.Patterns, spec.Patterns) || !slices.Equal(back.Behaviors, spec.Behaviors) || !slices.Equal(back.Normalizers, spec.Normalizers) || back.CharLevel != spec.CharLevel || back.Unk != spec.Unk ||
		!slices.Equal(back.Added, spec.Added) || back.IgnoreMerges != spec.IgnoreMerges || back.Tables == "" {
		t.Fatal("the spec changed on the way")
	}
	again, err := New("tiny", back)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"hello world", "a  b\n\nc 12345 é", ""} {
		if !slices.Equal(again.NewEncoder().Encode(text), tok.NewEncoder().Encode(text)) {
			t.Fatalf("%q: ids differ", text)
		}
	}
}

// FuzzUnmarshalCompiled: any bytes give a spec or ErrCompiled, never a
// panic, and a spec that comes back builds or fails cleanly.
func FuzzUnmarshalCompiled(f *testing.F) {
	fuzzseed.Add(f)
	spec := tinySpec(f)
	tok, err := New("tiny", spec)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(MarshalCompiled(spec, tok))
	f.Fuzz(func(t *testing.T, b []byte) {
		spec, err := UnmarshalCompiled(b)
		if err != nil {
			return
		}
		New("fuzz", spec)
	})
}
