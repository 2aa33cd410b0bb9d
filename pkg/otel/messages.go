package otel

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/agent-trace/agent-trace/pkg/chat"
	"github.com/agent-trace/agent-trace/pkg/jsondecode"
)

// genAIMessages returns the prompt of a GenAI span, from the first form it
// has: gen_ai.input.messages (with gen_ai.system_instructions before it),
// gen_ai.prompt.N.*, or events. err is set when an attribute that should
// hold JSON does not.
func genAIMessages(attrs map[string]any, events []event, st *chat.Stats) ([]chat.Message, error) {
	if in, ok := attrs["gen_ai.input.messages"]; ok {
		var msgs []chat.Message
		if sys, ok := attrs["gen_ai.system_instructions"]; ok {
			list, err := jsonList(sys)
			if err != nil {
				return nil, err
			}
			if text := partsText(list, st); text != nil {
				msgs = append(msgs, chat.Message{Role: "system", Content: text})
			}
		}
		text, ok := in.(string)
		if !ok {
			// Structured (an array value) rather than JSON text.
			b, err := json.Marshal(in)
			if err != nil {
				return nil, err
			}
			text = string(b)
		}
		// The usual shape decodes in one go; anything else message by
		// message.
		var typed []fastMessage
		if jsondecode.TryExactString(text, &typed) == nil && fastShape(typed) {
			for i := range typed {
				msgs = append(msgs, typed[i].messages(st)...)
			}
			return msgs, nil
		}
		var list []json.RawMessage
		if err := jsondecode.UnmarshalTransient([]byte(text), &list); err != nil {
			return nil, err
		}
		for _, raw := range list {
			var pm partsMessage
			if err := jsondecode.UnmarshalTransient(raw, &pm); err != nil {
				st.NonText++
				continue
			}
			if pm.Parts == nil && pm.Content != nil {
				// An OpenAI-style message in the same attribute.
				var obj any
				if jsondecode.Unmarshal(raw, &obj) == nil {
					msgs = append(msgs, chat.FromOpenAI([]any{obj}, st)...)
				}
				continue
			}
			msgs = append(msgs, pm.messages(st)...)
		}
		return msgs, nil
	}
	if prompt := indexed(attrs, "gen_ai.prompt."); len(prompt) > 0 {
		msgs := make([]chat.Message, 0, len(prompt))
		for _, f := range prompt {
			m := chat.Message{Role: str(f["role"]), ToolCallID: str(f["tool_call_id"])}
			if c, ok := f["content"].(string); ok {
				m.Content = contentText(c, st)
			}
			for _, tc := range indexed(f, "tool_calls.") {
				m.ToolCalls = append(m.ToolCalls, chat.ToolCall{ID: str(tc["id"]), Name: str(tc["name"]), Arguments: str(tc["arguments"])})
			}
			msgs = append(msgs, m)
		}
		return msgs, nil
	}
	var msgs []chat.Message
	for _, ev := range events {
		ea, err := attributes(ev.Attributes)
		if err != nil {
			return nil, err
		}
		switch ev.Name {
		case "gen_ai.content.prompt":
			list, err := jsonList(ea["gen_ai.prompt"])
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, chat.FromOpenAI(list, st)...)
		case "gen_ai.system.message", "gen_ai.user.message", "gen_ai.assistant.message", "gen_ai.tool.message":
			role := strings.TrimSuffix(strings.TrimPrefix(ev.Name, "gen_ai."), ".message")
			m := chat.Message{Role: role, ToolCallID: str(ea["id"])}
			if c, ok := ea["content"].(string); ok {
				m.Content = contentText(c, st)
			}
			msgs = append(msgs, m)
		}
	}
	return msgs, nil
}

// partsMessage is a message of the current GenAI conventions:
// {"role", "parts": [{"type": "text"|"tool_call"|"tool_call_response", ...}]}.
type partsMessage struct {
	Role  string `json:"role"`
	Parts []struct {
		Type      string          `json:"type"`
		Content   json.RawMessage `json:"content"`
		ID        string          `json:"id"`
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
		Response  json.RawMessage `json:"response"`
	} `json:"parts"`
	Content json.RawMessage `json:"content"` // set in an OpenAI-style message
}

// messages turns pm into messages, as fastMessage.messages does.
func (pm *partsMessage) messages(st *chat.Stats) []chat.Message {
	fm := fastMessage{Role: pm.Role, Parts: make([]messagePart, len(pm.Parts))}
	for i, p := range pm.Parts {
		part := messagePart{Type: p.Type, ID: p.ID, Name: p.Name}
		if t, ok := rawText(p.Content); ok {
			part.Content = &t
		}
		args, resp := rawJSONText(p.Arguments), rawJSONText(p.Response)
		part.Arguments, part.Response = &args, &resp
		fm.Parts[i] = part
	}
	return fm.messages(st)
}

// fastMessage is partsMessage when every text part's content is a string
// and arguments and responses are strings too (the usual shape), decoded
// without raw values.
type fastMessage struct {
	Role    string        `json:"role"`
	Parts   []messagePart `json:"parts"`
	Content *string       `json:"content"` // set in an OpenAI-style message
}

