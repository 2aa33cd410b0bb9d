package idarray

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/agent-trace/agent-trace/pkg/fuzzseed"
)

// session returns n arrays of ids, each starting with a random part of the
// one before it, as the prompts of a conversation do (and sometimes not).
func session(r *rand.Rand, n int) [][]int {
	var out [][]int
	var cur []int
	for range n {
		switch r.IntN(6) {
		case 0:
			cur = nil // a fresh conversation
		case 1:
			cur = slices.Clone(cur[:r.IntN(len(cur)+1)]) // cut back
		default:
			cur = slices.Clone(cur)
		}
		for range r.IntN(40) {
			switch r.IntN(4) {
			case 0:
				cur = append(cur, r.IntN(10))
			case 1:
				cur = append(cur, r.IntN(1<<17))
			default:
				cur = append(cur, r.IntN(1000))
			}
		}
		// Sometimes change an id inside the shared part, keeping its width
		// or not.
		if len(cur) > 0 && r.IntN(5) == 0 {
			cur[r.IntN(len(cur))] = r.IntN(200)
		}
		out = append(out, cur)
	}
	return out
}

// TestFormatterEqualsMarshal: reusing the previous text gives exactly the
// bytes encoding/json gives, whatever the kept count (up to the true one).
func TestFormatterEqualsMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var f Formatter
	var prev []int
	for i, ids := range session(r, 3000) {
		shared := sharedPrefix(prev, ids)
		kept := shared
		if r.IntN(4) == 0 {
			kept = r.IntN(shared + 1) // a caller may keep fewer than it could
		}
		got := f.Format(ids, kept)
		want, _ := json.Marshal(ids)
		if ids == nil {
			want = []byte("[]")
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("array %d (kept %d): got %s, want %s", i, kept, got, want)
		}
		prev = ids
	}
}

// TestParserEqualsUnmarshal: the ids and the end offset equal those of a
// fresh parse and of encoding/json, in compact and spaced layouts.
func TestParserEqualsUnmarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var p Parser
	reused := 0
	for i, ids := range session(r, 3000) {
		text, _ := json.Marshal(ids)
		if ids == nil {
			text = []byte("[]")
		}
		if r.IntN(5) == 0 { // spaced layout
			text = []byte(strings.ReplaceAll(string(text), ",", " ,\n "))
			text = append([]byte("[ "), text[1:]...)
		}
		line := append(append([]byte(`{"x":`), text...), `,"y":1}`...)
		start := len(`{"x":`)
		end, err := p.Parse(line, start)
		if err != nil {
			t.Fatalf("array %d: %v", i, err)
		}
		if end != start+len(text) {
			t.Fatalf("array %d: end %d, want %d", i, end, start+len(text))
		}
		if got := p.IDs(); len(got) != len(ids) || !equal(got, ids) {
			t.Fatalf("array %d: ids %v, want %v", i, got, ids)
		}
		reused += p.Reused()
	}
	if reused == 0 {
		t.Fatal("no id was ever reused")
	}
}

// TestParseAfter: an array read as the continuation of the previous one's
// first ids gives those ids and its own, and a Parse after it is exact.
func TestParseAfter(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var p Parser
	var prev []int
	for i, ids := range session(r, 3000) {
		kept := sharedPrefix(prev, ids)
		compact := r.IntN(3) > 0
		var text []byte
		if compact {
			text, _ = json.Marshal(append([]int{}, ids[kept:]...))
		} else {
			text, _ = json.Marshal(append([]int{}, ids...))
		}
		line := append(append([]byte(`{"x":`), text...), `}`...)
		start := len(`{"x":`)
		var end int
		var err error
		if compact {
			end, err = p.ParseAfter(line, start, kept)
		} else {
			end, err = p.Parse(line, start)
		}
		if err != nil || end != start+len(text) {
			t.Fatalf("array %d (compact %v): end %d, %v; want %d", i, compact, end, err, start+len(text))
		}
		if got := p.IDs(); len(got) != len(ids) || !equal(got, ids) {
			t.Fatalf("array %d (compact %v): ids %v, want %v", i, compact, got, ids)
		}
		prev = ids
	}
	if _, err := p.ParseAfter([]byte("[1]"), 0, len(prev)+1); err == nil || !strings.Contains(err.Error(), "previous array") {
		t.Fatalf("kept beyond the previous array: %v", err)
	}
	if len(p.IDs()) != 0 {
		t.Fatal("the parser remembers ids after an error")
	}
}

