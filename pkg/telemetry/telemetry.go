// Package telemetry reads the telemetry JSONL that agentic research
// pipelines write: one event per line, "llm_call" events carrying an
// OpenAI-style request and response, and "tool_call" events.
package telemetry

import (
	"encoding/json"
	"fmt"
	"math"

	"agenttrace/pkg/chat"
	"agenttrace/pkg/jsondecode"
)

// Event is one telemetry event, reduced to what the toolkit uses.
type Event struct {
	Type       string // event_type
	SessionID  string // session_id; HasSession is false when absent or null
	HasSession bool

	// Timestamp is the raw timestamp: a string as written, or a number's
	// JSON text (TimestampIsNumber). HasTimestamp is false when absent.
	Timestamp         string
	TimestampIsNumber bool
	HasTimestamp      bool
	// StartMs is the timestamp in milliseconds since the epoch; NaN when
	// absent or not understood.
	StartMs float64

	Priority    string // latency_priority as given; HasPriority false when absent
	HasPriority bool
	LatencyMs   float64 // latency_ms; NaN when absent

	Model    string         // request_payload.model
	Messages []chat.Message // request_payload.messages, normalised
	Tools    []byte         // request_payload.tools as compact JSON; nil when absent or empty
	NonText  int            // message parts without text

	CompletionTokens, PromptTokens       int64
	HasCompletionTokens, HasPromptTokens bool
}

type rawEvent struct {
	EventType       any `json:"event_type"`
	SessionID       any `json:"session_id"`
	Timestamp       any `json:"timestamp"`
	LatencyPriority any `json:"latency_priority"`
	LatencyMs       any `json:"latency_ms"`
	RequestPayload  any `json:"request_payload"`
	ResponsePayload any `json:"response_payload"`
}

// tools reads request_payload.tools from the line again, as written: the
// generic decoding does not keep the order of its members.
func tools(line []byte) ([]byte, error) {
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

// rawJSON is a JSON value as it is written.
type rawJSON []byte

// UnmarshalJSON keeps a copy of b.
func (r *rawJSON) UnmarshalJSON(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

// Parse decodes one line. Only llm_call events are decoded in full; for
// other events only Type is set.
func Parse(line []byte) (*Event, error) {
	var raw rawEvent
	if err := jsondecode.Unmarshal(line, &raw); err != nil {
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
			if ev.Tools, err = tools(line); err != nil {
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
