package nat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/agent-trace/agent-trace/pkg/chat"
	"github.com/agent-trace/agent-trace/pkg/fuzzseed"
)

// scanAll returns the elements of in, read through r with a tiny buffer so
// that every refill path runs.
func scanAll(in []byte, bufSize int, oneByte bool) ([]string, error) {
	var r io.Reader = bytes.NewReader(in)
	if oneByte {
		r = iotest.OneByteReader(r)
	}
	s := NewArrayScanner(r)
	s.buf = make([]byte, bufSize)
	var out []string
	for {
		e, err := s.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, string(e))
	}
}

func TestScannerNaNAndBOM(t *testing.T) {
	in := []byte("\xef\xbb\xbf[ {\"a\": NaN, \"b\": [Infinity, -Infinity, -2], \"s\": \"NaN\\\" ]\"} ,{}]")
	for _, size := range []int{1, 3, 64} {
		got, err := scanAll(in, size, size == 1)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{`{"a": null, "b": [null, null, -2], "s": "NaN\" ]"}`, `{}`}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("buf %d: got %q", size, got)
		}
	}
}

func TestScannerTruncation(t *testing.T) {
	full := []byte(`[{"request_number": 0}, {"request_number": 1, "x": "abc"}]`)
	for cut := 1; cut < len(full); cut++ {
		got, err := scanAll(full[:cut], 4, false)
		var te *TruncatedError
		if !errors.As(err, &te) {
			t.Fatalf("cut at %d: err %v, want TruncatedError", cut, err)
		}
		if te.Index != len(got) {
			t.Errorf("cut at %d: index %d after %d elements", cut, te.Index, len(got))
		}
		want := 0
		if cut >= 22 {
			want = 1
		}
		if cut >= 57 {
			want = 2
		}
		if len(got) != want {
			t.Errorf("cut at %d: %d complete elements, want %d", cut, len(got), want)
		}
	}
}

func TestDecodePairsAndOrders(t *testing.T) {
	elem := []byte(`{"request_number": 7, "intermediate_steps": [
	 {"payload": {"event_type": "LLM_START", "UUID": "b", "name": "m", "event_timestamp": 2, "metadata": {"chat_inputs": [{"role": "user", "content": "second"}]}}, "function_ancestry": {"function_name": "planner"}},
	 {"payload": {"event_type": "LLM_START", "UUID": "a", "name": "m", "event_timestamp": 1, "metadata": {"chat_inputs": ["first"]}}},
	 {"payload": {"event_type": "LLM_END", "UUID": "b", "event_timestamp": 5, "usage_info": {"token_usage": {"prompt_tokens": 9, "completion_tokens": 3}}}},
	 {"payload": {"event_type": "LLM_END", "UUID": "a", "event_timestamp": 4}},
	 {"payload": {"event_type": "LLM_END", "UUID": "zz", "event_timestamp": 6}},
	 {"payload": {"event_type": "LLM_START", "UUID": "c"}}
	]}`)
	req, err := Decode(elem)
	if err != nil {
		t.Fatal(err)
	}
	if req.Number != "7" || len(req.Calls) != 2 || req.UnmatchedEnds != 1 || req.UnmatchedStarts != 1 {
		t.Fatalf("got %+v", req)
	}
	a, b := req.Calls[0], req.Calls[1]
	if a.UUID != "a" || b.UUID != "b" {
		t.Errorf("order %s,%s; want a,b (by LLM_END time)", a.UUID, b.UUID)
	}
	if a.HasCompletionTokens || a.CompletionTokens != 0 {
		t.Errorf("absent usage: %+v", a)
	}
	if b.CompletionTokens != 3 || b.PromptTokens != 9 || b.Function != "planner" || b.StartTime != 2 || b.EndTime != 5 {
		t.Errorf("call b: %+v", b)
	}
	if chat.PromptText(a.Messages) != "first" || chat.PromptText(b.Messages) != "second" {
		t.Errorf("texts %q %q", chat.PromptText(a.Messages), chat.PromptText(b.Messages))
	}
}

