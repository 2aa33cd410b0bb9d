package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/quick"
	"unicode/utf8"

	"github.com/agent-trace/agent-trace/pkg/fuzzseed"
)

func TestParseKeepsOrderAndRawValues(t *testing.T) {
	line := []byte(` {"z": 1, "a" :{"x": [1, 2.50]} , "m":"caf\u00e9", "n": null}  `)
	var r Record
	if err := Parse(line, &r); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, f := range r.Fields {
		keys = append(keys, f.Key)
	}
	if got := strings.Join(keys, ","); got != "z,a,m,n" {
		t.Errorf("keys %s, want z,a,m,n", got)
	}
	if v, _ := r.Get("a"); string(v) != `{"x": [1, 2.50]}` {
		t.Errorf("raw value changed: %s", v)
	}
	r.SetInt("z", 7)
	r.SetString("new", "é\n")
	r.Delete("n")
	want := `{"z":7,"a":{"x": [1, 2.50]},"m":"caf\u00e9","new":"é\n"}`
	if got := string(r.AppendJSON(nil)); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestParseDuplicateKeyKeepsFirstPlaceLastValue(t *testing.T) {
	var r Record
	if err := Parse([]byte(`{"a":1,"b":2,"a":3}`), &r); err != nil {
		t.Fatal(err)
	}
	if got := string(r.AppendJSON(nil)); got != `{"a":3,"b":2}` {
		t.Errorf("got %s", got)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{``, "empty line"},
		{`[1,2]`, "not a JSON object"},
		{`"x"`, "not a JSON object"},
		{`{"a":1`, "unexpected end of line"},
		{`{"a":1}}`, "extra data"},
		{`{"a":01}`, "want ',' or '}'"},
		{`{"a":NaN}`, "invalid value"},
		{`{a:1}`, "want a string key"},
		{"{\"a\":\"\x01\"}", "control character"},
		{`{"a":"\x"}`, "bad escape"},
		{`{"a":[1,]}`, "invalid value"},
		{`{"a":tru}`, "invalid value"},
	} {
		var r Record
		err := Parse([]byte(tc.in), &r)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want an error with %q", tc.in, err, tc.want)
		}
	}
}

func TestIntAndString(t *testing.T) {
	var r Record
	if err := Parse([]byte(`{"n":42,"f":1.5,"s":"x\"y","ns":5,"null":null}`), &r); err != nil {
		t.Fatal(err)
	}
	if n, ok, err := r.Int("n"); n != 42 || !ok || err != nil {
		t.Errorf("Int(n) = %d %v %v", n, ok, err)
	}
	if _, _, err := r.Int("f"); err == nil {
		t.Error("Int(f) of 1.5: want an error")
	}
	if _, ok, err := r.Int("null"); ok || err != nil {
		t.Errorf("Int(null) ok=%v err=%v, want absent", ok, err)
	}
	if s, ok, err := r.String("s"); s != `x"y` || !ok || err != nil {
		t.Errorf("String(s) = %q %v %v", s, ok, err)
	}
	if _, _, err := r.String("ns"); err == nil {
		t.Error("String of a number: want an error")
	}
}

// AppendString must produce JSON that decodes to the same string, with
// non-ASCII kept as UTF-8 and no HTML escaping.
func TestAppendStringProperty(t *testing.T) {
	f := func(s string) bool {
		enc := AppendString(nil, s)
		var back string
		if err := json.Unmarshal(enc, &back); err != nil {
			return false
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if utf8.ValidString(s) {
			want = s
		}
		return back == want && !bytes.Contains(enc, []byte(`\u00`)) == !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\r' && r != '\t' && r != '\b' && r != '\f' })
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 5000}); err != nil {
		t.Error(err)
	}
	if got := string(AppendString(nil, "<é>&\u2028\xff")); got != "\"<é>&\u2028\uFFFD\"" {
		t.Errorf("got %s", got)
	}
}

