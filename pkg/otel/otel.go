// Package otel reads LLM calls from OpenTelemetry traces written as JSON:
// OTLP/JSON export requests ({"resourceSpans": [...]}, one per line or one
// per file, as the OpenTelemetry Collector's file exporter writes them),
// OTLP spans one per line, or spans as the OpenTelemetry Python SDK prints
// them (ConsoleSpanExporter: "context", attributes as an object).
//
// A span is an LLM call under either of two conventions:
//
//   - OpenTelemetry GenAI (gen_ai.*; OpenLLMetry, OpenLIT, Logfire,
//     Langfuse, LiteLLM, NAT's OTel exporters): gen_ai.operation.name chat,
//     text_completion or generate_content (or OpenLLMetry's llm.request.type);
//     the prompt as gen_ai.input.messages (and gen_ai.system_instructions,
//     current conventions), as indexed gen_ai.prompt.N.role/content (older),
//     or in span events (gen_ai.content.prompt with gen_ai.prompt, or
//     gen_ai.system/user/assistant/tool.message with content); usage
//     gen_ai.usage.input_tokens/output_tokens (older prompt_tokens/
//     completion_tokens); model gen_ai.request.model.
//   - OpenInference (Arize Phoenix): openinference.span.kind LLM;
//     llm.input_messages.N.message.role/content (or
//     .contents.M.message_content.text); llm.token_count.prompt/completion;
//     llm.model_name.
//
// The session of a call is session.id or gen_ai.conversation.id when the
// span (or its resource) has one, else its trace.
package otel

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/agent-trace/agent-trace/pkg/chat"
	"github.com/agent-trace/agent-trace/pkg/jsondecode"
)

// Call is one LLM span.
type Call struct {
	TraceID, SpanID string
	// Session is session.id or gen_ai.conversation.id, "" when the span
	// has neither (the caller falls back to the trace).
	Session  string
	Model    string
	Messages []chat.Message
	Tools    []byte // the tool definitions as compact JSON, nil when none
	// Token usage as reported; Has* is false when absent.
	InputTokens, OutputTokens int64
	HasInput, HasOutput       bool
	// StartMs and EndMs are the span's times in ms since the epoch, NaN
	// when absent.
	StartMs, EndMs float64
	// Convention is "gen_ai" or "openinference".
	Convention string
	// Off and Len are where the span lies in the input, for DecodeCall.
	Off int64
	Len int
	// HasContent says the span carries prompt attributes or events; with
	// Reader.Light its messages are not decoded (Messages is nil).
	HasContent bool
}

// Stats counts what a Reader passed over.
type Stats struct {
	Spans      int // spans read
	NotLLM     int // spans that are not LLM calls
	NoContent  int // LLM spans without message text (content capture off)
	NonText    int // message parts without text
	BadMessage int // prompt attributes that are not the JSON they should be
}

// Reader reads the LLM calls of an OTel JSON input.
type Reader struct {
	split   *valueSplitter
	name    string
	pending []*Call
	Stats   Stats
	// KeepUncaptured returns LLM calls without message text (content
	// capture off) too, with no Messages; they are counted in
	// Stats.NoContent either way.
	KeepUncaptured bool
	// Light leaves out the messages and tools (the costly part): a first
	// pass notes each LLM call and where it lies (Call.Off, Call.Len), and
	// DecodeCall reads it whole later. Every LLM call is returned then,
	// HasContent saying whether it has prompt attributes (Stats.NoContent
	// counts those that have none).
	Light bool
}

// NewReader returns a Reader of r; name identifies it in errors.
func NewReader(r io.Reader, name string) *Reader {
	return &Reader{split: newValueSplitter(r), name: name}
}

