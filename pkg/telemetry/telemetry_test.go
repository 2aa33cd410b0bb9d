package telemetry

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"testing/quick"

	"github.com/agent-trace/agent-trace/pkg/chat"
	"github.com/agent-trace/agent-trace/pkg/fuzzseed"
)

func TestParseTime(t *testing.T) {
	const ms2025 = 1735689600000.0 // 2025-01-01T00:00:00Z
	for in, want := range map[string]float64{
		"2025-01-01T00:00:00Z":             ms2025,
		"2025-01-01T00:00:00.250Z":         ms2025 + 250,
		"2025-01-01T00:00:00.123456+00:00": ms2025 + 123.456,
		"2025-01-01T01:00:00+01:00":        ms2025,
		"2025-01-01T00:00:00":              ms2025,
		"2025-01-01 00:00:00.5":            ms2025 + 500,
		"2025-01-01T00:00:00,5Z":           ms2025 + 500,
		"2025-01-01":                       ms2025,
		"1735689600":                       ms2025,
		"1735689600.5":                     ms2025 + 500,
		"1735689600000":                    ms2025,
		"1735689600000000":                 ms2025,
	} {
		if got := ParseTime(in); math.Abs(got-want) > 0.001 {
			t.Errorf("ParseTime(%q) = %f, want %f", in, got, want)
		}
	}
	for _, bad := range []string{"", "yesterday", "2025-13-01T00:00:00Z"} {
		if got := ParseTime(bad); !math.IsNaN(got) {
			t.Errorf("ParseTime(%q) = %f, want NaN", bad, got)
		}
	}
}

func TestParseLLMCall(t *testing.T) {
	ev, err := Parse([]byte(`{"event_type":"llm_call","timestamp":"2025-01-01T00:00:00Z","session_id":"s1","latency_priority":"HIGH","latency_ms":738.22,
		"request_payload":{"messages":[{"role":"system","content":"S"},{"role":"user","content":[{"type":"text","text":"U"}]}],"model":"gpt-5.2"},
		"response_payload":{"usage":{"prompt_tokens":256,"completion_tokens":4}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if ev.SessionID != "s1" || !ev.HasSession || ev.Priority != "HIGH" || ev.Model != "gpt-5.2" ||
		ev.CompletionTokens != 4 || ev.PromptTokens != 256 || ev.LatencyMs != 738.22 || ev.StartMs != 1735689600000 {
		t.Errorf("got %+v", ev)
	}
	if got := chat.PromptText(ev.Messages); got != "S\nU" {
		t.Errorf("text %q", got)
	}
}

func TestParseOtherEventsAndErrors(t *testing.T) {
	ev, err := Parse([]byte(`{"event_type":"tool_call","tool_name":"search","duration_ms":"not even checked"}`))
	if err != nil || ev.Type != "tool_call" {
		t.Errorf("tool_call: %+v %v", ev, err)
	}
	for _, tc := range []struct{ in, want string }{
		{`[1]`, "not a JSON event object: the value is an array, want an object"},
		{`{"event_type": "llm_call"`, "the JSON ends too early"},
		{`{"session_id":"s"}`, `no "event_type"`},
		{`{"event_type":5}`, `"event_type" is a number, want a string`},
		{`{"event_type":"llm_call","session_id":["s"]}`, `"session_id" is a list`},
		{`{"event_type":"llm_call","timestamp":{}}`, `"timestamp" is an object`},
		{`{"event_type":"llm_call","request_payload":"x"}`, `"request_payload" is a string`},
		{`{"event_type":"llm_call","request_payload":{"messages":"hi"}}`, `"request_payload.messages" is a string, want a list`},
		{`{"event_type":"llm_call","response_payload":{"usage":{"completion_tokens":1.5}}}`, `want a whole number of tokens, got 1.5`},
		{`{"event_type":"llm_call","latency_ms":"fast"}`, `"latency_ms" is a string`},
	} {
		if _, err := Parse([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%s) = %v, want %q", tc.in, err, tc.want)
		}
	}
}

// FuzzTelemetryParse: any line gives an event or an error, never a panic,
// and an llm_call's prompt text is always computable.
func FuzzTelemetryParse(f *testing.F) {
	fuzzseed.Add(f)
	f.Fuzz(func(t *testing.T, line []byte) {
		ev, err := Parse(line)
		if err != nil {
			return
		}
		if ev.Type == "llm_call" {
			_ = chat.PromptText(ev.Messages)
			if ev.HasCompletionTokens && ev.CompletionTokens < 0 {
				t.Fatalf("negative completion tokens from %q", line)
			}
		}
	})
}

// ParseHead reads the line in place: what it returns must not change when
// the reader reuses the line's memory (numbers included).
func TestParseHeadOwnsItsValues(t *testing.T) {
	for _, line := range []string{
		`{"event_type":"llm_call","session_id":"s-1","timestamp":"2025-04-07T10:00:00Z"}`,
		`{"event_type":"llm_call","session_id":12345,"timestamp":1744020000.5}`,
	} {
		buf := []byte(line)
		ev, err := ParseHead(buf)
		if err != nil {
			t.Fatal(err)
		}
		sid, ts := ev.SessionID, ev.Timestamp
		for i := range buf {
			buf[i] = 'x'
		}
		if ev.SessionID != sid || ev.Timestamp != ts || sid == "" || ts == "" || strings.Contains(sid+ts, "x") {
			t.Fatalf("%s: session %q, timestamp %q after the line changed", line, ev.SessionID, ev.Timestamp)
		}
	}
}

// numberish lets through every string ParseFloat reads (it only saves the
// call for the others).
func TestNumberish(t *testing.T) {
	for _, s := range []string{"1717236000.5", "-1e3", "+.5", "1_000", "0x1p-2", "0X1.8P1", "inf", "-Infinity", "NaN", "1E9", "5."} {
		if _, err := strconv.ParseFloat(s, 64); err == nil && !numberish(s) {
			t.Errorf("numberish(%q) = false; ParseFloat reads it", s)
		}
	}
	f := func(s string) bool {
		_, err := strconv.ParseFloat(s, 64)
		return err != nil || numberish(s)
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 20000}); err != nil {
		t.Error(err)
	}
	if numberish("2025-06-01T10:00:00.000000+00:00") {
		t.Error("an ISO time is numberish")
	}
}
