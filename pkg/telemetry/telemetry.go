// Package telemetry reads the telemetry JSONL that agentic research
// pipelines write: one event per line, "llm_call" events carrying an
// OpenAI-style request and response, and "tool_call" events.
package telemetry

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/zeebo/xxh3"

	"github.com/agent-trace/agent-trace/pkg/chat"
	"github.com/agent-trace/agent-trace/pkg/jsondecode"
	"github.com/agent-trace/agent-trace/pkg/record"
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
	// MessageKeys are the messages' keys (chat.Message.Key), one for each,
	// when a Decoder parsed the event (it computes each once); else nil.
	MessageKeys []xxh3.Uint128
	Tools       []byte // request_payload.tools as compact JSON; nil when absent or empty
	NonText     int    // message parts without text

	CompletionTokens, PromptTokens       int64
	HasCompletionTokens, HasPromptTokens bool
}

// rawEvent is the line as decoded: the scalars generic, the payloads as
// their JSON text, decoded next into the few fields a record needs (no map
// of a whole payload is built).
type rawEvent struct {
	EventType       any     `json:"event_type"`
	SessionID       any     `json:"session_id"`
	Timestamp       any     `json:"timestamp"`
	LatencyPriority any     `json:"latency_priority"`
	LatencyMs       any     `json:"latency_ms"`
	RequestPayload  rawJSON `json:"request_payload"`
	ResponsePayload rawJSON `json:"response_payload"`
}

// typedEvent is an llm_call line decoded in one pass into the fields a
// record needs; a line that does not fit it (a payload of another type,
// a message that is not an object) is decoded again by the general path,
// which says what is wrong.
type typedEvent = typedEventOf[[]chat.OpenAIMessage]

// typedEventOf is typedEvent with the messages decoded as M: a Decoder
// takes them as their JSON text, to decode each distinct message once.
type typedEventOf[M any] struct {
	EventType       any `json:"event_type"`
	SessionID       any `json:"session_id"`
	Timestamp       any `json:"timestamp"`
	LatencyPriority any `json:"latency_priority"`
	LatencyMs       any `json:"latency_ms"`
	RequestPayload  *struct {
		Model    any             `json:"model"`
		Messages M               `json:"messages"`
		Tools    json.RawMessage `json:"tools"`
	} `json:"request_payload"`
	ResponsePayload *struct {
		Usage any `json:"usage"`
	} `json:"response_payload"`
}

// requestPayload is what a record needs of request_payload.
type requestPayload struct {
	Model    any     `json:"model"`
	Messages rawJSON `json:"messages"`
	Tools    rawJSON `json:"tools"`
}

// responsePayload is what a record needs of response_payload.
type responsePayload struct {
	Usage any `json:"usage"`
}

// rawJSON is a JSON value as it is written.
type rawJSON []byte