// messagePart is a part of a message: text, a tool call or a tool's answer.
type messagePart struct {
	Type      string  `json:"type"`
	Content   *string `json:"content"`
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Arguments *string `json:"arguments"`
	Response  *string `json:"response"`
}

// fastShape reports whether every message has parts (none is OpenAI-style).
func fastShape(list []fastMessage) bool {
	for i := range list {
		if list[i].Parts == nil {
			return false
		}
	}
	return true
}

// messages turns fm into messages: a tool_call_response part is a tool
// message of its own, after the message of the other parts.
func (fm *fastMessage) messages(st *chat.Stats) []chat.Message {
	m := chat.Message{Role: fm.Role}
	var out []chat.Message
	var texts []string
	for _, part := range fm.Parts {
		switch part.Type {
		case "text":
			if part.Content != nil {
				texts = append(texts, *part.Content)
			} else {
				st.NonText++
			}
		case "tool_call":
			m.ToolCalls = append(m.ToolCalls, chat.ToolCall{ID: part.ID, Name: part.Name, Arguments: deref(part.Arguments)})
		case "tool_call_response":
			resp := deref(part.Response)
			out = append(out, chat.Message{Role: "tool", Content: &resp, ToolCallID: part.ID})
		default:
			st.NonText++
		}
	}
	if len(texts) == 1 {
		m.Content = &texts[0]
	} else if len(texts) > 1 {
		s := strings.Join(texts, "\n")
		m.Content = &s
	}
	if m.Content != nil || len(m.ToolCalls) > 0 || len(out) == 0 {
		out = append([]chat.Message{m}, out...)
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// rawText returns the text of a JSON string.
func rawText(raw json.RawMessage) (string, bool) {
	var s string
	if len(raw) == 0 || raw[0] != '"' || jsondecode.UnmarshalTransient(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// rawJSONText returns a JSON string's text, and any other JSON value as
// compact JSON in its own key order ("" when absent or null).
func rawJSONText(raw json.RawMessage) string {
	if s, ok := rawText(raw); ok {
		return s
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

// partsText joins the text parts of a list ({"type": "text", "content"}),
// nil when there is none.
func partsText(list []any, st *chat.Stats) *string {
	var texts []string
	for _, p := range list {
		if part, ok := p.(map[string]any); ok && part["type"] == "text" {
			if t, ok := part["content"].(string); ok {
				texts = append(texts, t)
				continue
			}
		}
		st.NonText++
	}
	if len(texts) == 0 {
		return nil
	}
	s := strings.Join(texts, "\n")
	return &s
}

// contentText is a message content as an attribute holds it: text, or a
// JSON list of content parts ([{"type": "text", "text": ...}]) that some
// instrumentations write for list contents.
func contentText(c string, st *chat.Stats) *string {
	if strings.HasPrefix(c, `[{`) {
		var list []any
		if json.Unmarshal([]byte(c), &list) == nil {
			m := chat.FromOpenAI([]any{map[string]any{"role": "user", "content": list}}, st)
			if len(m) == 1 && m[0].Content != nil {
				return m[0].Content
			}
		}
	}
	return &c
}

// jsonList decodes an attribute that holds a JSON list (as a string, or as
// an array value).
func jsonList(v any) ([]any, error) {
	switch v := v.(type) {
	case []any:
		return v, nil
	case string:
		var list []any
		if err := jsondecode.Unmarshal([]byte(v), &list); err != nil {
			return nil, err
		}
		return list, nil
	case nil:
		return nil, nil
	}
	return nil, &json.UnsupportedValueError{Str: "not a JSON list"}
}

// openInferenceMessages returns the prompt of an OpenInference span:
// llm.input_messages.N.message.role, .content, or the text of
// .contents.M.message_content; tool calls and tool_call_id.
func openInferenceMessages(attrs map[string]any, st *chat.Stats) []chat.Message {
	var msgs []chat.Message
	for _, f := range indexed(attrs, "llm.input_messages.") {
		m := chat.Message{Role: str(f["message.role"]), ToolCallID: str(f["message.tool_call_id"])}
		if c, ok := f["message.content"].(string); ok {
			m.Content = &c
		} else {
			var texts []string
			for _, part := range indexed(f, "message.contents.") {
				if t, ok := part["message_content.text"].(string); ok {
					texts = append(texts, t)
				} else {
					st.NonText++
				}
			}
			if len(texts) > 0 {
				s := strings.Join(texts, "\n")
				m.Content = &s
			}
		}
		for _, tc := range indexed(f, "message.tool_calls.") {
			m.ToolCalls = append(m.ToolCalls, chat.ToolCall{ID: str(tc["tool_call.id"]),
				Name: str(tc["tool_call.function.name"]), Arguments: str(tc["tool_call.function.arguments"])})
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// openInferenceTools returns llm.tools.N.tool.json_schema as a tools list.
func openInferenceTools(attrs map[string]any) []byte {
	var list []json.RawMessage
	for _, f := range indexed(attrs, "llm.tools.") {
		if s, ok := f["tool.json_schema"].(string); ok && json.Valid([]byte(s)) {
			list = append(list, json.RawMessage(s))
		}
	}
	if len(list) == 0 {
		return nil
	}
	raw, _ := json.Marshal(list)
	tools, err := chat.Tools(raw)
	if err != nil {
		return nil
	}
	return tools
}