// sharedPrefix returns how many ids a and b start with alike.
func sharedPrefix(a, b []int) int {
	n := 0
	for n < min(len(a), len(b)) && a[n] == b[n] {
		n++
	}
	return n
}

func equal(a []uint32, b []int) bool {
	for i := range a {
		if int(a[i]) != b[i] {
			return false
		}
	}
	return true
}

func TestParserErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"a":1}`, "want an array of token ids"},
		{`"abc"`, "a string of packed ids has four characters an id"},
		{`"AAAAAA`, "unterminated string of packed ids"},
		{`"AAA=AAAA"`, "packed ids are written in the base64url alphabet"},
		{`"AAAAAAA\"`, "packed ids are written in the base64url alphabet"},
		{`"AAAAAA\"A"`, "a string of packed ids has four characters an id"},
		{`"AAAAAAé"`, "packed ids are written in the base64url alphabet"},
		{`"AA+/"`, "packed ids are written in the base64url alphabet"},
		{`[1,2`, "unterminated array"},
		{`[1,-2]`, "want non-negative integer token ids"},
		{`[1,2.5]`, "want non-negative integer token ids"},
		{`[01]`, "want non-negative integer token ids"},
		{`[1,,2]`, "want non-negative integer token ids"},
		{`[1,]`, "want non-negative integer token ids"},
		{`[4294967296]`, "a token id above 2^32-1"},
		{`[99999999999]`, "a token id above 2^32-1"},
		{`[1 2]`, "want non-negative integer token ids"},
		{`[null]`, "want non-negative integer token ids"},
	} {
		var p Parser
		// Parse a valid array first: errors must not depend on the reuse.
		if _, err := p.Parse([]byte(`[1,2,3]`), 0); err != nil {
			t.Fatal(err)
		}
		_, err := p.Parse([]byte(tc.in), 0)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.in, err, tc.want)
		}
		if len(p.IDs()) != 0 {
			t.Errorf("%s: ids kept after an error: %v", tc.in, p.IDs())
		}
	}
}

// FuzzParser parses two arrays (the input's lines) with one parser: the
// second must give what a fresh parser and encoding/json give.
func FuzzParser(f *testing.F) {
	fuzzseed.Add(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		first, second, _ := bytes.Cut(in, []byte("\n"))
		var p, fresh Parser
		p.Parse(first, 0)
		end, err := p.Parse(second, 0)
		fend, ferr := fresh.Parse(second, 0)
		if (err == nil) != (ferr == nil) || end != fend || !slices.Equal(p.IDs(), fresh.IDs()) {
			t.Fatalf("after %q: (%d, %v, %v), fresh (%d, %v, %v)", first, end, err, p.IDs(), fend, ferr, fresh.IDs())
		}
		var want []uint32
		jerr := json.Unmarshal(second, &want)
		wantOK := jerr == nil && len(second) > 0 && second[0] == '['
		if err == nil {
			if jerr := json.Unmarshal(second[:end], &want); jerr != nil {
				t.Fatalf("accepted %q, which encoding/json refuses: %v", second[:end], jerr)
			}
			if !slices.Equal(p.IDs(), want) && !(len(want) == 0 && len(p.IDs()) == 0) {
				t.Fatalf("%q: ids %v, encoding/json %v", second, p.IDs(), want)
			}
		} else if wantOK {
			t.Fatalf("refused %q (%v), which encoding/json reads as %v", second, err, want)
		}
	})
}

// Python's json.dumps writes ", " between ids: a million of them parse
// with a flat stack (the parser loops; it once recursed per id and
// overflowed the stack at 5 M ids).
func TestSpacedIDsFlatStack(t *testing.T) {
	var b strings.Builder
	b.WriteString("[")
	const n = 1_000_000
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(i % 128256))
	}
	b.WriteString(" ]")
	// 8 MB of stack: recursion per id would need ~100 MB and crash.
	defer debug.SetMaxStack(debug.SetMaxStack(8 << 20))
	var p Parser
	if _, err := p.Parse([]byte(b.String()), 0); err != nil || len(p.IDs()) != n || p.IDs()[n-1] != uint32((n-1)%128256) {
		t.Fatalf("%v, %d ids", err, len(p.IDs()))
	}
}

