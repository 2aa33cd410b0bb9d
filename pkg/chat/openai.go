package chat

// OpenAIMessage is what a decoder needs to read of an OpenAI message object
// (into a struct: no map of each message is built); FromOpenAIMessages
// makes the messages of a list of them, as FromOpenAI does of maps.
type OpenAIMessage struct {
	Role       any `json:"role"`
	Type       any `json:"type"`
	Content    any `json:"content"`
	ToolCalls  any `json:"tool_calls"`
	ToolCallID any `json:"tool_call_id"`
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