// UnmarshalJSON keeps a copy of b.
func (r *rawJSON) UnmarshalJSON(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

// parseTyped is Parse for a line that decodes into typedEvent and needs no
// error: one pass, no maps. ok is false when the general path must read
// the line (it then says what is wrong, or reads what typedEvent cannot).
func parseTyped(line []byte) (ev *Event, ok bool) {
	var te typedEvent
	if jsondecode.TryExact(line, &te) != nil || mergedMember(line) {
		return nil, false
	}
	return fromTyped(&te, chat.Tools, func(msgs []chat.OpenAIMessage) ([]chat.Message, int, bool) {
		if msgs == nil {
			return nil, 0, true
		}
		var st chat.Stats
		return chat.FromOpenAIMessages(msgs, &st), st.NonText, true
	})
}

// fromTyped is parseTyped once the line is decoded; messages turns the
// decoded messages into the event's (nil when absent or null) and counts
// their parts without text, or says the general path must read the line;
// tools is chat.Tools, or what gives the same.
func fromTyped[M any](te *typedEventOf[M], tools func([]byte) ([]byte, error), messages func(M) ([]chat.Message, int, bool)) (ev *Event, ok bool) {
	ev = &Event{StartMs: math.NaN(), LatencyMs: math.NaN()}
	if ev.setHead(te.EventType, te.SessionID, te.Timestamp) != nil {
		return nil, false
	}
	if ev.Type != "llm_call" {
		return ev, true
	}
	switch p := te.LatencyPriority.(type) {
	case string:
		ev.Priority, ev.HasPriority = p, true
	case nil:
	default:
		return nil, false
	}
	switch l := te.LatencyMs.(type) {
	case json.Number:
		f, err := l.Float64()
		if err != nil || math.IsInf(f, 0) {
			return nil, false
		}
		ev.LatencyMs = f
	case nil:
	default:
		return nil, false
	}
	if rp := te.RequestPayload; rp != nil {
		if ev.Messages, ev.NonText, ok = messages(rp.Messages); !ok {
			return nil, false
		}
		if s, ok := rp.Model.(string); ok {
			ev.Model = s
		}
		if k := rawKind(rp.Tools); k != "" && k != "null" {
			var err error
			if ev.Tools, err = tools(rp.Tools); err != nil {
				return nil, false
			}
		}
	}
	if rp := te.ResponsePayload; rp != nil {
		if u, ok := rp.Usage.(map[string]any); ok {
			var err1, err2 error
			ev.CompletionTokens, ev.HasCompletionTokens, err1 = jsondecode.Count(u["completion_tokens"])
			ev.PromptTokens, ev.HasPromptTokens, err2 = jsondecode.Count(u["prompt_tokens"])
			if err1 != nil || err2 != nil {
				return nil, false
			}
		}
	}
	return ev, true
}

// rawKind names the kind of JSON value raw holds, as error messages say
// it ("an object", "a list", ...); "" when raw is empty (the member was
// absent).
func rawKind(raw []byte) string {
	i := 0
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	if i == len(raw) {
		return ""
	}
	switch c := raw[i]; {
	case c == '{':
		return "an object"
	case c == '[':
		return "a list"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	}
	return "a number"
}

// headEvent is what ParseHead reads of a line.
type headEvent struct {
	EventType any `json:"event_type"`
	SessionID any `json:"session_id"`
	Timestamp any `json:"timestamp"`
}

// ParseHead decodes what orders a line among the others: its type, and for
// an llm_call its session and timestamp, checking the line's JSON syntax
// (the payloads are skipped, not decoded). Parse reads the rest later; the
// fields ParseHead sets are the ones Parse sets, with the same errors.
func ParseHead(line []byte) (*Event, error) {
	if err := record.CheckEscapes(line); err != nil {
		return nil, fmt.Errorf("not a JSON event object: %w", err)
	}
	var h headEvent
	if err := jsondecode.UnmarshalExactTransient(line, &h); err != nil {
		return nil, fmt.Errorf("not a JSON event object: %w", err)
	}
	// Numbers share the line's memory, which the reader reuses.
	h.SessionID, h.Timestamp = ownNumber(h.SessionID), ownNumber(h.Timestamp)
	ev := &Event{StartMs: math.NaN(), LatencyMs: math.NaN()}
	if err := ev.setHead(h.EventType, h.SessionID, h.Timestamp); err != nil {
		return nil, err
	}
	return ev, nil
}

// ownNumber returns v with a json.Number's text copied.
func ownNumber(v any) any {
	if n, ok := v.(json.Number); ok {
		return json.Number(strings.Clone(string(n)))
	}
	return v
}

// setHead sets the type, session and timestamp of ev.
func (ev *Event) setHead(eventType, sessionID, timestamp any) error {
	switch t := eventType.(type) {
	case string:
		ev.Type = t
	case nil:
		return fmt.Errorf("no \"event_type\": want a telemetry event such as {\"event_type\":\"llm_call\",...}")
	default:
		return fmt.Errorf("\"event_type\" is %s, want a string", jsondecode.Kind(t))
	}
	if ev.Type != "llm_call" {
		return nil
	}
	switch s := sessionID.(type) {
	case string:
		ev.SessionID, ev.HasSession = s, true
	case json.Number:
		ev.SessionID, ev.HasSession = s.String(), true
	case nil:
	default:
		return fmt.Errorf("\"session_id\" is %s, want a string", jsondecode.Kind(s))
	}
	switch ts := timestamp.(type) {
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
		return fmt.Errorf("\"timestamp\" is %s, want a string or a number", jsondecode.Kind(ts))
	}
	return nil
}

// Parse decodes one line. Only llm_call events are decoded in full; for
// other events only Type is set.
func Parse(line []byte) (*Event, error) {
	if err := record.CheckEscapes(line); err != nil {
		return nil, fmt.Errorf("not a JSON event object: %w", err)
	}
	if ev, ok := parseTyped(line); ok {
		return ev, nil
	}
	var raw rawEvent
	if err := jsondecode.UnmarshalExact(line, &raw); err != nil {
		return nil, fmt.Errorf("not a JSON event object: %w", err)
	}
	ev := &Event{StartMs: math.NaN(), LatencyMs: math.NaN()}
	if err := ev.setHead(raw.EventType, raw.SessionID, raw.Timestamp); err != nil {
		return nil, err
	}
	if ev.Type != "llm_call" {
		return ev, nil
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
	switch k := rawKind(raw.RequestPayload); k {
	case "an object":
		var rp requestPayload
		if err := jsondecode.UnmarshalExact(raw.RequestPayload, &rp); err != nil {
			return nil, fmt.Errorf("\"request_payload\": %v", err)
		}
		switch k := rawKind(rp.Messages); k {
		case "a list":
			var st chat.Stats
			msgs, err := messagesFromJSON(rp.Messages, &st)
			if err != nil {
				return nil, fmt.Errorf("\"request_payload.messages\": %v", err)
			}
			ev.Messages, ev.NonText = msgs, st.NonText
		case "", "null":
		default:
			return nil, fmt.Errorf("\"request_payload.messages\" is %s, want a list", k)
		}
		if s, ok := rp.Model.(string); ok {
			ev.Model = s
		}
		if k := rawKind(rp.Tools); k != "" && k != "null" {
			var err error
			if ev.Tools, err = chat.Tools(rp.Tools); err != nil {
				return nil, fmt.Errorf("\"request_payload.tools\": %v", err)
			}
		}
	case "", "null":
	default:
		return nil, fmt.Errorf("\"request_payload\" is %s, want an object", k)
	}
	switch k := rawKind(raw.ResponsePayload); k {
	case "an object":
		var rp responsePayload
		if err := jsondecode.UnmarshalExact(raw.ResponsePayload, &rp); err != nil {
			return nil, fmt.Errorf("\"response_payload\": %v", err)
		}
		if u, ok := rp.Usage.(map[string]any); ok {
			var err error
			if ev.CompletionTokens, ev.HasCompletionTokens, err = jsondecode.Count(u["completion_tokens"]); err != nil {
				return nil, fmt.Errorf("\"response_payload.usage.completion_tokens\": %v", err)
			}
			if ev.PromptTokens, ev.HasPromptTokens, err = jsondecode.Count(u["prompt_tokens"]); err != nil {
				return nil, fmt.Errorf("\"response_payload.usage.prompt_tokens\": %v", err)
			}
		}
	case "", "null":
	default:
		return nil, fmt.Errorf("\"response_payload\" is %s, want an object", k)
	}
	return ev, nil
}

// messagesFromJSON is chat.FromOpenAI for the JSON text of the messages list, with
// the same result, decoding only the members a message needs into a struct
// (no map of each message is built). Object keys match exactly, as they do
// in the maps FromOpenAI reads. raw must be a JSON list.
func messagesFromJSON(raw []byte, st *chat.Stats) ([]chat.Message, error) {
	var msgs []chat.OpenAIMessage
	if err := jsondecode.UnmarshalExact(raw, &msgs); err != nil {
		// An element that is not an object (the reference skips it):
		// decode generically.
		var list any
		if err := jsondecode.UnmarshalExact(raw, &list); err != nil {
			return nil, err
		}
		return chat.FromOpenAI(list, st), nil
	}
	return chat.FromOpenAIMessages(msgs, st), nil
}

// LooksLikeEvents reports whether an input starting with head (at its
// first byte that is not white space) may be telemetry JSONL: a JSON
// object. Other formats of JSON lines are told apart before this one.
func LooksLikeEvents(head []byte) bool { return len(head) > 0 && head[0] == '{' }
