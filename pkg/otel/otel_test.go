package otel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/agent-trace/agent-trace/pkg/chat"
	"github.com/agent-trace/agent-trace/pkg/nat"
)

func readCalls(t testing.TB, in []byte) ([]*Call, Stats) {
	t.Helper()
	r := NewReader(bytes.NewReader(in), "in")
	var out []*Call
	for {
		c, err := r.Next()
		if err == io.EOF {
			return out, r.Stats
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
}

func roles(msgs []chat.Message) string {
	var r []string
	for _, m := range msgs {
		r = append(r, m.Role)
	}
	return strings.Join(r, ",")
}

// Each fixture, in the form of the exporter it stands for, gives its LLM
// calls with their session, model, usage and prompt.
func TestFixtures(t *testing.T) {
	type want struct {
		session, model, roles string
		in, out               int64
		tools                 bool
	}
	for _, tc := range []struct {
		file  string
		calls []want
		stats Stats
	}{
		{"genai-otlp.json", []want{
			{"conv-42", "meta/llama-3.3-70b-instruct", "system,user,assistant,tool", 96, 41, true},
			{"conv-42", "meta/llama-3.3-70b-instruct", "system,user", 61, 17, true},
		}, Stats{Spans: 5, NotLLM: 2, NoContent: 1}},
		{"openllmetry.jsonl", []want{
			{"", "gpt-4o-mini", "system,user,assistant,user", 40, 12, false},
			{"", "gpt-4o-mini", "user", 3, 2, false},
			{"", "gpt-4o-mini", "system,user", 25, 14, false},
			{"", "gpt-4o-mini", "user,assistant,tool", 12, 20, false},
		}, Stats{Spans: 5, NotLLM: 1}},
		{"openinference.jsonl", []want{
			{"sess-7", "Qwen/Qwen3-8B", "system,user,assistant,tool", 88, 30, true},
			{"sess-7", "Qwen/Qwen3-8B", "system,user", 40, 25, true},
		}, Stats{Spans: 3, NotLLM: 1}},
		{"python-sdk.json", []want{
			{"", "gpt-4o", "system,user", 21, 7, false},
			{"", "gpt-4o", "system,user,assistant,user", 30, 7, false},
		}, Stats{Spans: 2}},
	} {
		in, err := os.ReadFile("../../testdata/otel/" + tc.file)
		if err != nil {
			t.Fatal(err)
		}
		calls, st := readCalls(t, in)
		if st != tc.stats {
			t.Errorf("%s: stats %+v, want %+v", tc.file, st, tc.stats)
		}
		if len(calls) != len(tc.calls) {
			t.Fatalf("%s: %d calls, want %d", tc.file, len(calls), len(tc.calls))
		}
		for i, c := range calls {
			w := tc.calls[i]
			r := roles(c.Messages)
			if c.Session != w.session || c.Model != w.model || r != w.roles ||
				c.InputTokens != w.in || c.OutputTokens != w.out || !c.HasInput || !c.HasOutput || (c.Tools != nil) != w.tools ||
				math.IsNaN(c.StartMs) || math.IsNaN(c.EndMs) || c.TraceID == "" {
				t.Errorf("%s call %d: %+v roles %s, want %+v", tc.file, i, c, roles(c.Messages), w)
			}
		}
	}
}

// Attribute values in every OTLP/JSON form, and as a plain object.
func TestAttributes(t *testing.T) {
	got, err := attributes(json.RawMessage(`[
		{"key":"s","value":{"stringValue":"x"}},
		{"key":"i","value":{"intValue":"12"}},
		{"key":"n","value":{"intValue":13}},
		{"key":"d","value":{"doubleValue":1.5}},
		{"key":"b","value":{"boolValue":true}},
		{"key":"a","value":{"arrayValue":{"values":[{"stringValue":"p"},{"intValue":"2"}]}}},
		{"key":"k","value":{"kvlistValue":{"values":[{"key":"q","value":{"stringValue":"r"}}]}}}]`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"s": "x", "i": int64(12), "n": int64(13), "d": 1.5, "b": true, "a": []any{"p", int64(2)}, "k": map[string]any{"q": "r"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v", got)
	}
	got, err = attributes(json.RawMessage(`{"s":"x","i":12,"d":1.5}`))
	if err != nil || !reflect.DeepEqual(got, map[string]any{"s": "x", "i": int64(12), "d": 1.5}) {
		t.Errorf("object form: %#v %v", got, err)
	}
}

func TestLooksLikeOTel(t *testing.T) {
	for in, want := range map[string]bool{
		`{"resourceSpans":[]}`:                                      true,
		"{\n  \"traceId\": \"ab\", \"spanId\": \"cd\"}":             true,
		`{"name":"x","context":{"trace_id":"0x1"},"attributes":{}}`: true,
		`{"event_type":"llm_call","session_id":"s"}`:                false,
		`{"parent_id":"root","payload":{}}`:                         false,
		`[1]`:                                                       false,
	} {
		if got := LooksLikeOTel([]byte(in)); got != want {
			t.Errorf("%s: %v", in, got)
		}
	}
}

// A document that is no OTel: an error naming the input and the offset.
func TestNotOTel(t *testing.T) {
	_, err := NewReader(strings.NewReader(`{"resourceSpans":[]} {"event_type":"llm_call"}`), "x.json").Next()
	if err == nil || !strings.Contains(err.Error(), "x.json: at byte offset 21") {
		t.Errorf("got %v", err)
	}
}

// toOTel writes the LLM calls of a NAT profiler trace as OTLP/JSON GenAI
// spans of the current conventions (gen_ai.input.messages with parts), one
// export request per line, the session of request N named conv_N (what the
// NAT reader names it), with the same times and usage.
func toOTel(t testing.TB, trace []byte) []byte {
	t.Helper()
	sc := nat.NewArrayScanner(bytes.NewReader(trace))
	var out bytes.Buffer
	for i := 0; ; i++ {
		elem, err := sc.Next()
		if err == io.EOF {
			return out.Bytes()
		}
		if err != nil {
			t.Fatal(err)
		}
		req, err := nat.Decode(elem)
		if err != nil {
			t.Fatal(err)
		}
		var spans []any
		for k, c := range req.Calls {
			var msgs []any
			for _, m := range c.Messages {
				var parts []any
				if m.Role == "tool" {
					resp := ""
					if m.Content != nil {
						resp = *m.Content
					}
					parts = append(parts, map[string]any{"type": "tool_call_response", "id": m.ToolCallID, "response": resp})
				} else if m.Content != nil {
					parts = append(parts, map[string]any{"type": "text", "content": *m.Content})
				}
				for _, tc := range m.ToolCalls {
					parts = append(parts, map[string]any{"type": "tool_call", "id": tc.ID, "name": tc.Name, "arguments": tc.Arguments})
				}
				if parts == nil {
					parts = []any{}
				}
				msgs = append(msgs, map[string]any{"role": m.Role, "parts": parts})
			}
			in, _ := json.Marshal(msgs)
			kv := func(k string, v any) any {
				switch v := v.(type) {
				case string:
					return map[string]any{"key": k, "value": map[string]any{"stringValue": v}}
				case int64:
					return map[string]any{"key": k, "value": map[string]any{"intValue": fmt.Sprint(v)}}
				}
				return nil
			}
			attrs := []any{kv("gen_ai.operation.name", "chat"), kv("gen_ai.request.model", c.Model),
				kv("gen_ai.conversation.id", "conv_"+req.Number), kv("gen_ai.input.messages", string(in))}
			if c.HasCompletionTokens {
				attrs = append(attrs, kv("gen_ai.usage.output_tokens", c.CompletionTokens))
			}
			if c.HasPromptTokens {
				attrs = append(attrs, kv("gen_ai.usage.input_tokens", c.PromptTokens))
			}
			if c.Tools != nil {
				attrs = append(attrs, kv("gen_ai.tool.definitions", string(c.Tools)))
			}
			ns := func(s float64) string {
				if math.IsNaN(s) {
					return "0"
				}
				return fmt.Sprint(int64(math.Round(s * 1e9)))
			}
			spans = append(spans, map[string]any{"traceId": fmt.Sprintf("%032x", i+1), "spanId": fmt.Sprintf("%016x", k+1),
				"name": "chat " + c.Model, "startTimeUnixNano": ns(c.StartTime), "endTimeUnixNano": ns(c.EndTime), "attributes": attrs})
		}
		if len(spans) == 0 {
			continue
		}
		doc := map[string]any{"resourceSpans": []any{map[string]any{"resource": map[string]any{}, "scopeSpans": []any{map[string]any{"spans": spans}}}}}
		b, _ := json.Marshal(doc)
		out.Write(b)
		out.WriteByte('\n')
	}
}

// testdata/otel/multi.otel.jsonl is testdata/nat/multi.json written as
// GenAI spans (toOTel); regenerate with AGENTTRACE_UPDATE=1. The same run
// read both ways gives the same calls.
func TestSameCallsAsNAT(t *testing.T) {
	trace, err := os.ReadFile("../../testdata/nat/multi.json")
	if err != nil {
		t.Fatal(err)
	}
	want := toOTel(t, trace)
	path := "../../testdata/otel/multi.otel.jsonl"
	if os.Getenv("AGENTTRACE_UPDATE") == "1" {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s is not multi.json as spans (err %v): run with AGENTTRACE_UPDATE=1", path, err)
	}
	calls, _ := readCalls(t, got)
	sc := nat.NewArrayScanner(bytes.NewReader(trace))
	i := 0
	for {
		elem, err := sc.Next()
		if err == io.EOF {
			break
		}
		req, _ := nat.Decode(elem)
		for _, c := range req.Calls {
			if i >= len(calls) {
				t.Fatalf("%d calls, want more", len(calls))
			}
			o := calls[i]
			i++
			if !reflect.DeepEqual(o.Messages, c.Messages) || o.Model != c.Model || o.Session != "conv_"+req.Number ||
				o.OutputTokens != c.CompletionTokens || o.InputTokens != c.PromptTokens || !bytes.Equal(o.Tools, c.Tools) ||
				math.Abs(o.StartMs-c.StartTime*1000) > 0.001 || math.Abs(o.EndMs-c.EndTime*1000) > 0.001 {
				t.Errorf("call %d (%s): differs from the NAT call", i, c.UUID)
			}
		}
	}
	if i != len(calls) {
		t.Errorf("%d calls, NAT has %d", len(calls), i)
	}
}

// FuzzReader: any input gives calls or an error, never a panic.
func FuzzReader(f *testing.F) {
	for _, name := range []string{"genai-otlp.json", "openllmetry.jsonl", "openinference.jsonl", "python-sdk.json"} {
		b, err := os.ReadFile("../../testdata/otel/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in), "f")
		for range 10000 {
			if _, err := r.Next(); err != nil {
				return
			}
		}
	})
}

// BenchmarkReader: MB/s of reading GenAI spans (multi.json as spans, 50
// copies).
func BenchmarkReader(b *testing.B) {
	one, err := os.ReadFile("../../testdata/otel/multi.otel.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	in := bytes.Repeat(one, 50)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		r := NewReader(bytes.NewReader(in), "bench")
		for {
			if _, err := r.Next(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
	}
}

// Mutated fixtures (bytes flipped, cut, dropped, brackets and quotes put
// in) give calls or an error, never a panic or a hang: FuzzReader's check
// with a fixed budget in every go test run. (Under the fuzzing engine that
// target stalls after a few inputs; the stall was not reproduced outside
// it: 51,000 such mutations in a plain process ran clean.)
func TestMutatedInputs(t *testing.T) {
	var seeds [][]byte
	for _, name := range []string{"genai-otlp.json", "openllmetry.jsonl", "openinference.jsonl", "python-sdk.json"} {
		b, err := os.ReadFile("../../testdata/otel/" + name)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	n := 3000
	if testing.Short() {
		n = 300
	}
	for range n {
		in := append([]byte(nil), seeds[rng.IntN(len(seeds))]...)
		for k := rng.IntN(4) + 1; k > 0 && len(in) > 0; k-- {
			p := rng.IntN(len(in))
			switch rng.IntN(4) {
			case 0:
				in[p] = byte(rng.IntN(256))
			case 1:
				in = in[:p]
			case 2:
				in = append(in[:p:p], in[min(len(in), p+rng.IntN(20)):]...)
			case 3:
				in = append(in[:p:p], append([]byte{"{}[]\"\\:,0"[rng.IntN(9)]}, in[p:]...)...)
			}
		}
		r := NewReader(bytes.NewReader(in), "m")
		for range 10000 {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}
}

// A light first pass and DecodeCall on the bytes it located give each
// call exactly as one pass does (the two-pass reading of trace-extract).
func TestLightThenDecode(t *testing.T) {
	for _, name := range []string{"genai-otlp.json", "openllmetry.jsonl", "openinference.jsonl", "python-sdk.json", "multi.otel.jsonl"} {
		in, err := os.ReadFile("../../testdata/otel/" + name)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := readCalls(t, in)
		r := NewReader(bytes.NewReader(in), name)
		r.Light = true
		var got []*Call
		for {
			c, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Messages != nil {
				t.Fatalf("%s: a light call has messages", name)
			}
			if !c.HasContent {
				continue
			}
			full, _, err := DecodeCall(in[c.Off:c.Off+int64(c.Len)], c.Session)
			if err != nil || full == nil {
				t.Fatalf("%s: span at %d: %v", name, c.Off, err)
			}
			got = append(got, full)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d calls, one pass %d", name, len(got), len(want))
		}
		for i := range got {
			g, w := got[i], want[i]
			g.Off, g.Len, w.Off, w.Len = 0, 0, 0, 0
			if g.Session == "" {
				g.Session = w.Session // a resource's session.id is the first pass's to give
			}
			for _, c := range []*Call{g, w} { // NaN equals nothing, itself included
				if math.IsNaN(c.StartMs) {
					c.StartMs = -1
				}
				if math.IsNaN(c.EndMs) {
					c.EndMs = -1
				}
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("%s call %d: %+v, one pass %+v", name, i, g, w)
			}
		}
	}
}

// BenchmarkReaderLight: MB/s of trace-extract's first pass (sessions,
// times and places of the LLM spans, prompts not decoded).
func BenchmarkReaderLight(b *testing.B) {
	one, err := os.ReadFile("../../testdata/otel/multi.otel.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	in := bytes.Repeat(one, 50)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		r := NewReader(bytes.NewReader(in), "bench")
		r.Light = true
		for {
			if _, err := r.Next(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
	}
}
