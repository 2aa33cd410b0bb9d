package telemetry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/zeebo/xxh3"

	"github.com/agent-trace/agent-trace/pkg/fuzzseed"
	"github.com/agent-trace/agent-trace/pkg/synth"

	"github.com/agent-trace/agent-trace/pkg/chat"
	"github.com/agent-trace/agent-trace/pkg/jsondecode"
	"github.com/agent-trace/agent-trace/pkg/record"
)

type legacyEvent struct {
	EventType       any `json:"event_type"`
	SessionID       any `json:"session_id"`
	Timestamp       any `json:"timestamp"`
	LatencyPriority any `json:"latency_priority"`
	LatencyMs       any `json:"latency_ms"`
	RequestPayload  any `json:"request_payload"`
	ResponsePayload any `json:"response_payload"`
}

// legacyParse is Parse as it was before the typed decoding: generic maps
// for the payloads. It is the oracle of TestParseEqualsLegacy.
//
// It refuses a line with an escape JSON does not allow wherever it lies,
// as Parse now does (sonic skips members it does not decode without
// checking them, which let such lines through, found by this fuzz target).
func legacyParse(line []byte) (*Event, error) {
	if err := record.CheckEscapes(line); err != nil {
		return nil, err
	}
	var raw legacyEvent
	if err := jsondecode.UnmarshalExact(line, &raw); err != nil {
		return nil, fmt.Errorf("not a JSON event object: %w", err)
	}
	ev := &Event{StartMs: math.NaN(), LatencyMs: math.NaN()}
	switch t := raw.EventType.(type) {
	case string:
		ev.Type = t
	case nil:
		return nil, fmt.Errorf("no \"event_type\": want a telemetry event such as {\"event_type\":\"llm_call\",...}")
	default:
		return nil, fmt.Errorf("\"event_type\" is %s, want a string", jsondecode.Kind(t))
	}
	if ev.Type != "llm_call" {
		return ev, nil
	}
	switch s := raw.SessionID.(type) {
	case string:
		ev.SessionID, ev.HasSession = s, true
	case json.Number:
		ev.SessionID, ev.HasSession = s.String(), true
	case nil:
	default:
		return nil, fmt.Errorf("\"session_id\" is %s, want a string", jsondecode.Kind(s))
	}
	switch ts := raw.Timestamp.(type) {
	case string:
		ev.Timestamp, ev.HasTimestamp = ts, true
		ev.StartMs = ParseTime(ts)
	case json.Number:
		ev.Timestamp, ev.HasTimestamp, ev.TimestampIsNumber = ts.String(), true, true
		if f, err := ts.Float64(); err == nil {
			ev.StartMs = epochMs(f)
		}
	case nil:
	default:
		return nil, fmt.Errorf("\"timestamp\" is %s, want a string or a number", jsondecode.Kind(ts))
	}
	switch p := raw.LatencyPriority.(type) {
	case string:
		ev.Priority, ev.HasPriority = p, true
	case nil:
	default:
		return nil, fmt.Errorf("\"latency_priority\" is %s, want a string", jsondecode.Kind(p))
	}
	switch l := raw.LatencyMs.(type) {
	case json.Number:
		f, err := l.Float64()
		if err != nil || math.IsInf(f, 0) {
			return nil, fmt.Errorf("\"latency_ms\" is %s, out of range for a number of milliseconds", l)
		}
		ev.LatencyMs = f
	case nil:
	default:
		return nil, fmt.Errorf("\"latency_ms\" is %s, want a number", jsondecode.Kind(l))
	}
	switch rp := raw.RequestPayload.(type) {
	case map[string]any:
		var st chat.Stats
		if m, ok := rp["messages"]; ok && m != nil {
			if _, ok := m.([]any); !ok {
				return nil, fmt.Errorf("\"request_payload.messages\" is %s, want a list", jsondecode.Kind(m))
			}
			ev.Messages = chat.FromOpenAI(m, &st)
		}
		ev.NonText = st.NonText
		if s, ok := rp["model"].(string); ok {
			ev.Model = s
		}
		if t, ok := rp["tools"]; ok && t != nil {
			var err error
			if ev.Tools, err = legacyTools(line); err != nil {
				return nil, fmt.Errorf("\"request_payload.tools\": %v", err)
			}
		}
	case nil:
	default:
		return nil, fmt.Errorf("\"request_payload\" is %s, want an object", jsondecode.Kind(rp))
	}
	switch rp := raw.ResponsePayload.(type) {
	case map[string]any:
		if u, ok := rp["usage"].(map[string]any); ok {
			var err error
			if ev.CompletionTokens, ev.HasCompletionTokens, err = jsondecode.Count(u["completion_tokens"]); err != nil {
				return nil, fmt.Errorf("\"response_payload.usage.completion_tokens\": %v", err)
			}
			if ev.PromptTokens, ev.HasPromptTokens, err = jsondecode.Count(u["prompt_tokens"]); err != nil {
				return nil, fmt.Errorf("\"response_payload.usage.prompt_tokens\": %v", err)
			}
		}
	case nil:
	default:
		return nil, fmt.Errorf("\"response_payload\" is %s, want an object", jsondecode.Kind(rp))
	}
	return ev, nil
}