func TestDecodeMissingTimestampSortsFirst(t *testing.T) {
	req, err := Decode([]byte(`{"intermediate_steps": [
	 {"payload": {"event_type": "LLM_START", "UUID": "x", "metadata": {"chat_inputs": ["x"]}}},
	 {"payload": {"event_type": "LLM_START", "UUID": "y", "metadata": {"chat_inputs": ["y"]}}},
	 {"payload": {"event_type": "LLM_END", "UUID": "x", "event_timestamp": 3}},
	 {"payload": {"event_type": "LLM_END", "UUID": "y", "event_timestamp": null}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if req.Number != "" || req.Calls[0].UUID != "y" || !math.IsNaN(req.Calls[0].EndTime) {
		t.Errorf("got %+v", req)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"intermediate_steps": 3}`, `field "intermediate_steps" is a number, want a list`},
		{`{"intermediate_steps": [{"payload": "x"}]}`, `want an object`},
		{`{"intermediate_steps": [{"payload": {"event_type": "LLM_START", "UUID": "a"}}, {"payload": {"event_type": "LLM_END", "UUID": "a", "usage_info": {"token_usage": {"completion_tokens": -4}}}}]}`, `completion_tokens: want a whole number of tokens, got -4`},
		{`{"intermediate_steps": [{"payload": {"event_type": "LLM_START", "UUID": "a"}}, {"payload": {"event_type": "LLM_END", "UUID": "a", "usage_info": {"token_usage": {"completion_tokens": "5"}}}}]}`, `completion_tokens: want a number`},
	} {
		_, err := Decode([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Decode(%s) = %v, want %q", tc.in, err, tc.want)
		}
	}
}

// FuzzArrayScanner checks the scanner against encoding/json: on a valid
// array of objects it returns exactly its elements, whatever the buffer
// size; on anything else it returns an error, never a panic.
func FuzzArrayScanner(f *testing.F) {
	fuzzseed.Add(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := scanAll(in, 7, false)
		got1, err1 := scanAll(in, 1<<16, false)
		if strings.Join(got, "\x00") != strings.Join(got1, "\x00") || (err == nil) != (err1 == nil) {
			t.Fatalf("buffer size changes the result: %q %v vs %q %v", got, err, got1, err1)
		}
		var want []json.RawMessage
		body := bytes.Trim(bytes.TrimPrefix(in, []byte("\xef\xbb\xbf")), " \t\r\n")
		if !bytes.HasPrefix(body, []byte("[")) || json.Unmarshal(body, &want) != nil {
			// The scanner finds element ends only; NaN aside, it must at
			// least refuse what does not start as an array.
			if err == nil && !bytes.HasPrefix(body, []byte("[")) {
				t.Fatalf("accepted %q, which is not a JSON array", in)
			}
			return
		}
		for _, w := range want {
			if len(w) == 0 || w[0] != '{' {
				if err == nil {
					t.Fatalf("accepted an array with a non-object element: %q", in)
				}
				return
			}
		}
		if err != nil {
			t.Fatalf("valid array of objects %q: %v", in, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%d elements, want %d", len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal([]byte(got[i]), want[i]) {
				t.Fatalf("element %d: %q, want %q", i, got[i], want[i])
			}
		}
	})
}

func TestMain(m *testing.M) { os.Exit(m.Run()) }

// Decode reads the request's bytes without copying them, so nothing it
// returns may share them: numbers (which sonic hands out as slices of the
// input) must survive the scanner reusing its buffer.
func TestDecodeKeepsNothingOfItsInput(t *testing.T) {
	elem := []byte(`{"request_number": 12345, "intermediate_steps": [
	  {"function_ancestry": {"function_name": 777}, "payload": {"event_type": "LLM_START", "event_timestamp": 1.5, "name": 42, "UUID": 9001,
	    "metadata": {"chat_inputs": [{"role": "user", "content": 31415}, {"role": "assistant", "content": "text"}]}}},
	  {"payload": {"event_type": "LLM_END", "event_timestamp": 2.5, "UUID": 9001, "usage_info": {"token_usage": {"prompt_tokens": 7, "completion_tokens": 3}}}}]}`)
	req, err := Decode(elem)
	if err != nil {
		t.Fatal(err)
	}
	for i := range elem {
		elem[i] = 'x'
	}
	c := req.Calls[0]
	got := []string{req.Number, c.UUID, c.Model, c.Function, *c.Messages[0].Content, *c.Messages[1].Content, c.Messages[0].Role}
	want := []string{"12345", "9001", "42", "777", "31415", "text", "user"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("after the input was overwritten: %q, want %q", got, want)
			break
		}
	}
}