// Packed ids are the 3-byte big-endian ids in base64url without padding
// (checked with encoding/base64), read back by every Parse method, and
// only ids below MaxPacked are packed.
func TestPacked(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for n := range 300 {
		ids := make([]int, n)
		for i := range ids {
			switch r.IntN(4) {
			case 0:
				ids[i] = r.IntN(MaxPacked)
			case 1:
				ids[i] = MaxPacked - 1 - r.IntN(3)
			case 2:
				ids[i] = r.IntN(64)
			default:
				ids[i] = r.IntN(200000)
			}
		}
		got, ok := AppendPacked([]byte("x"), ids)
		if !ok || got[0] != 'x' || got[1] != '"' || got[len(got)-1] != '"' {
			t.Fatalf("%d ids: %q, %v", n, got, ok)
		}
		raw, err := base64.RawURLEncoding.DecodeString(string(got[2 : len(got)-1]))
		if err != nil || len(raw) != 3*n {
			t.Fatalf("%d ids: base64url says %v, %d bytes", n, err, len(raw))
		}
		for i, id := range ids {
			if v := int(raw[3*i])<<16 | int(raw[3*i+1])<<8 | int(raw[3*i+2]); v != id {
				t.Fatalf("id %d of %d: packed as %d, want %d", i, n, v, id)
			}
		}
		want := make([]uint32, n)
		for i, id := range ids {
			want[i] = uint32(id)
		}
		line := append(append([]byte(`{"input_ids":`), got[1:]...), '}')
		var p Parser
		if end, err := p.Parse(line, 13); err != nil || end != len(line)-1 || !slices.Equal(p.IDs(), want) {
			t.Fatalf("Parse of %d ids: end %d of %d, %v", n, end, len(line), err)
		}
		prefix := []uint32{5, 6, 7}
		if _, err := p.ParseAfterIDs(line, 13, prefix); err != nil || !slices.Equal(p.IDs(), append(prefix, want...)) {
			t.Fatalf("ParseAfterIDs of %d ids: %v", n, err)
		}
		if _, err := p.ParseAfter(line, 13, 2); err != nil || !slices.Equal(p.IDs(), append(prefix[:2:2], want...)) {
			t.Fatalf("ParseAfter of %d ids: %v", n, err)
		}
	}
	for _, ids := range [][]int{{MaxPacked}, {1, 2, -1}, {1 << 31}} {
		if got, ok := AppendPacked([]byte("x"), ids); ok || string(got) != "x" {
			t.Errorf("%v: %q, %v; want x, false", ids, got, ok)
		}
	}
}

// FuzzPacked: a string of packed ids parses exactly when base64url
// (encoding/base64, no padding) decodes it into whole 3-byte ids, and to
// those ids.
func FuzzPacked(f *testing.F) {
	for _, s := range []string{"", "AAAA", "AApzAAIPAAEI", "____", "AA-_", "AAA", "AA+/", "AAAA\"", "AAAAé"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		line := []byte(`"` + s + `"`)
		var p Parser
		end, err := p.Parse(line, 0)
		if q := strings.IndexByte(s, '"'); q >= 0 {
			s = s[:q] // the string ends there; the caller reads on
		}
		raw, derr := base64.RawURLEncoding.Strict().DecodeString(s)
		valid := derr == nil && len(s)%4 == 0 && !strings.ContainsAny(s, "\"\r\n")
		if (err == nil) != valid {
			t.Fatalf("%q: Parse says %v, base64url %v (%d characters)", s, err, derr, len(s))
		}
		if err != nil {
			return
		}
		if end != len(s)+2 || len(p.IDs()) != len(raw)/3 {
			t.Fatalf("%q: end %d, want %d, %d ids for %d bytes", s, end, len(s)+2, len(p.IDs()), len(raw))
		}
		for i, id := range p.IDs() {
			if want := uint32(raw[3*i])<<16 | uint32(raw[3*i+1])<<8 | uint32(raw[3*i+2]); id != want {
				t.Fatalf("%q: id %d is %d, want %d", s, i, id, want)
			}
		}
	})
}