// legacyTools reads request_payload.tools from the line again, as written.
func legacyTools(line []byte) ([]byte, error) {
	var ev struct {
		RequestPayload struct {
			Tools rawJSON `json:"tools"`
		} `json:"request_payload"`
	}
	if err := jsondecode.Unmarshal(line, &ev); err != nil {
		return nil, err
	}
	return chat.Tools(ev.RequestPayload.Tools)
}

// equalEvents reports whether two parses agree: both errors, or the same
// event.
func equalEvents(t *testing.T, line []byte) {
	t.Helper()
	got, err1 := Parse(line)
	want, err2 := legacyParse(line)
	if (err1 == nil) != (err2 == nil) {
		t.Fatalf("%.300s\nnew: %v\nold: %v", line, err1, err2)
	}
	if err1 != nil {
		return
	}
	if !reflect.DeepEqual(normal(got), normal(want)) {
		t.Fatalf("%.300s\nnew: %+v\nold: %+v", line, *got, *want)
	}
}

// equalDecoder checks that d.Parse gives what Parse gives on line (d
// remembers the messages of earlier lines) when ParseHead accepts it, and
// reports whether it reused a message decoded before.
func equalDecoder(t *testing.T, d *Decoder, line []byte) bool {
	t.Helper()
	if _, err := ParseHead(line); err != nil {
		return false // a Decoder reads the lines ParseHead accepts
	}
	before := len(d.seen)
	got, err1 := d.Parse(line)
	want, err2 := Parse(line)
	if (err1 == nil) != (err2 == nil) || err1 != nil && err1.Error() != err2.Error() {
		t.Fatalf("%.300s\nDecoder: %v\nParse: %v", line, err1, err2)
	}
	if err1 != nil {
		return false
	}
	checkKeys(t, got)
	if !reflect.DeepEqual(normal(got), normal(want)) {
		t.Fatalf("%.300s\nDecoder: %+v\nParse: %+v", line, *got, *want)
	}
	return len(got.Messages) > len(d.seen)-before
}

// normal makes NaN fields comparable.
func normal(e *Event) Event {
	c := *e
	if math.IsNaN(c.StartMs) {
		c.StartMs = -1
	}
	if math.IsNaN(c.LatencyMs) {
		c.LatencyMs = -1
	}
	if len(c.Messages) == 0 {
		c.Messages = nil
	}
	c.MessageKeys = nil // checked by checkKeys
	return c
}

// checkKeys checks that the keys a Decoder gave with an event's messages
// are the messages' keys, computed again here.
func checkKeys(t *testing.T, e *Event) {
	t.Helper()
	if e.MessageKeys == nil {
		return
	}
	if len(e.MessageKeys) != len(e.Messages) {
		t.Fatalf("%d keys for %d messages", len(e.MessageKeys), len(e.Messages))
	}
	h := xxh3.New()
	for i := range e.Messages {
		if want := e.Messages[i].Key(h); e.MessageKeys[i] != want {
			t.Fatalf("message %d (%+v): key %v, want %v", i, e.Messages[i], e.MessageKeys[i], want)
		}
	}
}

