package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bytedance/sonic"

	"github.com/agent-trace/agent-trace/pkg/fuzzseed"
	"github.com/agent-trace/agent-trace/pkg/record"
)

func decode(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := sonic.ConfigStd.UnmarshalFromString(s, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// The prompt text of every NAT message shape the toolkit reads.
func TestFromNATShapes(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		roles          string
		nonText        int
	}{
		{"openai", `[{"role":"system","content":"S"},{"role":"user","content":"U"}]`, "S\nU", "system,user", 0},
		{"empty content gives no piece", `[{"role":"system","content":""},{"role":"user","content":"U"}]`, "U", "system,user", 0},
		{"langchain dump", `[{"type":"system","content":"S"},{"type":"human","content":"H"},{"type":"ai","content":"A"},{"type":"tool","content":"T"}]`, "S\nH\nA\nT", "system,user,assistant,tool", 0},
		{"langchain constructor", `[{"lc":1,"type":"constructor","id":["langchain","schema","messages","HumanMessage"],"kwargs":{"content":"hi"}}]`, "hi", "user", 0},
		{"plain strings, empty kept", `["a","","b"]`, "a\n\nb", "user,user,user", 0},
		{"single string", `"just text"`, "just text", "user", 0},
		{"list content", `[{"role":"user","content":[{"type":"text","text":"x"},{"type":"image_url","image_url":{}},"y",{"type":"text","text":""}]}]`, "x\ny", "user", 2},
		{"list without text", `[{"role":"user","content":[{"type":"image_url"}]},{"role":"user","content":"z"}]`, "z", "user,user", 1},
		{"strands system text", `[{"role":"system","text":"S"},{"role":"user","content":[{"text":"U"}]}]`, "S\nU", "system,user", 0},
		{"semantic kernel", `[{"messages":[{"role":"system","items":[{"text":"S"}]},{"role":"user","items":[{"text":"U1"},{"text":"U2"}]}]}]`, "S\nU1\nU2", "system,user", 0},
		{"null chat_inputs", `null`, "", "", 0},
		{"number content", `[{"role":"user","content":5}]`, "5", "user", 0},
		{"non-message entries", `[3, null, {"role":"user","content":"ok"}]`, "ok", "user", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var st Stats
			msgs := FromNAT(decode(t, tc.in), &st)
			if got := PromptText(msgs); got != tc.want {
				t.Errorf("text %q, want %q", got, tc.want)
			}
			roles := ""
			for i, m := range msgs {
				if i > 0 {
					roles += ","
				}
				roles += m.Role
			}
			if roles != tc.roles {
				t.Errorf("roles %q, want %q", roles, tc.roles)
			}
			if st.NonText != tc.nonText {
				t.Errorf("non-text %d, want %d", st.NonText, tc.nonText)
			}
		})
	}
}

func TestFromOpenAI(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`[{"role":"system","content":"S"},{"role":"user","content":""},{"role":"assistant","content":null},{"role":"tool","content":"T"}]`, "S\n\nT"},
		{`[{"role":"user","content":[{"type":"text","text":"a"},"b",{"type":"text","text":""}]}]`, "a\nb"},
		{`["not a message", {"role":"user","content":"x"}]`, "x"},
		{`[]`, ""},
	} {
		var st Stats
		if got := PromptText(FromOpenAI(decode(t, tc.in), &st)); got != tc.want {
			t.Errorf("%s: text %q, want %q", tc.in, got, tc.want)
		}
	}
}

// AppendJSON and Decode round-trip, and the prompt text survives them.
func TestJSONRoundTrip(t *testing.T) {
	var st Stats
	msgs := FromOpenAI(decode(t, `[{"role":"system","content":"é\"\n"},{"role":"assistant","content":null},{"role":"user","content":""}]`), &st)
	raw := AppendJSON(nil, msgs)
	if string(raw) != `[{"role":"system","content":"é\"\n"},{"role":"assistant","content":null},{"role":"user","content":""}]` {
		t.Errorf("json %s", raw)
	}
	back, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	if PromptText(back) != PromptText(msgs) || back[1].Content != nil {
		t.Errorf("round trip changed the messages: %+v", back)
	}
	if _, err := Decode([]byte(`{"role":"user"}`)); err == nil {
		t.Error("Decode of an object: want an error")
	}
}

func TestEmptyPrompt(t *testing.T) {
	e, x := "", "x"
	for _, msgs := range [][]Message{nil, {{Role: "user"}}, {{Role: "user", Content: &e}}, {{Role: "user", Content: &e}, {Role: "tool"}},
		{{Role: "user", Content: &e}, {Role: "user", Content: &e}}, {{Role: "user", Content: &x}}} {
		if got, want := EmptyPrompt(msgs), PromptText(msgs) == ""; got != want {
			t.Errorf("%+v: EmptyPrompt %v, PromptText empty %v", msgs, got, want)
		}
	}
}