// The messages of a call are those chat.FromNAT gives for its chat_inputs
// as encoding/json decodes them, whether an element is decoded or taken
// from the previous call because its text is the same: growing
// conversations, edited and dropped elements, numbers that are prefixes of
// other numbers, every message shape, spacing, nested lists.
func TestChatInputsReuseEqualsDecode(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	pool := []string{
		`{"role": "user", "content": "hello"}`, `{"role":"assistant","content":"a \"quoted\" \u00e9 answer"}`,
		`"a bare string"`, `""`, `12`, `123`, `1.5e3`, `null`, `true`, `[1, 2]`,
		`{"type": "human", "content": "lc"}`, `{"role": "user", "content": [{"type": "text", "text": "part"}, {"type": "image_url", "image_url": {"url": "x"}}]}`,
		`{"lc": 1, "type": "constructor", "id": ["x", "AIMessage"], "kwargs": {"content": "ctor"}}`,
		`{"messages": [{"role": "system", "items": [{"text": "sk"}]}, {"role": "user", "content": "sk2"}]}`,
		`{"role": "system", "text": "strands"}`, `{"role": "tool", "content": 7}`, `{"role": "user", "content": null}`,
		`{"role": "tool", "content": {"result": [1, 2.5, null, true], "note": "it's", "result": "again"}}`,
		`{"lc": 1, "type": "constructor", "id": ["ToolMessage"], "kwargs": {"content": {"b": 1e5, "a": {}}}}`,
	}
	space := func() string { return []string{"", " ", "\n  ", "\t"}[r.IntN(4)] }
	for req := range 300 {
		var steps []string
		var elems []string
		var want [][]chat.Message
		wantNonText := 0
		for call := range 1 + r.IntN(6) {
			switch r.IntN(5) {
			case 0: // an earlier element edited
				if len(elems) > 0 {
					elems[r.IntN(len(elems))] = pool[r.IntN(len(pool))]
				}
			case 1: // cut back
				elems = elems[:r.IntN(len(elems)+1)]
			}
			for range r.IntN(4) {
				elems = append(elems, pool[r.IntN(len(pool))])
			}
			var b strings.Builder
			b.WriteString("[" + space())
			for i, e := range elems {
				if i > 0 {
					b.WriteString(space() + "," + space())
				}
				b.WriteString(e)
			}
			b.WriteString(space() + "]")
			if r.IntN(10) == 0 { // not a list: one message
				b.Reset()
				b.WriteString(pool[r.IntN(len(pool))])
			}
			inputs := b.String()
			dec := json.NewDecoder(strings.NewReader(inputs))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			msgs, nonText := decodedMessages(v, []byte(inputs))
			want = append(want, msgs)
			wantNonText += nonText
			steps = append(steps,
				fmt.Sprintf(`{"payload": {"event_type": "LLM_START", "event_timestamp": %d, "UUID": "u%d", "metadata": {"chat_inputs": %s}}}`, call, call, inputs),
				fmt.Sprintf(`{"payload": {"event_type": "LLM_END", "event_timestamp": %d.5, "UUID": "u%d"}}`, call, call))
		}
		elem := `{"request_number": 1, "intermediate_steps": [` + strings.Join(steps, ",") + `]}`
		got, err := Decode([]byte(elem))
		if err != nil {
			t.Fatalf("request %d: %v\n%s", req, err, elem)
		}
		for i, c := range got.Calls {
			if !reflect.DeepEqual(c.Messages, want[i]) {
				t.Fatalf("request %d call %d: %s\ngot  %s\nwant %s", req, i, elem, chat.AppendJSON(nil, c.Messages), chat.AppendJSON(nil, want[i]))
			}
		}
		if got.NonText != wantNonText {
			t.Fatalf("request %d: NonText %d, want %d\n%s", req, got.NonText, wantNonText, elem)
		}
	}
}