// The typed decoding gives what the generic one gave, event by event, on
// generated research sessions (interleaved agents, tool calls, tools lists,
// tool events), the testdata traces, odd shapes and the fuzz seeds.
func TestParseEqualsLegacy(t *testing.T) {
	var buf bytes.Buffer
	if err := synth.WriteTelemetry(&buf, synth.TelemetryOptions{Sessions: 20, Workers: 3, Calls: 6, TurnBytes: 300, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(buf.Bytes(), []byte("\n"))
	for _, f := range []string{"../../testdata/telemetry/research.jsonl", "../../testdata/telemetry/sessions.jsonl"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, bytes.Split(b, []byte("\n"))...)
	}
	for _, odd := range []string{
		`{"event_type":"llm_call","session_id":"s","request_payload":{"messages":[3,null,"x",{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url"}]},{"type":"human","content":5},{"role":"assistant","content":null,"tool_calls":[{"id":"c","function":{"name":"f","arguments":{"a":1}}}]},{"Role":"user","CONTENT":"upper"},{"role":"user","content":"a","content":"b"}],"model":7,"tools":[]}}`,
		`{"event_type":"llm_call","request_payload":{"messages":null,"tools":null},"response_payload":{"usage":{"prompt_tokens":3}}}`,
		`{"event_type":"llm_call","request_payload":{"messages":{}}}`,
		`{"event_type":"llm_call","request_payload":{"tools":{"a":1}}}`,
		`{"event_type":"llm_call","response_payload":[]}`,
		`{"event_type":"llm_call","response_payload":{"usage":[1]}}`,
		`{"event_type":"llm_call","request_payload":{"messages":[{"role":"user","content":"x\u00e9\ud83d\ude00"}]},"latency_ms":NaN}`,
		`{"event_type":"tool_call","request_payload":5}`,
		`{"event_type":"llm_call","session_id":"s","x":{"a":"]}\"{[","b":[1,{"c":"\\"}]},"request_payload":{"y":"}","messages":[{"role":"user","content":"a \"quoted\" ]} text\\"}],"z":[[],{}]},"response_payload":{"usage":{"prompt_tokens":3},"w":"{"}}`,
		`{"event_type":"llm_call","session_id":"s","request_payload":{"messages":[],"tools":null},"response_payload":null}`,
		`{"event_type":"llm_call","session_id":"s","request_payload":{"messages":null,"messages":[{"role":"user","content":"x"}]}}`,
		`{"event_type":"llm_call","session_id":"s","session_id":"t","request_payload":null}`,
		`{"event_type":"llm_call","session_id":"s","request_payload":{"model":"a","messages":[{"role":"user","content":"x"}]},"request_payload":{"messages":[{"role":"user","content":"y"}]}}`,
		`{"event_type":"llm_call","session_id":"s","request_payload":"text"}`,
		`{"event_type":"llm_call","session_id":"s","request_payload":[1],"response_payload":{"usage":[1]}}`,
		`{"event_type":"llm_call","session_id":"s","response_payload":{"usage":{"completion_tokens":2},"usage":null}}`,
		`{"event_type":"llm_call","session_\u0069d":"s","request_payload":{"messages":[{"role":"user","content":"x"}]}}`,
		`{"event_type":"llm_call","session_id":"s","request_payload":{"mod\u0065l":"m","messages":[{"role":"user","content":"x"},7]}}`,
		`{"event_type":"tool_call","session_id":"s","request_payload":{"messages":"not a list"}}`,
		`{"event_type":"llm_call","session_id":12.50,"timestamp":-0.0,"latency_ms":1e2,"latency_priority":null,"request_payload":{"model":null,"messages":[{"type":"human","content":[{"type":"text","text":"p"}]},{"role":"assistant","content":null,"tool_calls":[{"id":"c","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c","content":"r"}]}}`,
		` {"event_type" : "llm_call" , "latency_ms" : 12.5e0 , "timestamp" : 1717236000.5 , "session_id" : "s" , "request_payload" : { "messages" : [ { "role" : "user" , "content" : "x" } , { "role" : "assistant" , "content" : null , "tool_calls" : [ { "id" : "c" , "type" : "function" , "function" : { "name" : "f" , "arguments" : "{}" } } ] } ] , "tools" : [ {"type":"function"} ] } } `,
	} {
		lines = append(lines, []byte(odd))
	}
	entries, _ := os.ReadDir("../../testdata/fuzz/FuzzTelemetryParse")
	for _, e := range entries {
		b, err := os.ReadFile("../../testdata/fuzz/FuzzTelemetryParse/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, b) // a seed is one raw input
	}
	n, reused := 0, 0
	var dec Decoder
	for _, l := range lines {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		equalEvents(t, l)
		if equalDecoder(t, &dec, l) {
			reused++
		}
		n++
	}
	if reused < n/4 {
		t.Fatalf("the Decoder reused messages in %d of %d lines", reused, n)
	}
	if n < 300 {
		t.Fatalf("only %d lines compared", n)
	}
}

// FuzzParseEqualsLegacy: on any line, the typed and the generic decoding
// agree.
func FuzzParseEqualsLegacy(f *testing.F) {
	fuzzseed.Add(f)
	f.Add([]byte(`{"event_type":"llm_call","request_payload":{"messages":[{"role":"user","content":"x"}]}}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		equalEvents(t, line)
		var d Decoder
		equalDecoder(t, &d, line)
		equalDecoder(t, &d, line) // every message seen before
	})
}

// A Decoder takes the first elements a messages list shares, byte for
// byte, with one of the last lists it decoded; lists that differ in an
// element's last byte, in spacing, in the number of elements, and more
// agents interleaving than it keeps lists of, all give what Parse gives.
func TestDecoderTakesSharedElements(t *testing.T) {
	msg := func(role, content string) string {
		return `{"role":"` + role + `","content":"` + content + `"}`
	}
	call := func(msgs ...string) []byte {
		return []byte(`{"event_type":"llm_call","session_id":"s","request_payload":{"messages":[` + strings.Join(msgs, ",") + `]}}`)
	}
	sys, u1, a1 := msg("system", "you help"), msg("user", "question one"), msg("assistant", "answer one")
	lines := [][]byte{
		call(sys, u1),
		call(sys, u1, a1),
		call(sys, u1, msg("assistant", "answer onf")), // the last element's last letter
		call(sys, msg("user", "question onf")),        // a shared element's last letter
		call(sys, u1, a1, msg("user", "two")),
		call(sys),
		call(sys, u1, a1, msg("user", "two"), msg("assistant", "2")),
		[]byte(`{"event_type":"llm_call","session_id":"s","request_payload":{"messages":[ ` + sys + ` , ` + u1 + ` ]}}`), // spaced
		call(sys, u1, a1, msg("user", "two"), msg("assistant", "2")),
		call(msg("system", "you help!"), u1),
	}
	// More agents than lists kept, each continuing its own conversation.
	for round := range 3 {
		for agent := range keptLists + 3 {
			msgs := []string{sys, msg("user", "agent "+strconv.Itoa(agent))}
			for r := range round + 1 {
				msgs = append(msgs, msg("assistant", strconv.Itoa(agent*10+r)))
			}
			lines = append(lines, call(msgs...))
		}
	}
	var d Decoder
	for _, l := range lines {
		equalDecoder(t, &d, l)
	}
	// Lists too long to keep are decoded as they come.
	defer func(max int) { keptMax = max }(keptMax)
	keptMax = 60
	d = Decoder{}
	for _, l := range lines {
		equalDecoder(t, &d, l)
	}
	for _, kl := range d.lists {
		if len(kl.raw) > keptMax {
			t.Fatalf("a list of %d bytes kept, more than %d", len(kl.raw), keptMax)
		}
	}
}

// The messages a Decoder returns, and those it keeps for later lists, own
// their memory: trace-extract reads every line into one buffer, which the
// next line overwrites. Values of every kind (numbers as content, as tool
// call arguments and ids, content parts, escapes) are checked after the
// line's bytes are overwritten, and again when a later list takes them.
func TestDecoderMessagesOwnTheirMemory(t *testing.T) {
	lines := []string{
		`{"event_type":"llm_call","session_id":"s","request_payload":{"messages":[` +
			`{"role":"system","content":"you \"help\"\n"},` +
			`{"role":"user","content":[{"type":"text","text":"part one"},{"type":"text","text":"12.50"}]},` +
			`{"role":"assistant","content":null,"tool_calls":[{"id":7,"type":"function","function":{"name":"f","arguments":{"n":12.50,"s":"x"}}}]},` +
			`{"role":"tool","content":1e3,"tool_call_id":"call 7"},` +
			`{"role":"tool","content":12.50,"tool_call_id":8}]}}`,
	}
	lines = append(lines, strings.Replace(lines[0], `]}}`, `,{"role":"user","content":"next"}]}}`, 1))
	var d Decoder
	buf := make([]byte, 0, 4096)
	for _, l := range lines {
		buf = append(buf[:0], l...)
		got, err := d.Parse(buf)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Parse([]byte(l))
		if err != nil {
			t.Fatal(err)
		}
		for i := range buf {
			buf[i] = '#'
		}
		if got.MessageKeys == nil {
			t.Fatal("no message keys from the Decoder")
		}
		checkKeys(t, got)
		if !reflect.DeepEqual(normal(got), normal(want)) {
			t.Fatalf("after the line was overwritten:\nDecoder: %+v\nParse: %+v", *got, *want)
		}
	}
}

// anyAt decodes scalars itself: each as the decoder decodes it into an
// interface (strings with every kind of escape, invalid UTF-8, numbers as
// json.Number text), objects and lists through the decoder.
func TestAnyAtEqualsDecoder(t *testing.T) {
	for _, lit := range []string{`"plain"`, `"a\"b\\c\/d\n\u00e9\ud83d\ude00"`, `"\ud800x"`, "\"\xff\xc3\"", `""`,
		`0`, `-0`, `12.50`, `1e3`, `-1.5E-7`, `true`, `false`, `null`, `{"a":[1,"x"]}`, `[1,2]`} {
		b := []byte(`[` + lit + `,7]`)
		var got, want any
		end, err := anyAt(b, 1, &got)
		if err != nil || end != 1+len(lit) {
			t.Fatalf("anyAt(%s) = %d, %v", lit, end, err)
		}
		if err := jsondecode.TryExactString(lit, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("anyAt(%s) = %#v, the decoder %#v", lit, got, want)
		}
		if lit[0] == '{' || lit[0] == '[' {
			continue // the decoder's json.Number values share the line (read before it is reused)
		}
		b[2] = '#' // a scalar anyAt returns owns its memory
		if !reflect.DeepEqual(got, want) {
			t.Errorf("anyAt(%s) = %#v after its input changed", lit, got)
		}
	}
}

// objectAt builds a usage object's map as the decoder does: scalars,
// nested values, a key given twice (the last wins), an escaped key.
func TestObjectAtEqualsDecoder(t *testing.T) {
	for _, lit := range []string{`{"prompt_tokens": 58, "completion_tokens": 5}`, `{}`, `{"a":1,"a":"two"}`,
		`{"d":{"x":[1,{"y":null}]},"s":"\u00e9"}`, `{"compl\u0065tion_tokens":3,"completion_tokens":4}`, `7`, `null`, `[1]`} {
		b := []byte(lit + ` `)
		var got, want any
		end, err := objectAt(b, 0, &got)
		if err != nil || end != len(lit) {
			t.Fatalf("objectAt(%s) = %d, %v", lit, end, err)
		}
		if err := jsondecode.TryExactString(lit, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("objectAt(%s) = %#v, the decoder %#v", lit, got, want)
		}
	}
}