// appendPrompt reads a whole messages value with Prompt.Read: white space
// around it is allowed, anything else after it is an error.
func appendPrompt(dst, raw []byte) ([]byte, error) {
	var p Prompt
	end, err := p.Read(raw, record.SkipSpace(raw, 0))
	if err == nil && record.SkipSpace(raw, end) != len(raw) {
		err = errors.New("extra data after the list")
	}
	return append(dst, p.Text()...), err
}

// TestReadPromptEqualsDecode: Prompt.Read gives PromptText(Decode(raw))
// on the lists AppendJSON writes and on hand-made variants of them.
func TestReadPromptEqualsDecode(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	texts := []string{"", "plain", "line\nbreak", `quote " and \ back`, "tab\tctl\x01", "ünï €😀", "\u2028", "<|eot_id|>"}
	for n := range 2000 {
		var msgs []Message
		for range r.IntN(6) {
			m := Message{Role: []string{"system", "user", "assistant", "tool"}[r.IntN(4)]}
			if r.IntN(5) > 0 {
				s := texts[r.IntN(len(texts))] + texts[r.IntN(len(texts))]
				m.Content = &s
			}
			msgs = append(msgs, m)
		}
		raw := AppendJSON(nil, msgs)
		got, err := appendPrompt([]byte("keep:"), raw)
		if err != nil || string(got) != "keep:"+PromptText(msgs) {
			t.Fatalf("case %d: %s: got %q, %v; want %q", n, raw, got, err, PromptText(msgs))
		}
	}
	for _, raw := range []string{
		`null`, `[]`, ` [ ] `, `[null]`, `[{}]`,
		`[{"role":"user","content":"a","content":"b"},{"content":"c"}]`,
		`[{"role":"user","content":"a","content":null},{"content":"c"}]`,
		`[{"content":null,"content":"x"}]`,
		`[{"Content":"case","ROLE":"user"}]`,
		`[{"cont\u0065nt":"escaped name"}]`,
		`[{"role":null,"content":"r"}, {"x":[1,{"content":"no"}],"content":"yes"}]`,
		"[ {\"role\" : \"u\" , \"content\" : \"spaced\\n\\u00e9\\ud83d\\ude00\" } ]",
	} {
		msgs, derr := Decode([]byte(raw))
		got, err := appendPrompt(nil, []byte(raw))
		if derr != nil || err != nil || string(got) != PromptText(msgs) {
			t.Errorf("%s: got %q, %v; Decode gives %q, %v", raw, got, err, PromptText(msgs), derr)
		}
	}
	for _, raw := range []string{`{}`, `"x"`, `[1]`, `[{"content":1}]`, `[{"content":[]}]`, `[{"role":5}]`, `[{"content":"x"`, `[{"content":"x"},]`, `[{"a":1,}]`, `[`, `[{"content":"\q"}]`} {
		if _, err := appendPrompt(nil, []byte(raw)); err == nil {
			t.Errorf("%s: accepted", raw)
		} else if !strings.Contains(err.Error(), `field "messages"`) {
			t.Errorf("%s: error %q does not name the field", raw, err)
		}
	}
}

// FuzzReadPrompt: on any input that record.Parse accepts as a value,
// Decode gives what encoding/json gives (the same error or not, the same
// messages) and Prompt.Read gives its PromptText.
func FuzzReadPrompt(f *testing.F) {
	fuzzseed.Add(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		end, err := record.SkipValue(raw, 0)
		if err != nil || end != len(raw) || !utf8.Valid(raw) {
			return // trace-tokenize hands it only whole, valid values
		}
		var want []Message
		jerr := json.Unmarshal(raw, &want)
		msgs, derr := Decode(raw)
		if (jerr == nil) != (derr == nil) {
			t.Fatalf("%s: Decode error %v, encoding/json error %v", raw, derr, jerr)
		}
		if jerr == nil && !reflect.DeepEqual(msgs, want) && !(len(msgs) == 0 && len(want) == 0) {
			t.Fatalf("%s: Decode gives %+v, encoding/json %+v", raw, msgs, want)
		}
		got, err := appendPrompt(nil, raw)
		if (derr == nil) != (err == nil) {
			t.Fatalf("%s: Prompt.Read error %v, Decode error %v", raw, err, derr)
		}
		if err == nil && string(got) != PromptText(msgs) {
			t.Fatalf("%s: got %q, want %q", raw, got, PromptText(msgs))
		}
		// Inside a line, Read stops where the value does.
		line := append(append([]byte(`{"messages":`), raw...), `,"x":1}`...)
		var p Prompt
		if end, err := p.Read(line, len(`{"messages":`)); err == nil && end != len(`{"messages":`)+len(raw) {
			t.Fatalf("%s: Read ends at %d, want %d", raw, end, len(`{"messages":`)+len(raw))
		}
		if err == nil {
			checkSplits(t, msgs)
		}
	})
}