func TestDecodeStringSurrogates(t *testing.T) {
	for in, want := range map[string]string{
		`"\ud83d\ude00"`: "😀",
		`"\ud800"`:       "\uFFFD",
		`"\ude00x"`:      "\uFFFDx",
		`"\ud800\u0041"`: "\uFFFDA",
		`"a\/b"`:         "a/b",
	} {
		got, err := DecodeString([]byte(in))
		if err != nil || got != want {
			t.Errorf("DecodeString(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// FuzzRecordParse checks Parse against encoding/json: it accepts exactly the
// JSON objects, and writing the record back gives the same object.
func FuzzRecordParse(f *testing.F) {
	// unmarshal is encoding/json keeping numbers as written: JSON has no
	// limit on them (1e700 is valid), float64 has.
	unmarshal := func(b []byte, v *any) error {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(v); err != nil {
			return err
		}
		if _, err := d.Token(); err != io.EOF {
			return errors.New("extra data after the value")
		}
		return nil
	}
	fuzzseed.Add(f)
	f.Fuzz(func(t *testing.T, line []byte) {
		var r Record
		err := Parse(line, &r)
		var v any
		jerr := unmarshal(line, &v)
		_, isObj := v.(map[string]any)
		if jerr == nil && isObj != (err == nil) {
			t.Fatalf("Parse(%q) = %v, encoding/json says valid object=%v", line, err, isObj)
		}
		if jerr != nil && err == nil {
			// encoding/json rejects nothing valid that Parse accepts except
			// deep nesting beyond its limit.
			if !strings.Contains(jerr.Error(), "exceeded max depth") {
				t.Fatalf("Parse accepted %q, encoding/json: %v", line, jerr)
			}
			return
		}
		if err != nil {
			if jerr == nil && isObj {
				t.Fatal("unreachable")
			}
			var se *SyntaxError
			if !errors.As(err, &se) && !errors.Is(err, ErrNotObject) {
				t.Fatalf("error of unexpected type %T: %v", err, err)
			}
			return
		}
		out := r.AppendJSON(nil)
		var back any
		if err := unmarshal(out, &back); err != nil {
			t.Fatalf("output %q is not JSON: %v", out, err)
		}
		if !reflect.DeepEqual(v, back) {
			t.Fatalf("round trip changed the object:\n in  %s\n out %s", line, out)
		}
	})
}

func TestAppendInts(t *testing.T) {
	v := []int64{0, 7, 10, 99, 100, 12345, 99999999, 100000000, 1 << 40, -5}
	want := "[0,7,10,99,100,12345,99999999,100000000,1099511627776,-5]"
	if got := string(AppendInts(nil, v)); got != want {
		t.Errorf("got %s", got)
	}
	for i := uint32(0); i < 200000; i += 7 {
		if got := string(appendSmall(nil, i)); got != strconv.Itoa(int(i)) {
			t.Fatalf("%d: %s", i, got)
		}
	}
	// Every digit count, at its edges.
	for p := uint32(1); p <= 1e7; p *= 10 {
		for _, i := range []uint32{p - 1, p, p + 1, 10*p - 1} {
			if got := string(appendSmall(nil, i)); got != strconv.Itoa(int(i)) {
				t.Fatalf("%d: %s", i, got)
			}
		}
	}
}

func BenchmarkAppendInts(b *testing.B) {
	ids := make([]int, 4096)
	for i := range ids {
		ids[i] = (i * 7919) % 128256 // token ids of a large vocabulary
	}
	var buf []byte
	for b.Loop() {
		buf = AppendInts(buf[:0], ids)
	}
}

// TestParseWith: the member's value is read by fn (once per occurrence),
// every other member by Parse, and fn's errors are returned.
func TestParseWith(t *testing.T) {
	var seen []string
	fn := func(line []byte, start int) (int, error) {
		end, err := SkipValue(line, start)
		seen = append(seen, string(line[start:end]))
		return end, err
	}
	var r Record
	if err := ParseWith([]byte(`{"a":[1, 2],"b":{"a":3},"a":[4]}`), &r, "a", fn); err != nil {
		t.Fatal(err)
	}
	if want := []string{"[1, 2]", "[4]"}; !slices.Equal(seen, want) {
		t.Errorf("fn read %q, want %q", seen, want)
	}
	if got := string(r.AppendJSON(nil)); got != `{"a":[4],"b":{"a":3}}` {
		t.Errorf("record %s", got)
	}
	refuse := func([]byte, int) (int, error) { return 0, errors.New("no thanks") }
	err := ParseWith([]byte(`{"b":1,"a":[1]}`), &r, "a", refuse)
	if err == nil || err.Error() != "no thanks" {
		t.Errorf("error %v, want %q", err, "no thanks")
	}
}

// AppendString writes any string as JSON that decodes to it, with each
// byte of invalid UTF-8 read as U+FFFD (as encoding/json writes it): the
// check runs only for text with non-ASCII bytes, which the escaping scan
// spots, wherever they fall (in a skipped 8-byte word or byte by byte).
func TestAppendStringValidUTF8(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	pieces := []string{"a", "abcdefgh", "\"", "\\", "\n", "\x01", "é", "東京", "\xff", "\xe6\x9d", "\xed\xa0\x80", "\U0001F600"}
	for range 5000 {
		var b strings.Builder
		for n := rng.IntN(12); n >= 0; n-- {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		out := AppendString(nil, s)
		var got string
		if err := json.Unmarshal(out, &got); err != nil || !utf8.Valid(out) {
			t.Fatalf("%q: wrote %q (%v)", s, out, err)
		}
		// encoding/json writes each invalid byte as U+FFFD too: its
		// output decodes to the same text.
		want, _ := json.Marshal(s)
		var w string
		if err := json.Unmarshal(want, &w); err != nil || w != got {
			t.Fatalf("%q: decodes to %q, encoding/json's to %q", s, got, w)
		}
	}
}

// appendSmall gives strconv's digits for every value below 1e8, after
// text already in dst (every value: the lane arithmetic has no case
// that a sample could be trusted to cover).
func TestAppendSmallEvery(t *testing.T) {
	if testing.Short() {
		t.Skip("1e8 values")
	}
	buf := []byte("x")
	var want []byte
	for v := uint32(0); v < 1e8; v++ {
		buf = appendSmall(buf[:1], v)
		want = strconv.AppendUint(want[:0], uint64(v), 10)
		if string(buf[1:]) != string(want) {
			t.Fatalf("%d: got %q", v, buf[1:])
		}
	}
}

// CheckEscapes finds the escapes a byte-by-byte reading finds, wherever
// they lie against its eight-byte steps, and refuses the same bad ones at
// the same byte.
func TestCheckEscapesEqualsPlain(t *testing.T) {
	plain := func(b []byte) error {
		for i := 0; i < len(b); i++ {
			if b[i] != '\\' {
				continue
			}
			if i+1 >= len(b) {
				return fmt.Errorf("invalid JSON at byte %d: a backslash ends the line", i)
			}
			switch c := b[i+1]; c {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+6 > len(b) || !isHex4(b[i+2:i+6]) {
					return fmt.Errorf("invalid JSON at byte %d: \\u wants four hex digits", i)
				}
				i += 5
			default:
				return fmt.Errorf("invalid JSON at byte %d: invalid escape \\%c in a string", i, c)
			}
		}
		return nil
	}
	r := rand.New(rand.NewPCG(9, 9))
	alphabet := []byte(`ab"\\nu0fZ \\\\`)
	for range 200000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
			if r.IntN(4) == 0 {
				b[i] = byte(r.IntN(256))
			}
		}
		got, want := CheckEscapes(b), plain(b)
		if (got == nil) != (want == nil) || got != nil && got.Error() != want.Error() {
			t.Fatalf("%q: got %v, want %v", b, got, want)
		}
	}
}

// TestAppendStringEveryPlace compares AppendString with a byte-at-a-time
// escaper for strings of every length to 26 with one or two bytes of
// every kind (escaped or not, ASCII or not) at every pair of places.
func TestAppendStringEveryPlace(t *testing.T) {
	slow := func(s string) string {
		var v strings.Builder // each invalid byte replaced, as encoding/json does
		for _, r := range s {
			v.WriteRune(r)
		}
		s = v.String()
		var b strings.Builder
		b.WriteByte('"')
		for i := 0; i < len(s); i++ {
			switch c := s[i]; {
			case c == '"' || c == '\\':
				b.WriteString(`\` + string(c))
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c == '\b':
				b.WriteString(`\b`)
			case c == '\f':
				b.WriteString(`\f`)
			case c < 0x20:
				fmt.Fprintf(&b, `\u%04x`, c)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('"')
		return b.String()
	}
	kinds := []string{`"`, `\`, "\n", "\x00", "\x1f", " ", "\x7f", "é", "\xff", "東"}
	for n := 0; n <= 26; n++ {
		for p := 0; p <= n; p++ {
			for q := p; q <= n; q++ {
				for _, a := range kinds {
					for _, b := range kinds {
						s := strings.Repeat("x", p) + a + strings.Repeat("y", q-p) + b + strings.Repeat("z", n-q)
						if got, want := string(AppendString(nil, s)), slow(s); got != want {
							t.Fatalf("AppendString(%q) = %s, want %s", s, got, want)
						}
					}
				}
			}
		}
	}
}

// TestPlainRunEveryPlace checks plainRun against a byte loop with one or
// two bytes of every kind at every pair of places of strings to 26 bytes,
// started at every offset.
func TestPlainRunEveryPlace(t *testing.T) {
	slow := func(b []byte, i int) int {
		for i < len(b) && b[i] != '"' && b[i] != '\\' && b[i] >= 0x20 {
			i++
		}
		return i
	}
	kinds := []string{`"`, `\`, "\n", "\x00", "\x1f", " ", "!", "#", "[", "]", "\x7f", "é", "\xff"}
	for n := 0; n <= 26; n++ {
		for p := 0; p <= n; p++ {
			for q := p; q <= n; q++ {
				for _, a := range kinds {
					for _, c := range kinds {
						b := []byte(strings.Repeat("x", p) + a + strings.Repeat("y", q-p) + c + strings.Repeat("z", n-q))
						for from := 0; from <= len(b); from += 3 {
							if got, want := plainRun(b, from), slow(b, from); got != want {
								t.Fatalf("plainRun(%q, %d) = %d, want %d", b, from, got, want)
							}
						}
					}
				}
			}
		}
	}
}

// TestStringScanEveryPlace checks skipString and AppendUnquote, which scan
// a string in runs between escapes (plainRun), against encoding/json on
// strings of every length to 70 with one or two pieces of every kind
// (escapes valid and not, control characters, a bare quote, UTF-8) at
// every pair of places, followed by more JSON.
func TestStringScanEveryPlace(t *testing.T) {
	kinds := []string{`\n`, `\"`, `\\`, `\u00e9`, `\ud83d\ude00`, `\x`, "\x01", `"`, "é", `\/`}
	for n := 0; n <= 70; n += 1 + n/20 {
		for p := 0; p <= n; p += 1 + n/25 {
			for q := p; q <= n; q += 1 + n/25 {
				for _, a := range kinds {
					for _, c := range kinds {
						body := strings.Repeat("x", p) + a + strings.Repeat("y", q-p) + c + strings.Repeat("z", n-q)
						for _, after := range []string{``, `,"k":"v\n"}`} {
							b := []byte(`"` + body + `"` + after)
							var want string
							dec := json.NewDecoder(bytes.NewReader(b))
							werr := dec.Decode(&want)
							wantEnd := int(dec.InputOffset())
							end, err := skipString(b, 0)
							if (err == nil) != (werr == nil) || err == nil && end != wantEnd {
								t.Fatalf("skipString(%q) = %d, %v; encoding/json: %d, %v", b, end, err, wantEnd, werr)
							}
							got, uend, uerr := AppendUnquote(nil, b, 0)
							if (uerr == nil) != (werr == nil) || uerr == nil && (uend != wantEnd || string(got) != want) {
								t.Fatalf("AppendUnquote(%q) = %q, %d, %v; encoding/json: %q, %d, %v", b, got, uend, uerr, want, wantEnd, werr)
							}
						}
					}
				}
			}
		}
	}
}
