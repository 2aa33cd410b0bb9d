package otel

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

// The splitter cuts a stream into the values encoding/json's decoder
// finds, whatever the strings hold (escaped quotes, backslash runs,
// brackets) and however the reads fall (one byte at a time puts every
// backslash run across reads).
func TestSplitterAgreesWithDecoder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune{'a', '"', '\\', '{', '}', '[', ']', ' ', '\n', 'é', '\\', '"'}
	var stream bytes.Buffer
	for range 300 {
		var sb []rune
		for n := rng.IntN(12); n > 0; n-- {
			sb = append(sb, alphabet[rng.IntN(len(alphabet))])
		}
		v := map[string]any{"k": string(sb), "l": []any{string(sb), map[string]any{string(sb): 1}}}
		b, _ := json.Marshal(v)
		if rng.IntN(2) == 0 {
			b, _ = json.MarshalIndent(v, "", "  ")
		}
		stream.Write(b)
		stream.WriteString([]string{"\n", " ", "", "\n\n"}[rng.IntN(4)])
	}
	var want []string
	dec := json.NewDecoder(bytes.NewReader(stream.Bytes()))
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		want = append(want, string(raw))
	}
	for _, r := range []io.Reader{bytes.NewReader(stream.Bytes()), iotest.OneByteReader(bytes.NewReader(stream.Bytes()))} {
		s := newValueSplitter(r)
		for i := 0; ; i++ {
			v, _, err := s.next()
			if err == io.EOF {
				if i != len(want) {
					t.Fatalf("%d values, want %d", i, len(want))
				}
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			var a, b bytes.Buffer
			json.Compact(&a, v)
			json.Compact(&b, []byte(want[i]))
			if a.String() != b.String() {
				t.Fatalf("value %d: %q, want %q", i, v, want[i])
			}
		}
	}
}