// A JSONWriter that remembers contents writes the bytes a fresh one does,
// also once its memory has filled and been emptied.
func TestJSONWriterRemembers(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	long := func() *string {
		s := strings.Repeat(string(rune('a'+r.IntN(26)))+"\"é\n", 1+r.IntN(rememberFrom))
		return &s
	}
	var w JSONWriter
	var msgs []Message
	written := 0
	for i := 0; written < 2*rememberBytes; i++ {
		if r.IntN(10) == 0 {
			msgs = nil // a new conversation
		}
		msgs = append(msgs, Message{Role: "user", Content: long()}, Message{Role: "assistant"})
		if r.IntN(3) == 0 { // a big tool result
			s := strings.Repeat(*long(), 200)
			msgs = append(msgs, Message{Role: "tool", Content: &s})
		}
		got := w.Append([]byte("x"), msgs)
		var fresh JSONWriter
		if want := fresh.Append([]byte("x"), msgs); !bytes.Equal(got, want) {
			t.Fatalf("list %d: remembered text differs", i)
		}
		written += len(got)
		if w.size > rememberBytes+len(got)*2 {
			t.Fatalf("list %d: remembers %d bytes, limit %d", i, w.size, rememberBytes)
		}
	}
}

// Keeping the first messages of a prompt and appending the rest read on
// their own gives the prompt of the whole list, at every split: what
// trace-tokenize does with compact records (shared_messages).
func TestPromptSplits(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	texts := []string{"", "a", "é\n", "tool output"}
	for range 500 {
		var msgs []Message
		for range r.IntN(7) {
			m := Message{Role: "user"}
			if k := r.IntN(len(texts) + 1); k < len(texts) {
				m.Content = &texts[k]
			}
			msgs = append(msgs, m)
		}
		checkSplits(t, msgs)
	}
}

// checkSplits checks Keep and Append against reading msgs whole.
func checkSplits(t *testing.T, msgs []Message) {
	t.Helper()
	var whole Prompt
	if _, err := whole.Read(AppendJSON(nil, msgs), 0); err != nil {
		t.Fatal(err)
	}
	if string(whole.Text()) != PromptText(msgs) || whole.Messages() != len(msgs) {
		t.Fatalf("%+v: read %q (%d messages), want %q", msgs, whole.Text(), whole.Messages(), PromptText(msgs))
	}
	for k := 0; k <= len(msgs); k++ {
		var first, rest Prompt
		if _, err := first.Read(AppendJSON(nil, msgs), 0); err != nil {
			t.Fatal(err)
		}
		if end := first.Keep(k); string(first.Text()) != PromptText(msgs[:k]) || end != len(first.Text()) {
			t.Fatalf("%+v: first %d: %q (%d), want %q", msgs, k, first.Text(), end, PromptText(msgs[:k]))
		}
		if _, err := rest.Read(AppendJSON(nil, msgs[k:]), 0); err != nil {
			t.Fatal(err)
		}
		first.Append(&rest)
		if string(first.Text()) != string(whole.Text()) || !slices.Equal(first.marks, whole.marks) {
			t.Fatalf("%+v: split at %d: %q %v, want %q %v", msgs, k, first.Text(), first.marks, whole.Text(), whole.marks)
		}
	}
}

