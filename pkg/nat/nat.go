// Package nat reads NVIDIA NeMo Agent Toolkit profiler traces
// (all_requests_profiler_traces.json): a JSON array of requests, each with
// its intermediate_steps. It pairs every LLM_START with its LLM_END by UUID
// and returns the LLM calls of a request in the order the reference
// converter replays them.
package nat

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/agent-trace/agent-trace/pkg/chat"
	"github.com/agent-trace/agent-trace/pkg/jsondecode"
	"github.com/agent-trace/agent-trace/pkg/record"
)

// Request is the part of one NAT request that the toolkit uses.
type Request struct {
	// Number is request_number as Python's str() writes it; "" when absent
	// or null (the reference takes 0).
	Number string
	// Calls are the paired LLM calls, ordered by their LLM_END
	// event_timestamp (stable; a missing timestamp counts as 0).
	Calls []Call
	// UnmatchedEnds counts LLM_END steps whose UUID has no LLM_START;
	// UnmatchedStarts counts LLM_START steps that no LLM_END refers to.
	UnmatchedEnds, UnmatchedStarts int
	// NonText counts message parts that carry no text (images, unknown shapes).
	NonText int
}

// Call is one LLM call: an LLM_START paired with its LLM_END.
type Call struct {
	UUID     string
	Model    string         // LLM_START payload.name
	Function string         // LLM_START function_ancestry.function_name, "" when absent
	Messages []chat.Message // LLM_START metadata.chat_inputs, normalised
	Tools    []byte         // LLM_START metadata.tools_schema as compact JSON; nil when absent or empty

	// Token usage as the LLM_END reports it; Has* is false when absent.
	CompletionTokens, PromptTokens       int64
	HasCompletionTokens, HasPromptTokens bool

	// The largest usage among the call's LLM_NEW_TOKEN steps (streaming
	// traces); HasStreamUsage is false when none reports a positive count.
	// With LangChain and NIM, LLM_END sums the cumulative per-chunk usage, so
	// these are the true counts.
	StreamCompletionTokens, StreamPromptTokens int64
	HasStreamUsage                             bool

	// event_timestamp of the LLM_START and LLM_END steps, in seconds since
	// the epoch; NaN when absent.
	StartTime, EndTime float64
}

type step struct {
	Payload  payload `json:"payload"`
	Ancestry *struct {
		FunctionName any `json:"function_name"`
	} `json:"function_ancestry"`
}

type payload struct {
	EventType      any `json:"event_type"`
	EventTimestamp any `json:"event_timestamp"`
	Name           any `json:"name"`
	UUID           any `json:"UUID"`
	Metadata       *struct {
		ChatInputs  rawJSON `json:"chat_inputs"`
		ToolsSchema rawJSON `json:"tools_schema"`
	} `json:"metadata"`
	UsageInfo *struct {
		TokenUsage *struct {
			PromptTokens     any `json:"prompt_tokens"`
			CompletionTokens any `json:"completion_tokens"`
		} `json:"token_usage"`
	} `json:"usage_info"`
}

type request struct {
	RequestNumber any    `json:"request_number"`
	Steps         []step `json:"intermediate_steps"`
}