// A bad escape in a chat_inputs element is an error naming the step.
func TestChatInputsBadEscape(t *testing.T) {
	elem := `{"intermediate_steps": [{"payload": {"event_type": "LLM_START", "UUID": "u1", "metadata": {"chat_inputs": [{"role": "user", "content": "a\q"}]}}},
	  {"payload": {"event_type": "LLM_END", "UUID": "u1"}}]}`
	if _, err := Decode([]byte(elem)); err == nil || !strings.Contains(err.Error(), "LLM_START u1: chat_inputs") {
		t.Fatalf("got %v", err)
	}
}

// Requests larger than a huge page grow the scanner's buffer into mapped
// memory (newBuffer): elements still come out whole and exact, and a
// smaller request after them too.
func TestScannerLargeElements(t *testing.T) {
	big := func(n int, c byte) string {
		return `{"request_number": 1, "x": "` + strings.Repeat(string(c), n) + `"}`
	}
	want := []string{big(10, 'a'), big(5<<20, 'b'), big(100, 'c'), big(9<<20, 'd'), big(1, 'e')}
	in := "[" + strings.Join(want, ",\n") + "]"
	got, err := scanAll([]byte(in), 64<<10, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d elements, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("element %d differs (%d bytes, want %d)", i, len(got[i]), len(want[i]))
		}
	}
}

// decodedMessages is what the messages of chat_inputs v (decoded by
// encoding/json), whose text is raw, must be: chat.FromNATElement on each
// element of a list with the element's text (so that a dict content
// becomes its Python str()), on a single message with raw.
func decodedMessages(v any, raw []byte) ([]chat.Message, int) {
	var st chat.Stats
	list, ok := v.([]any)
	if !ok {
		if v == nil {
			return nil, 0
		}
		return chat.FromNATElement(v, raw, &st), st.NonText
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil || len(elems) != len(list) {
		panic(fmt.Sprintf("chat_inputs %s: %v", raw, err))
	}
	var msgs []chat.Message
	for k, e := range elems {
		msgs = append(msgs, chat.FromNATElement(list[k], e, &st)...)
	}
	return msgs, st.NonText
}

// FuzzChatInputs: two calls of a request, with the chat_inputs the input
// holds on either side of a zero byte: the messages of each are those
// chat.FromNAT gives on encoding/json's decoding, whether the second reuses
// elements of the first or not.
func FuzzChatInputs(f *testing.F) {
	fuzzseed.Add(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		a, b, ok := bytes.Cut(in, []byte{0})
		if !ok || !utf8.Valid(in) || !json.Valid(a) || !json.Valid(b) {
			return
		}
		var want [][]chat.Message
		nonText := 0
		for _, inputs := range [][]byte{a, b} {
			dec := json.NewDecoder(bytes.NewReader(inputs))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				return
			}
			msgs, n := decodedMessages(v, inputs)
			want = append(want, msgs)
			nonText += n
		}
		elem := fmt.Sprintf(`{"intermediate_steps": [
			{"payload": {"event_type": "LLM_START", "event_timestamp": 1, "UUID": "a", "metadata": {"chat_inputs": %s}}},
			{"payload": {"event_type": "LLM_END", "event_timestamp": 2, "UUID": "a"}},
			{"payload": {"event_type": "LLM_START", "event_timestamp": 3, "UUID": "b", "metadata": {"chat_inputs": %s}}},
			{"payload": {"event_type": "LLM_END", "event_timestamp": 4, "UUID": "b"}}]}`, a, b)
		req, err := Decode([]byte(elem))
		if err != nil {
			if depth(in) < 100 {
				t.Fatalf("valid chat_inputs refused: %v", err)
			}
			return // sonic refuses nesting deeper than encoding/json does
		}
		for i, c := range req.Calls {
			if !reflect.DeepEqual(c.Messages, want[i]) {
				t.Fatalf("call %d: got %s, want %s", i, chat.AppendJSON(nil, c.Messages), chat.AppendJSON(nil, want[i]))
			}
		}
		if req.NonText != nonText {
			t.Fatalf("NonText %d, want %d", req.NonText, nonText)
		}
	})
}

// depth returns the deepest nesting of arrays and objects in JSON text.
func depth(b []byte) int {
	d, deepest, inString := 0, 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '[' || c == '{':
			d++
			deepest = max(deepest, d)
		case c == ']' || c == '}':
			d--
		}
	}
	return deepest
}
