package chat

import (
	"agenttrace/pkg/jsondecode"
)

// OpenAIMessage is what FromOpenAIJSON reads of a message object; a caller
// that decodes a list of them itself gives them to FromOpenAIMessages.
type OpenAIMessage struct {
	Role       any `json:"role"`
	Type       any `json:"type"`
	Content    any `json:"content"`
	ToolCalls  any `json:"tool_calls"`
	ToolCallID any `json:"tool_call_id"`
}

// FromOpenAIJSON is FromOpenAI for the JSON text of the messages list, with
// the same result, decoding only the members a message needs into a struct
// (no map of each message is built). Object keys match exactly, as they do
// in the maps FromOpenAI reads. raw must be a JSON list.
func FromOpenAIJSON(raw []byte, st *Stats) ([]Message, error) {
	var msgs []OpenAIMessage
	if err := jsondecode.UnmarshalExact(raw, &msgs); err != nil {
		// An element that is not an object (the reference skips it):
		// decode generically.
		var list any
		if err := jsondecode.UnmarshalExact(raw, &list); err != nil {
			return nil, err
		}
		return FromOpenAI(list, st), nil
	}
	return FromOpenAIMessages(msgs, st), nil
}

// FromOpenAIMessages is FromOpenAI for messages decoded as OpenAIMessage.
func FromOpenAIMessages(msgs []OpenAIMessage, st *Stats) []Message {
	out := make([]Message, 0, len(msgs))
	for i := range msgs {
		m := &msgs[i]
		msg := Message{Role: role(m.Role, m.Type), ToolCalls: openAIToolCalls(m.ToolCalls), ToolCallID: str(m.ToolCallID)}
		switch c := m.Content.(type) {
		case string:
			msg.Content = &c
		case []any:
			msg.Content = parts(c, st)
		case nil:
		default:
			st.NonText++
		}
		out = append(out, msg)
	}
	return out
}