// Decode decodes one element of the top-level array (as ArrayScanner
// returns it) and extracts its LLM calls.
func Decode(elem []byte) (*Request, error) {
	var raw request
	if err := jsondecode.UnmarshalTransient(elem, &raw); err != nil { // see pyStr
		return nil, fmt.Errorf("not a valid NAT request: %w", err)
	}
	if raw.RequestNumber == nil && raw.Steps == nil {
		return nil, errors.New(`no "request_number" nor "intermediate_steps": not a NAT profiler request (use --format telemetry for telemetry)`)
	}
	req := &Request{Number: pyStr(raw.RequestNumber)}
	switch raw.RequestNumber.(type) {
	case nil:
		req.Number = ""
	case map[string]any, []any:
		return nil, errors.New(`field "request_number" is not a number or a string`)
	}
	var st chat.Stats
	var inputs chatInputs
	starts := make(map[string]*step)
	used := make(map[string]bool)
	stream := make(map[string][2]int64) // UUID -> largest (completion, prompt) of LLM_NEW_TOKEN
	for i := range raw.Steps {
		p := &raw.Steps[i].Payload
		switch p.EventType {
		case "LLM_START":
			if id := pyStr(p.UUID); id != "" {
				starts[id] = &raw.Steps[i] // a repeated UUID: the last START wins, as in the reference
			}
		case "LLM_NEW_TOKEN":
			if u := p.UsageInfo; u != nil && u.TokenUsage != nil {
				c, _, err1 := jsondecode.Count(u.TokenUsage.CompletionTokens)
				q, _, err2 := jsondecode.Count(u.TokenUsage.PromptTokens)
				if err1 == nil && err2 == nil && (c > 0 || q > 0) {
					id := pyStr(p.UUID)
					m := stream[id]
					stream[id] = [2]int64{max(m[0], c), max(m[1], q)}
				}
			}
		}
	}
	for i := range raw.Steps {
		p := &raw.Steps[i].Payload
		if p.EventType != "LLM_END" {
			continue
		}
		id := pyStr(p.UUID)
		s, ok := starts[id]
		if id == "" || !ok {
			req.UnmatchedEnds++
			continue
		}
		used[id] = true
		c := Call{
			UUID:      id,
			Model:     pyStr(s.Payload.Name),
			StartTime: number(s.Payload.EventTimestamp),
			EndTime:   number(p.EventTimestamp),
		}
		if s.Payload.Name == nil {
			c.Model = "unknown"
		}
		if s.Ancestry != nil {
			c.Function = pyStr(s.Ancestry.FunctionName)
		}
		if s.Payload.Metadata != nil {
			var err error
			if c.Messages, err = inputs.messages(s.Payload.Metadata.ChatInputs, &st); err != nil {
				return nil, fmt.Errorf("LLM_START %s: chat_inputs: %w", id, err)
			}
			if c.Tools, err = chat.Tools(s.Payload.Metadata.ToolsSchema); err != nil {
				return nil, fmt.Errorf("LLM_START %s: tools_schema: %w", id, err)
			}
		}
		if u := p.UsageInfo; u != nil && u.TokenUsage != nil {
			var err error
			if c.CompletionTokens, c.HasCompletionTokens, err = jsondecode.Count(u.TokenUsage.CompletionTokens); err != nil {
				return nil, fmt.Errorf("LLM_END %s: completion_tokens: %v", id, err)
			}
			if c.PromptTokens, c.HasPromptTokens, err = jsondecode.Count(u.TokenUsage.PromptTokens); err != nil {
				return nil, fmt.Errorf("LLM_END %s: prompt_tokens: %v", id, err)
			}
		}
		if m, ok := stream[id]; ok {
			c.StreamCompletionTokens, c.StreamPromptTokens, c.HasStreamUsage = m[0], m[1], true
		}
		req.Calls = append(req.Calls, c)
	}
	req.UnmatchedStarts = len(starts) - len(used)
	req.NonText = st.NonText
	slices.SortStableFunc(req.Calls, func(a, b Call) int {
		return cmp.Compare(sortTime(a.EndTime), sortTime(b.EndTime))
	})
	return req, nil
}

// rawJSON is a JSON value as it is written in the request: sonic hands it
// over without copying or decoding it (its syntax checked, not the escapes
// of its strings). It shares the request's memory.
type rawJSON []byte

// UnmarshalJSON keeps b.
func (r *rawJSON) UnmarshalJSON(b []byte) error {
	*r = b
	return nil
}

// chatInputs turns the chat_inputs of a request's LLM_START steps into
// messages (chat.FromNAT). The calls of an agent repeat the conversation so
// far, so an element of the list whose JSON text is that of the same
// element of the previous call gives the same messages: it is compared, not
// decoded again.
type chatInputs struct {
	prev, cur []chatInput
}