// Next returns the next LLM call in input order, then io.EOF.
func (r *Reader) Next() (*Call, error) {
	for len(r.pending) == 0 {
		raw, off, err := r.split.next()
		if err != nil {
			if err == io.EOF {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("%s: at byte offset %d: not OTel JSON: %w", r.name, off, err)
		}
		if err := r.document(raw, off); err != nil {
			return nil, fmt.Errorf("%s: at byte offset %d: %w", r.name, off, err)
		}
	}
	c := r.pending[0]
	r.pending = r.pending[1:]
	return c, nil
}

// spanHead is a span in OTLP/JSON or as the Python SDK prints it, but its
// attributes.
type spanHead struct {
	TraceID string          `json:"traceId"`
	SpanID  string          `json:"spanId"`
	Start   json.RawMessage `json:"startTimeUnixNano"`
	End     json.RawMessage `json:"endTimeUnixNano"`
	Events  []event         `json:"events"`
	Context *struct {
		TraceID string `json:"trace_id"`
		SpanID  string `json:"span_id"`
	} `json:"context"`
	PyStart string `json:"start_time"`
	PyEnd   string `json:"end_time"`
}

// spanJSON is a span with its attributes as their JSON text.
type spanJSON struct {
	spanHead
	Attributes json.RawMessage `json:"attributes"`
}

// spanWhole is a span with OTLP's attribute list decoded in the same
// call: the usual form of a span read whole. A span whose attributes are
// an object (the Python SDK) does not decode so, and is read as spanJSON.
type spanWhole struct {
	spanHead
	Attributes []struct {
		Key   string   `json:"key"`
		Value anyValue `json:"value"`
	} `json:"attributes"`
}

// decodeSpan decodes a span, and its attributes too unless the reader is
// light (which leaves prompt attributes undecoded): attrs is nil when
// span must decode them from s.Attributes.
func (r *Reader) decodeSpan(raw []byte) (s *spanJSON, attrs map[string]any, err error) {
	if !r.Light {
		var w spanWhole
		if jsondecode.TryTransient(raw, &w) == nil {
			attrs = make(map[string]any, len(w.Attributes))
			for _, kv := range w.Attributes {
				attrs[kv.Key] = kv.Value.get()
			}
			return &spanJSON{spanHead: w.spanHead}, attrs, nil
		}
	}
	s = &spanJSON{}
	if err := jsondecode.UnmarshalTransient(raw, s); err != nil {
		return nil, nil, err
	}
	return s, nil, nil
}

// document reads one top-level JSON value, at offset off of the input: an
// export request (each span read where it lies), or a span.
func (r *Reader) document(raw []byte, off int64) error {
	locs, resources, request, err := locateSpans(raw)
	if err != nil {
		return fmt.Errorf("not OTel JSON: %w", err)
	}
	if !request {
		s, attrs, err := r.decodeSpan(raw)
		if err != nil {
			return fmt.Errorf("not OTel JSON: %w", err)
		}
		if s.TraceID == "" && s.SpanID == "" && s.Context == nil {
			return errors.New(`neither an OTLP export request ("resourceSpans") nor a span ("traceId", or "context" as the Python SDK prints spans)`)
		}
		return r.span(s, attrs, nil, off, len(raw))
	}
	attrs := make([]map[string]any, len(resources))
	for _, l := range locs {
		if attrs[l.resource] == nil {
			res := resources[l.resource]
			if attrs[l.resource], err = attributes(raw[res[0]:res[1]]); err != nil {
				return fmt.Errorf("resource attributes: %w", err)
			}
		}
		s, spanAttrs, err := r.decodeSpan(raw[l.start:l.end])
		if err != nil {
			return fmt.Errorf("not OTel JSON: span: %w", err)
		}
		if err := r.span(s, spanAttrs, attrs[l.resource], off+int64(l.start), l.end-l.start); err != nil {
			return err
		}
	}
	return nil
}

// DecodeCall reads the LLM call of a span again, whole, from its bytes
// (Call.Off and Call.Len of a Light reader), with session (the span's
// resource is not read again). It returns nil when the span is no LLM call.
func DecodeCall(span []byte, session string) (*Call, *Stats, error) {
	r := &Reader{KeepUncaptured: true}
	s, attrs, err := r.decodeSpan(span)
	if err != nil {
		return nil, nil, fmt.Errorf("span: %w", err)
	}
	if err := r.span(s, attrs, nil, 0, len(span)); err != nil {
		return nil, nil, err
	}
	if len(r.pending) == 0 {
		return nil, &r.Stats, nil
	}
	c := r.pending[0]
	c.Session = session
	return c, &r.Stats, nil
}

// span reads one span, which lies at off in the input, n bytes long;
// attrs are its attributes when decodeSpan decoded them.
func (r *Reader) span(s *spanJSON, attrs, resource map[string]any, off int64, n int) error {
	r.Stats.Spans++
	if attrs == nil {
		decode := attributes
		if r.Light {
			decode = lightAttributes
		}
		var err error
		if attrs, err = decode(s.Attributes); err != nil {
			return fmt.Errorf("span %s: attributes: %w", s.SpanID, err)
		}
	}
	c := &Call{TraceID: s.TraceID, SpanID: s.SpanID, StartMs: nanosMs(s.Start), EndMs: nanosMs(s.End), Off: off, Len: n}
	if s.Context != nil { // Python SDK form
		c.TraceID, c.SpanID = strings.TrimPrefix(s.Context.TraceID, "0x"), strings.TrimPrefix(s.Context.SpanID, "0x")
		c.StartMs, c.EndMs = isoMs(s.PyStart), isoMs(s.PyEnd)
	}
	if c.TraceID != "" {
		if b, err := hex.DecodeString(c.TraceID); err == nil && len(b) == 16 {
			c.TraceID = hex.EncodeToString(b) // one spelling
		}
	}
	get := func(key string) (any, bool) {
		if v, ok := attrs[key]; ok {
			return v, true
		}
		v, ok := resource[key]
		return v, ok
	}
	kind, _ := attrs["openinference.span.kind"].(string)
	op, _ := attrs["gen_ai.operation.name"].(string)
	reqType, _ := attrs["llm.request.type"].(string)
	switch {
	case strings.EqualFold(kind, "LLM"):
		c.Convention = "openinference"
	case op == "chat" || op == "text_completion" || op == "generate_content" ||
		reqType == "chat" || reqType == "completion" ||
		op == "" && (attrs["gen_ai.input.messages"] != nil || attrs["gen_ai.prompt.0.role"] != nil || attrs["gen_ai.prompt.0.content"] != nil):
		c.Convention = "gen_ai"
	default:
		r.Stats.NotLLM++
		return nil
	}
	var st chat.Stats
	if c.Convention == "openinference" {
		c.Model = str(attrs["llm.model_name"])
		c.InputTokens, c.HasInput = integer(attrs["llm.token_count.prompt"])
		c.OutputTokens, c.HasOutput = integer(attrs["llm.token_count.completion"])
		c.HasContent = hasPrefixKey(attrs, "llm.input_messages.")
		if !r.Light {
			c.Messages = openInferenceMessages(attrs, &st)
			c.Tools = openInferenceTools(attrs)
		}
	} else {
		c.Model = str(attrs["gen_ai.request.model"])
		if c.Model == "" {
			c.Model = str(attrs["gen_ai.response.model"])
		}
		c.InputTokens, c.HasInput = firstInteger(attrs, "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
		c.OutputTokens, c.HasOutput = firstInteger(attrs, "gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
		c.HasContent = attrs["gen_ai.input.messages"] != nil || hasPrefixKey(attrs, "gen_ai.prompt.") || promptEvents(s.Events)
		if !r.Light {
			msgs, err := genAIMessages(attrs, s.Events, &st)
			if err != nil {
				r.Stats.BadMessage++
			}
			c.Messages = msgs
			if defs := str(attrs["gen_ai.tool.definitions"]); defs != "" {
				if t, err := chat.Tools([]byte(defs)); err == nil {
					c.Tools = t
				}
			}
		}
	}
	for _, key := range []string{"session.id", "gen_ai.conversation.id"} {
		if v, ok := get(key); ok && str(v) != "" {
			c.Session = str(v)
			break
		}
	}
	r.Stats.NonText += st.NonText
	if r.Light {
		if !c.HasContent {
			r.Stats.NoContent++
		}
		r.pending = append(r.pending, c)
		return nil
	}
	c.HasContent = len(c.Messages) > 0
	if !c.HasContent {
		r.Stats.NoContent++
		if !r.KeepUncaptured {
			return nil
		}
	}
	r.pending = append(r.pending, c)
	return nil
}

// hasPrefixKey reports whether some attribute's key starts with prefix.
func hasPrefixKey(attrs map[string]any, prefix string) bool {
	for k := range attrs {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// promptEvents reports whether a span has events that carry a prompt.
func promptEvents(events []event) bool {
	for _, e := range events {
		switch e.Name {
		case "gen_ai.content.prompt", "gen_ai.system.message", "gen_ai.user.message", "gen_ai.assistant.message", "gen_ai.tool.message":
			return true
		}
	}
	return false
}

// event is a span event.
type event struct {
	Name       string          `json:"name"`
	Attributes json.RawMessage `json:"attributes"`
}

// attributes decodes OTLP/JSON attributes (a list of {"key", "value":
// {"stringValue"|"intValue"|...}}) or a plain object, to Go values:
// string, int64, float64, bool, []any.
func attributes(raw json.RawMessage) (map[string]any, error) {
	return decodeAttributes(raw, nil)
}

// promptAttribute reports whether an attribute holds prompt or answer
// content: what a light first pass need not decode.
func promptAttribute(key string) bool {
	for _, p := range []string{"gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions",
		"gen_ai.tool.definitions", "gen_ai.prompt.", "gen_ai.completion.", "llm.input_messages.",
		"llm.output_messages.", "llm.tools.", "input.value", "output.value"} {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// lightAttributes is attributes with the values of prompt attributes left
// undecoded (their keys map to true): the light pass needs to know only
// that they are there.
func lightAttributes(raw json.RawMessage) (map[string]any, error) {
	return decodeAttributes(raw, promptAttribute)
}

// decodeAttributes decodes attributes, the values of those skip says yes
// to left out (their keys map to true).
func decodeAttributes(raw json.RawMessage, skip func(key string) bool) (map[string]any, error) {
	out := map[string]any{}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return out, nil
	}
	if raw[0] == '{' {
		var m map[string]json.RawMessage
		if err := jsondecode.UnmarshalTransient(raw, &m); err != nil {
			return nil, err
		}
		for k, v := range m {
			if skip != nil && skip(k) {
				out[k] = true
				continue
			}
			var x any
			if err := jsondecode.UnmarshalTransient(v, &x); err != nil {
				return nil, err
			}
			out[k] = plain(x)
		}
		return out, nil
	}
	if skip == nil {
		// All values are wanted: one decoding of the whole list (a call
		// per value costs more than the value); on failure, the path below
		// says which value is wrong.
		var kvs []struct {
			Key   string   `json:"key"`
			Value anyValue `json:"value"`
		}
		if jsondecode.TryTransient(raw, &kvs) == nil {
			for _, kv := range kvs {
				out[kv.Key] = kv.Value.get()
			}
			return out, nil
		}
	}
	var list []struct {
		Key   string          `json:"key"`
		Value json.RawMessage `json:"value"`
	}
	if err := jsondecode.UnmarshalTransient(raw, &list); err != nil {
		return nil, err
	}
	for _, kv := range list {
		if skip != nil && skip(kv.Key) {
			out[kv.Key] = true
			continue
		}
		var v anyValue
		if err := jsondecode.UnmarshalTransient(kv.Value, &v); err != nil {
			return nil, err
		}
		out[kv.Key] = v.get()
	}
	return out, nil
}

// anyValue is OTLP's AnyValue in JSON.
type anyValue struct {
	StringValue *string                      `json:"stringValue"`
	IntValue    json.RawMessage              `json:"intValue"` // a string in OTLP/JSON, a number in some writers
	DoubleValue *json.Number                 `json:"doubleValue"`
	BoolValue   *bool                        `json:"boolValue"`
	ArrayValue  *struct{ Values []anyValue } `json:"arrayValue"`
	KvlistValue *struct {
		Values []struct {
			Key   string   `json:"key"`
			Value anyValue `json:"value"`
		}
	} `json:"kvlistValue"`
}

func (v anyValue) get() any {
	switch {
	case v.StringValue != nil:
		return *v.StringValue
	case v.IntValue != nil:
		s := strings.Trim(string(v.IntValue), `"`)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
		return s
	case v.DoubleValue != nil:
		f, _ := v.DoubleValue.Float64()
		return f
	case v.BoolValue != nil:
		return *v.BoolValue
	case v.ArrayValue != nil:
		out := make([]any, len(v.ArrayValue.Values))
		for i, e := range v.ArrayValue.Values {
			out[i] = e.get()
		}
		return out
	case v.KvlistValue != nil:
		m := map[string]any{}
		for _, kv := range v.KvlistValue.Values {
			m[kv.Key] = kv.Value.get()
		}
		return m
	}
	return nil
}

// plain turns a decoded JSON value (numbers as json.Number) into the
// values attributes hold.
func plain(v any) any {
	switch v := v.(type) {
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n
		}
		f, _ := v.Float64()
		return f
	case []any:
		for i := range v {
			v[i] = plain(v[i])
		}
	}
	return v
}

func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return ""
}

// integer returns v as a whole number, and whether it is one.
func integer(v any) (int64, bool) {
	switch v := v.(type) {
	case int64:
		return v, true
	case float64:
		if v == math.Trunc(v) && !math.IsInf(v, 0) {
			return int64(v), true
		}
	case string:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n, true
		}
	}
	return 0, false
}

func firstInteger(attrs map[string]any, keys ...string) (int64, bool) {
	for _, k := range keys {
		if n, ok := integer(attrs[k]); ok {
			return n, true
		}
	}
	return 0, false
}

// nanosMs reads an OTLP time (ns since the epoch, a string or a number) as
// ms, NaN when absent or not a number.
func nanosMs(raw json.RawMessage) float64 {
	s := strings.Trim(string(raw), `"`)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n == 0 {
		return math.NaN()
	}
	return float64(n) / 1e6
}

// isoMs reads a time as the Python SDK prints it (ISO 8601, UTC) as ms.
func isoMs(s string) float64 {
	if s == "" {
		return math.NaN()
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return math.NaN()
	}
	return float64(t.UnixNano()) / 1e6
}

// indexed returns the values of the attributes prefix.N.rest, by N, for
// N = 0, 1, ... while present (an N missing ends the list).
func indexed(attrs map[string]any, prefix string) []map[string]any {
	byIndex := map[int]map[string]any{}
	for k, v := range attrs {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		num, field, ok := strings.Cut(rest, ".")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(num)
		if err != nil || n < 0 {
			continue
		}
		if byIndex[n] == nil {
			byIndex[n] = map[string]any{}
		}
		byIndex[n][field] = v
	}
	keys := make([]int, 0, len(byIndex))
	for n := range byIndex {
		keys = append(keys, n)
	}
	sort.Ints(keys)
	out := make([]map[string]any, 0, len(keys))
	for _, n := range keys {
		out = append(out, byIndex[n])
	}
	return out
}

// LooksLikeOTel reports whether an input starting with head is OTel JSON:
// its first object has "resourceSpans", "traceId" or "spanId" (or
// "context" and "attributes", as the Python SDK prints spans) among its
// first members.
func LooksLikeOTel(head []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(head))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	seen := map[string]bool{}
	for i := 0; i < 64 && dec.More(); i++ {
		t, err := dec.Token()
		if err != nil {
			break
		}
		key, _ := t.(string)
		seen[key] = true
		if key == "resourceSpans" || key == "traceId" || key == "spanId" || seen["context"] && seen["attributes"] {
			return true
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			break
		}
	}
	return seen["context"] && seen["attributes"]
}