// Tool calls and tool call ids, in every form the inputs write them, are
// read into OpenAI's form, written and decoded back unchanged, compared by
// Equal, and are not part of the prompt text.
func TestToolCalls(t *testing.T) {
	want := []ToolCall{{ID: "c1", Name: "search", Arguments: `{"q":"kv cache"}`}}
	for _, tc := range []struct {
		name string
		fn   func(any, *Stats) []Message
		in   string
	}{
		{"openai", FromOpenAI, `[{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"search","arguments":"{\"q\":\"kv cache\"}"}}]},{"role":"tool","tool_call_id":"c1","content":"r"}]`},
		{"langchain", FromNAT, `[{"type":"ai","content":"","tool_calls":[{"name":"search","args":{"q":"kv cache"},"id":"c1","type":"tool_call"}]},{"type":"tool","content":"r","tool_call_id":"c1"}]`},
		{"langchain kwargs", FromNAT, `[{"type":"ai","content":"","additional_kwargs":{"tool_calls":[{"id":"c1","type":"function","function":{"name":"search","arguments":"{\"q\":\"kv cache\"}"}}]},"tool_calls":[{"name":"search","args":{"q":"other"},"id":"c1"}]},{"type":"tool","content":"r","tool_call_id":"c1"}]`},
		{"constructor", FromNAT, `[{"lc":1,"type":"constructor","id":["langchain","schema","messages","AIMessage"],"kwargs":{"content":"","tool_calls":[{"name":"search","args":{"q":"kv cache"},"id":"c1"}]}},{"lc":1,"type":"constructor","id":["ToolMessage"],"kwargs":{"content":"r","tool_call_id":"c1"}}]`},
	} {
		var st Stats
		msgs := tc.fn(decode(t, tc.in), &st)
		if len(msgs) != 2 || !slices.Equal(msgs[0].ToolCalls, want) || msgs[1].ToolCallID != "c1" || msgs[0].Role != "assistant" {
			t.Fatalf("%s: %+v", tc.name, msgs)
		}
		if PromptText(msgs) != "r" {
			t.Errorf("%s: prompt text %q", tc.name, PromptText(msgs))
		}
		raw := AppendJSON(nil, msgs)
		back, err := Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		if len(back) != 2 || !back[0].Equal(msgs[0]) || !back[1].Equal(msgs[1]) {
			t.Errorf("%s: round trip %s -> %+v", tc.name, raw, back)
		}
		var p Prompt
		if _, err := p.Read(raw, 0); err != nil || string(p.Text()) != "r" {
			t.Errorf("%s: Prompt.Read %q %v", tc.name, p.Text(), err)
		}
		other := msgs[0]
		other.ToolCalls = []ToolCall{{ID: "c1", Name: "search", Arguments: `{"q":"x"}`}}
		if other.Equal(msgs[0]) {
			t.Errorf("%s: different arguments compare equal", tc.name)
		}
	}
	if string(AppendJSON(nil, []Message{{Role: "assistant", ToolCalls: want}})) !=
		`[{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"search","arguments":"{\"q\":\"kv cache\"}"}}]}]` {
		t.Error("tool calls are not written in OpenAI's form")
	}
}

// ReadFirsts finds what decoding every message finds: the first system and
// user messages and their contents, on the same inputs as the prompt
// reader's tests, and After merges a compact record's as the decoded lists
// are merged.
func TestReadFirstsEqualsDecode(t *testing.T) {
	firsts := func(msgs []Message) Firsts {
		f := Firsts{SystemAt: -1, UserAt: -1, N: len(msgs)}
		for i, m := range msgs {
			c := ""
			if m.Content != nil {
				c = *m.Content
			}
			switch {
			case m.Role == "system" && f.SystemAt < 0:
				f.SystemAt, f.System = i, c
			case m.Role == "user" && f.UserAt < 0:
				f.UserAt, f.User = i, c
			}
		}
		return f
	}
	rng := rand.New(rand.NewPCG(5, 6))
	roles := []string{"system", "user", "assistant", "tool", ""}
	for n := range 400 {
		var msgs []Message
		for range rng.IntN(6) {
			m := Message{Role: roles[rng.IntN(len(roles))]}
			if rng.IntN(4) > 0 {
				c := strings.Repeat("é\"\\ x", rng.IntN(4)) + fmt.Sprint(n)
				m.Content = &c
			}
			if rng.IntN(5) == 0 {
				m.ToolCalls = []ToolCall{{ID: "c", Name: "f", Arguments: "{}"}}
			}
			msgs = append(msgs, m)
		}
		raw := AppendJSON(nil, msgs)
		got, err := ReadFirsts(raw)
		if err != nil {
			t.Fatal(err)
		}
		if want := firsts(msgs); got != want {
			t.Fatalf("%s: got %+v, want %+v", raw, got, want)
		}
		// Compact: the first k messages, then the rest.
		k := rng.IntN(len(msgs) + 1)
		rest, _ := ReadFirsts(AppendJSON(nil, msgs[k:]))
		if merged := got.After(k, rest); merged != firsts(msgs) {
			t.Fatalf("After(%d): %+v, want %+v", k, merged, firsts(msgs))
		}
	}
	for _, bad := range []string{`[{"role":"user","content":5}]`, `[{"role":"user"`, `{}`, `[] x`} {
		if _, err := ReadFirsts([]byte(bad)); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
}