// chatInput is an element of a chat_inputs list and what it gave.
type chatInput struct {
	raw     []byte
	msgs    []chat.Message
	nonText int
}

func (c *chatInputs) messages(raw rawJSON, st *chat.Stats) ([]chat.Message, error) {
	if out, ok, err := c.fromList(raw, st); ok || err != nil {
		return out, err
	}
	// Not a list (a single message, a string, null), or one the element
	// scanner declines: decode it whole.
	c.prev = c.prev[:0]
	if raw == nil {
		return nil, nil
	}
	var v any
	if err := jsondecode.UnmarshalTransient(raw, &v); err != nil {
		return nil, err
	}
	if _, list := v.([]any); !list && v != nil {
		return chat.FromNATElement(v, raw, st), nil // a single message
	}
	return chat.FromNAT(v, st), nil
}

// fromList gives the messages of a chat_inputs list element by element; ok
// is false when raw is not a list it can read.
func (c *chatInputs) fromList(raw []byte, st *chat.Stats) (out []chat.Message, ok bool, err error) {
	i := record.SkipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		return nil, false, nil
	}
	c.cur = c.cur[:0]
	nonText := 0
	i = record.SkipSpace(raw, i+1)
	for k := 0; i < len(raw) && raw[i] != ']'; k++ {
		if k > 0 {
			if raw[i] != ',' {
				return nil, false, nil
			}
			i = record.SkipSpace(raw, i+1)
		}
		var e chatInput
		if k < len(c.prev) && bytes.HasPrefix(raw[i:], c.prev[k].raw) && endsElement(raw, i+len(c.prev[k].raw)) {
			e = c.prev[k]
		} else {
			end, serr := record.SkipValue(raw, i)
			if serr != nil {
				return nil, false, nil
			}
			e.raw = raw[i:end]
			var v any
			if err := jsondecode.UnmarshalTransient(e.raw, &v); err != nil {
				return nil, false, fmt.Errorf("element %d: %w", k, err)
			}
			var est chat.Stats
			e.msgs = chat.FromNATElement(v, e.raw, &est)
			e.nonText = est.NonText
		}
		nonText += e.nonText
		out = append(out, e.msgs...)
		c.cur = append(c.cur, e)
		i = record.SkipSpace(raw, i+len(e.raw))
	}
	if i >= len(raw) || record.SkipSpace(raw, i+1) != len(raw) {
		return nil, false, nil
	}
	st.NonText += nonText
	c.prev, c.cur = c.cur, c.prev
	return out, true, nil
}

// endsElement reports whether a list element can end at raw[i]: a ',' or
// the ']' follows (a number could go on otherwise).
func endsElement(raw []byte, i int) bool {
	i = record.SkipSpace(raw, i)
	return i < len(raw) && (raw[i] == ',' || raw[i] == ']')
}

// sortTime is the reference's sort key: event_timestamp, or 0 when absent.
func sortTime(t float64) float64 {
	if math.IsNaN(t) {
		return 0
	}
	return t
}

// pyStr renders a scalar as Python's str() does for the types JSON gives,
// and "" for null, objects and arrays. A number is copied: it shares the
// memory of the request's bytes, which the scanner reuses.
func pyStr(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return strings.Clone(v.String())
	case bool:
		if v {
			return "True"
		}
		return "False"
	}
	return ""
}

// number returns v as a float64, or NaN when it is not a number.
func number(v any) float64 {
	if n, ok := v.(json.Number); ok {
		if f, err := n.Float64(); err == nil {
			return f
		}
	}
	return math.NaN()
}

// LooksLikeProfiler reports whether an input starting with head (at its
// first byte that is not white space) is a profiler trace: a JSON array.
func LooksLikeProfiler(head []byte) bool { return len(head) > 0 && head[0] == '[' }
