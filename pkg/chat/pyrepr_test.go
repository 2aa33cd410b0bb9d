package chat

import (
	"encoding/json"
	"testing"
)

// pyReprCases: JSON text, and what CPython 3.11 prints for
// str(json.loads(text)) (generated with python3; see the commit).
var pyReprCases = []struct{ json, want string }{
	{"{\"result\": [1, 2.5, null, true], \"note\": \"it's\"}", "{'result': [1, 2.5, None, True], 'note': \"it's\"}"},
	{"{\"a\": 1, \"b\": {\"c\": [false, -0, -0.0, 1e5, 1E-7, 0.0001, 0.00001, 123456789012345678, 1e16, 12345678901234567.0, 2.0, -3.25e-10]}}", "{'a': 1, 'b': {'c': [False, 0, -0.0, 100000.0, 1e-07, 0.0001, 1e-05, 123456789012345678, 1e+16, 1.2345678901234568e+16, 2.0, -3.25e-10]}}"},
	{"{\"q\": \"say \\\"hi\\\" and 'bye'\", \"t\": \"tab\\there\\nnewline\\\\ back\", \"u\": \"é東京\\u0007\\u00a0\\u200b\\ud83d\\ude00\"}", "{'q': 'say \"hi\" and \\'bye\\'', 't': 'tab\\there\\nnewline\\\\ back', 'u': 'é東京\\x07\\xa0\\u200b😀'}"},
	{"{\"a\": 1, \"b\": 2, \"a\": 3}", "{'a': 3, 'b': 2}"},
	{"{}", "{}"},
	{"[]", "[]"},
	{"{\"x\": [], \"y\": {}, \"z\": \"\\u007f\"}", "{'x': [], 'y': {}, 'z': '\\x7f'}"},
	{"{\"only 'single'\": \"and \\\"double\\\" 'both'\"}", "{\"only 'single'\": 'and \"double\" \\'both\\''}"},
	{"[1.5, 100.0, 1e22, 1.7976931348623157e308, 5e-324]", "[1.5, 100.0, 1e+22, 1.7976931348623157e+308, 5e-324]"},
	{"{\"k\": \"plain\"}", "{'k': 'plain'}"},
}

func TestPyRepr(t *testing.T) {
	for _, c := range pyReprCases {
		got, err := PyRepr([]byte(c.json))
		if err != nil || got != c.want {
			t.Errorf("PyRepr(%s)\n got %s (%v)\nwant %s", c.json, got, err, c.want)
		}
	}
	if _, err := PyRepr([]byte(`{"a":`)); err == nil {
		t.Error("truncated object: want an error")
	}
}

// A NAT message whose content is a dict has the text Python's str() gives
// of it, members in their order, in the plain and the constructor form;
// without the element's text it counts as non-text.
func TestDictContent(t *testing.T) {
	for _, raw := range []string{
		`{"type": "tool", "tool_call_id": "t", "content": {"b": 1, "a": [null, "x"]}}`,
		`{"lc": 1, "type": "constructor", "id": ["ToolMessage"], "kwargs": {"tool_call_id": "t", "content": {"b": 1, "a": [null, "x"]}}}`,
	} {
		var v any
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			t.Fatal(err)
		}
		var st Stats
		msgs := FromNATElement(v, []byte(raw), &st)
		if len(msgs) != 1 || msgs[0].Content == nil || *msgs[0].Content != "{'b': 1, 'a': [None, 'x']}" || msgs[0].Role != "tool" || st.NonText != 0 {
			t.Errorf("%s: %+v %v", raw, msgs, st)
		}
		st = Stats{}
		if msgs := FromNAT([]any{v}, &st); msgs[0].Content != nil || st.NonText != 1 {
			t.Errorf("%s without its text: %+v", raw, msgs)
		}
	}
}
