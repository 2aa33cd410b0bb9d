// Package chat turns the message lists found in agent traces into one
// normalised form, and defines the prompt text that is tokenized.
//
// A normalised message has a role and a content that is either a string or
// null. The content is made of pieces of text: it is the pieces joined with
// "\n", or null when the message has none. The prompt text of a call is the
// non-null contents joined with "\n", in order (PromptText). This is exactly
// the text the reference converters hand to the tokenizer, for every message
// shape they handle correctly.
//
// The pieces, per input format:
//
//   - NAT (FromNAT): a message object gives one piece if its content is a
//     non-empty string (an empty string gives none); a bare string message is
//     one piece even when empty; a content list gives pieces as in telemetry.
//   - Telemetry (FromOpenAI): a string content is one piece even when empty;
//     a null content gives none; a content list gives one piece per part that
//     is a string, or an object with a non-empty "text".
//
// Parts that carry no text (images, audio) give no piece and are counted in
// Stats.NonText.
package chat

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/zeebo/xxh3"

	"github.com/agent-trace/agent-trace/pkg/record"
)

// Message is one normalised chat message. Content is nil when the message
// has no text piece. ToolCalls are an assistant message's calls of tools,
// ToolCallID the call a tool message answers; neither is part of the prompt
// text.
type Message struct {
	Role       string     `json:"role"`
	Content    *string    `json:"content"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

// ToolCall is one call of a tool, in OpenAI's form
// {"id","type":"function","function":{"name","arguments"}}: Arguments is
// the JSON text of the arguments.
type ToolCall struct {
	ID        string
	Name      string
	Arguments string
}

// Equal reports whether two messages have the same role, content, tool
// calls and tool call id.
func (m Message) Equal(o Message) bool {
	if m.Role != o.Role || (m.Content == nil) != (o.Content == nil) || m.ToolCallID != o.ToolCallID ||
		!slices.Equal(m.ToolCalls, o.ToolCalls) {
		return false
	}
	return m.Content == nil || *m.Content == *o.Content
}

// Key returns a 128-bit hash of what Equal compares (two messages Equal
// have the same Key), written with h.
func (m *Message) Key(h *xxh3.Hasher) xxh3.Uint128 {
	h.Reset()
	var buf [8]byte
	field := func(s string) {
		h.Write(binary.LittleEndian.AppendUint64(buf[:0], uint64(len(s))))
		h.WriteString(s)
	}
	field(m.Role)
	if m.Content == nil {
		h.Write([]byte{0})
	} else {
		h.Write([]byte{1})
		field(*m.Content)
	}
	field(m.ToolCallID)
	h.Write(binary.LittleEndian.AppendUint64(buf[:0], uint64(len(m.ToolCalls))))
	for _, c := range m.ToolCalls {
		field(c.ID)
		field(c.Name)
		field(c.Arguments)
	}
	return h.Sum128()
}

// Stats counts what normalisation passed over.
type Stats struct {
	NonText int // content parts or messages without text (images, unknown shapes)
}

// PromptText returns the prompt text of msgs: the non-null contents joined
// with "\n".
func PromptText(msgs []Message) string {
	n := 0
	for _, m := range msgs {
		if m.Content != nil {
			n += len(*m.Content) + 1
		}
	}
	var b strings.Builder
	b.Grow(n)
	first := true
	for _, m := range msgs {
		if m.Content == nil {
			continue
		}
		if !first {
			b.WriteByte('\n')
		}
		first = false
		b.WriteString(*m.Content)
	}
	return b.String()
}

// EmptyPrompt reports whether PromptText(msgs) is "", without building it:
// no content at all, or a single empty one.
func EmptyPrompt(msgs []Message) bool {
	n := 0
	for _, m := range msgs {
		if m.Content != nil {
			if n++; n > 1 || *m.Content != "" {
				return false
			}
		}
	}
	return true
}

// langChainRoles maps LangChain message types to chat roles.
var langChainRoles = map[string]string{
	"human":     "user",
	"ai":        "assistant",
	"system":    "system",
	"tool":      "tool",
	"function":  "function",
	"chat":      "user",
	"developer": "developer",
	// Class names, as in LangChain's serialised "constructor" form.
	"HumanMessage":    "user",
	"AIMessage":       "assistant",
	"SystemMessage":   "system",
	"ToolMessage":     "tool",
	"FunctionMessage": "function",
	"ChatMessage":     "user",
}

// FromNAT normalises the chat_inputs of a NAT LLM_START step, as decoded from
// JSON (nil, bool, float64, string, []any, map[string]any). It accepts the
// shapes NAT's framework integrations write: OpenAI {"role","content"},
// LangChain dumps {"type","content"} and their serialised constructor form,
// plain strings, Strands {"role","text"} and {"role","content":[{"text"}]},
// and Semantic Kernel's {"messages":[{"role","items":[{"text"}]}]}.
func FromNAT(chatInputs any, st *Stats) []Message {
	list, ok := chatInputs.([]any)
	if !ok {
		if chatInputs == nil {
			return nil
		}
		list = []any{chatInputs} // a single message or string
	}
	var out []Message
	for _, m := range list {
		out = appendNAT(out, m, nil, st)
	}
	return out
}

// FromNATElement normalises one element of a chat_inputs list, v as
// decoded from JSON and raw its JSON text: a message whose content is an
// object becomes the text Python's str() gives of it (PyRepr), members in
// their order, as the reference tokenizes it and as LangChain sends a
// ToolMessage given a dict. FromNAT, without the text, counts such content
// as non-text.
func FromNATElement(v any, raw []byte, st *Stats) []Message {
	return appendNAT(nil, v, raw, st)
}

// appendNAT appends the messages of m; raw is its JSON text, or nil.
func appendNAT(out []Message, m any, raw []byte, st *Stats) []Message {
	switch m := m.(type) {
	case string:
		return append(out, Message{Role: "user", Content: &m})
	case map[string]any:
		// Semantic Kernel: a chat history object wrapping the messages.
		if inner, ok := m["messages"].([]any); ok && m["content"] == nil && m["role"] == nil {
			for _, x := range inner {
				out = appendNAT(out, x, nil, st)
			}
			return out
		}
		// LangChain serialised form: {"lc":1,"type":"constructor","id":[...,"HumanMessage"],"kwargs":{...}}
		if kw, ok := m["kwargs"].(map[string]any); ok && m["type"] == "constructor" {
			role := ""
			if id, ok := m["id"].([]any); ok && len(id) > 0 {
				if cls, ok := id[len(id)-1].(string); ok {
					role = langChainRoles[cls]
				}
			}
			msg := Message{Role: role, Content: natContent(kw, memberRaw(raw, "kwargs"), st)}
			msg.ToolCalls, msg.ToolCallID = natToolCalls(kw), str(kw["tool_call_id"])
			return append(out, msg)
		}
		msg := Message{Role: roleOf(m), Content: natContent(m, raw, st)}
		msg.ToolCalls, msg.ToolCallID = natToolCalls(m), str(m["tool_call_id"])
		return append(out, msg)
	default:
		st.NonText++
		return out
	}
}

// natToolCalls returns the tool calls of a NAT message object: OpenAI's
// "tool_calls" (also under LangChain's "additional_kwargs", which keeps the
// arguments as they were sent), or LangChain's {"name","args","id"}.
func natToolCalls(m map[string]any) []ToolCall {
	if kw, ok := m["additional_kwargs"].(map[string]any); ok {
		if calls := openAIToolCalls(kw["tool_calls"]); calls != nil {
			return calls
		}
	}
	list, _ := m["tool_calls"].([]any)
	var out []ToolCall
	for _, c := range list {
		c, ok := c.(map[string]any)
		if !ok {
			continue
		}
		if _, ok := c["function"]; ok {
			return openAIToolCalls(list)
		}
		name, ok := c["name"].(string)
		if !ok {
			continue
		}
		out = append(out, ToolCall{ID: str(c["id"]), Name: name, Arguments: argumentsText(c["args"])})
	}
	return out
}

// openAIToolCalls reads a list of OpenAI tool calls; entries that are not
// {"function":{"name":...}} are skipped.
func openAIToolCalls(v any) []ToolCall {
	list, _ := v.([]any)
	var out []ToolCall
	for _, c := range list {
		c, ok := c.(map[string]any)
		if !ok {
			continue
		}
		f, ok := c["function"].(map[string]any)
		if !ok {
			continue
		}
		name, ok := f["name"].(string)
		if !ok {
			continue
		}
		out = append(out, ToolCall{ID: str(c["id"]), Name: name, Arguments: argumentsText(f["arguments"])})
	}
	return out
}

// argumentsText is the JSON text of a call's arguments: a string as it is,
// anything else encoded.
func argumentsText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return "{}"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// str returns v when it is a string, else "".
func str(v any) string {
	s, _ := v.(string)
	return s
}

// natContent returns the content of a NAT message object.
func natContent(m map[string]any, raw []byte, st *Stats) *string {
	c, has := m["content"]
	if !has || c == nil {
		if t, ok := m["text"].(string); ok && t != "" { // Strands system message
			return &t
		}
		if items, ok := m["items"].([]any); ok { // Semantic Kernel
			return parts(items, st)
		}
		return nil
	}
	switch c := c.(type) {
	case string:
		if c == "" {
			return nil
		}
		return &c
	case []any:
		return parts(c, st)
	case json.Number: // decoded with UseNumber: str() of the int or float it is
		s, err := numberRepr(c.String())
		if err != nil {
			s = c.String()
		}
		s = strings.Clone(s) // it may share the input's memory
		return &s
	case float64: // a decoder without UseNumber: an int, when it is one
		s := strconv.FormatFloat(c, 'f', -1, 64)
		return &s
	case map[string]any: // a dict: str() of it, from its text (members in order)
		if text, err := PyRepr(memberRaw(raw, "content")); raw != nil && err == nil {
			return &text
		}
		st.NonText++
		return nil
	case bool:
		s := "False"
		if c {
			s = "True"
		}
		return &s
	default:
		st.NonText++
		return nil
	}
}

// memberRaw returns the JSON text of the last member key of the object raw
// (the one json.loads keeps), or nil.
func memberRaw(raw []byte, key string) []byte {
	i := record.SkipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil
	}
	var found []byte
	i = record.SkipSpace(raw, i+1)
	for k := 0; i < len(raw) && raw[i] != '}'; k++ {
		if k > 0 {
			if raw[i] != ',' {
				return nil
			}
			i = record.SkipSpace(raw, i+1)
		}
		kend, err := record.SkipValue(raw, i)
		if err != nil || raw[i] != '"' {
			return nil
		}
		name, err := record.DecodeString(raw[i:kend])
		if err != nil {
			return nil
		}
		i = record.SkipSpace(raw, kend)
		if i >= len(raw) || raw[i] != ':' {
			return nil
		}
		i = record.SkipSpace(raw, i+1)
		end, err := record.SkipValue(raw, i)
		if err != nil {
			return nil
		}
		if name == key {
			found = raw[i:end]
		}
		i = record.SkipSpace(raw, end)
	}
	return found
}

// FromOpenAI normalises an OpenAI-style messages list, as decoded from JSON.
// Entries that are not objects are skipped, as the reference does.
func FromOpenAI(messages any, st *Stats) []Message {
	list, _ := messages.([]any)
	out := make([]Message, 0, len(list))
	for _, m := range list {
		obj, ok := m.(map[string]any)
		if !ok {
			st.NonText++
			continue
		}
		var content *string
		switch c := obj["content"].(type) {
		case string:
			content = &c
		case []any:
			content = parts(c, st)
		case nil:
		default:
			st.NonText++
		}
		out = append(out, Message{Role: roleOf(obj), Content: content,
			ToolCalls: openAIToolCalls(obj["tool_calls"]), ToolCallID: str(obj["tool_call_id"])})
	}
	return out
}

// roleOf returns a message object's role: "role" when it is a string, else
// the LangChain "type" mapped to a role.
func roleOf(m map[string]any) string {
	return role(m["role"], m["type"])
}

// role is a message's role from its "role" and "type" members (see roleOf).
func role(roleValue, typeValue any) string {
	if r, ok := roleValue.(string); ok {
		return r
	}
	if t, ok := typeValue.(string); ok {
		if r, ok := langChainRoles[t]; ok {
			return r
		}
		return t
	}
	return ""
}

// parts joins the text pieces of a content list: strings, and objects with a
// non-empty "text". It returns nil when there is no piece.
func parts(list []any, st *Stats) *string {
	var pieces []string
	for _, p := range list {
		switch p := p.(type) {
		case string:
			pieces = append(pieces, p)
		case map[string]any:
			if t, ok := p["text"].(string); ok && t != "" {
				pieces = append(pieces, t)
			} else {
				st.NonText++
			}
		default:
			st.NonText++
		}
	}
	if len(pieces) == 0 {
		return nil
	}
	s := strings.Join(pieces, "\n")
	return &s
}

// Tools returns the tools list of a request (OpenAI's "tools", NAT's
// "tools_schema": a list of {"type":"function","function":{...}}) as
// compact JSON, its members in their order, or nil when raw is absent,
// null or an empty list. Anything but a list is an error.
func Tools(raw []byte) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] != '[' {
		return nil, errors.New("want a list of tools")
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, err
	}
	if b.Len() == 2 { // []
		return nil, nil
	}
	return b.Bytes(), nil
}

// AppendJSON appends msgs as a compact JSON array of {"role","content"}
// objects.
func AppendJSON(dst []byte, msgs []Message) []byte {
	return (*JSONWriter)(nil).Append(dst, msgs)
}

// A JSONWriter writes message lists as AppendJSON does, remembering the
// JSON text of the long contents it wrote: the calls of a conversation
// repeat its earlier messages, so their contents are copied instead of
// escaped again. It forgets everything when what it remembers reaches
// rememberBytes. The zero value is ready to use; a nil *JSONWriter
// remembers nothing.
type JSONWriter struct {
	text map[string][]byte // long content -> its JSON string
	size int               // bytes of content and text in text
}

// rememberBytes bounds the memory of a JSONWriter.
const rememberBytes = 16 << 20

// rememberFrom is the length from which a JSONWriter remembers a content:
// below it, escaping costs less than a lookup.
const rememberFrom = 256

// Append appends msgs as a compact JSON array of {"role","content"} objects.
func (w *JSONWriter) Append(dst []byte, msgs []Message) []byte {
	n := 2
	for _, m := range msgs {
		n += len(m.Role) + 32
		if m.Content != nil {
			n += len(*m.Content) + len(*m.Content)/16 // room for some escapes
		}
	}
	dst = slices.Grow(dst, n)
	dst = append(dst, '[')
	for i, m := range msgs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"role":`...)
		dst = record.AppendString(dst, m.Role)
		dst = append(dst, `,"content":`...)
		switch c := m.Content; {
		case c == nil:
			dst = append(dst, "null"...)
		case w == nil || len(*c) < rememberFrom:
			dst = record.AppendString(dst, *c)
		default:
			if text, ok := w.text[*c]; ok {
				dst = append(dst, text...)
				break
			}
			start := len(dst)
			dst = record.AppendString(dst, *c)
			if w.text == nil || w.size > rememberBytes {
				w.text, w.size = map[string][]byte{}, 0
			}
			w.text[*c] = slices.Clone(dst[start:])
			w.size += len(*c) + len(dst) - start
		}
		dst = appendTools(dst, &m)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// appendTools appends the tool calls and tool call id of m, when it has
// them, as members of its JSON object.
func appendTools(dst []byte, m *Message) []byte {
	if len(m.ToolCalls) > 0 {
		dst = append(dst, `,"tool_calls":[`...)
		for i, c := range m.ToolCalls {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"id":`...)
			dst = record.AppendString(dst, c.ID)
			dst = append(dst, `,"type":"function","function":{"name":`...)
			dst = record.AppendString(dst, c.Name)
			dst = append(dst, `,"arguments":`...)
			dst = record.AppendString(dst, c.Arguments)
			dst = append(dst, "}}"...)
		}
		dst = append(dst, ']')
	}
	if m.ToolCallID != "" {
		dst = append(dst, `,"tool_call_id":`...)
		dst = record.AppendString(dst, m.ToolCallID)
	}
	return dst
}

// A Prompt is the prompt text of a message list (PromptText), read from
// the raw JSON "messages" field of a record without building the messages,
// remembering where each message's part of the text ends: the prompt of a
// list that starts with some of the same messages is built by keeping them
// (Keep) and reading only the rest (Read, Append). The zero value is an
// empty prompt.
type Prompt struct {
	text  []byte
	marks []promptMark // one per message
}

// promptMark is what a Prompt knows of the text up to the end of a message.
type promptMark struct {
	end    int // len(text) after the message
	pieces int // the non-null contents so far
}

// Text returns the prompt text. It is valid until the Prompt changes.
func (p *Prompt) Text() []byte { return p.text }

// Messages returns the number of messages read.
func (p *Prompt) Messages() int { return len(p.marks) }

// Reset empties p, keeping its storage.
func (p *Prompt) Reset() { p.text, p.marks = p.text[:0], p.marks[:0] }

func (p *Prompt) pieces() int {
	if len(p.marks) == 0 {
		return 0
	}
	return p.marks[len(p.marks)-1].pieces
}

// Keep cuts p to its first n messages (n <= p.Messages()), in place, and
// returns the length of their text.
func (p *Prompt) Keep(n int) int {
	end := 0
	if n > 0 {
		end = p.marks[n-1].end
	}
	p.text, p.marks = p.text[:end], p.marks[:n]
	return end
}

// SetPrefix sets p to the first n messages of q (n <= q.Messages()),
// reusing p's storage.
func (p *Prompt) SetPrefix(q *Prompt, n int) {
	end := 0
	if n > 0 {
		end = q.marks[n-1].end
	}
	p.text = append(p.text[:0], q.text[:end]...)
	p.marks = append(p.marks[:0], q.marks[:n]...)
}

// Append appends the messages of q to those of p, as if the two lists had
// been read as one.
func (p *Prompt) Append(q *Prompt) {
	base, had := len(p.text), p.pieces()
	sep := 0
	if had > 0 && q.pieces() > 0 {
		p.text = append(p.text, '\n')
		sep = 1
	}
	p.text = append(p.text, q.text...)
	for _, m := range q.marks {
		if m.pieces > 0 {
			m.end += base + sep
		} else {
			m.end = base
		}
		m.pieces += had
		p.marks = append(p.marks, m)
	}
}

// Read reads the raw JSON "messages" field of a record, whose value starts
// at raw[i], and appends its messages to p: the text becomes
// PromptText(Decode(value)) when p was empty. It returns the offset just
// past the value, so record.ParseWith can hand it the field. It checks the
// syntax of what it reads and accepts what Decode accepts: null, or a list
// of objects (or nulls) whose "content" (matched without regard to case,
// the last one winning) is a string or null, and whose "role" is a string
// or null. On error, p holds the messages read before the bad one.
func (p *Prompt) Read(raw []byte, i int) (int, error) {
	end, err := p.read(raw, i)
	if err != nil {
		p.Keep(p.Messages()) // drop the bad message's partial text
	}
	return end, err
}

func (p *Prompt) read(raw []byte, i int) (int, error) {
	pieces := p.pieces()
	end, err := scanList(raw, i, func(i int) (int, error) {
		end, err := appendMessage(&p.text, raw, i, &pieces)
		if err == nil {
			p.marks = append(p.marks, promptMark{len(p.text), pieces})
		}
		return end, err
	})
	if err != nil {
		return 0, promptError(err)
	}
	return end, nil
}

// scanList reads the list of messages (or null) at raw[i], calling message
// with the offset of each element, which returns the offset past it; it
// returns the offset past the list.
func scanList(raw []byte, i int, message func(i int) (int, error)) (int, error) {
	if isNull(raw, i) {
		return i + 4, nil
	}
	if i >= len(raw) || raw[i] != '[' {
		return 0, errors.New("not a list")
	}
	i = record.SkipSpace(raw, i+1)
	for k := 0; i < len(raw) && raw[i] != ']'; k++ {
		if k > 0 {
			if raw[i] != ',' {
				return 0, errors.New("want ',' between messages")
			}
			i = record.SkipSpace(raw, i+1)
		}
		var err error
		if i, err = message(i); err != nil {
			return 0, fmt.Errorf("message %d: %w", k, err)
		}
		i = record.SkipSpace(raw, i)
	}
	if i >= len(raw) {
		return 0, errors.New("unterminated list")
	}
	return i + 1, nil
}

func promptError(err error) error {
	return fmt.Errorf("field \"messages\": want a list of {\"role\",\"content\"} objects: %v", err)
}

// member is where the value of a message's member lies in the raw JSON:
// raw[at:end]; at < 0 when the message has none.
type member struct{ at, end int }

// scanMessage reads the message object at raw[i] (or null), checking its
// syntax, as encoding/json decodes a Message: member names are matched
// without regard to case; content must be a string or null, and the last
// content member counts; role must be a string or null, and the last
// non-null role member counts. When the content is a string, sep and its
// value are appended to *dst (one pass over it) and hasContent is true. It
// returns where the role's value lies and the offset past the object.
//
// When tools is not nil, it is set to where the "tool_calls" and
// "tool_call_id" members' values lie (matched exactly, the last counting).
//
// When content is not nil, the content is not unquoted into *dst: content
// is set to where its string value lies (at < 0 when null or absent).
func scanMessage(dst *[]byte, sep string, raw []byte, i int, tools *toolMembers, content *member) (role member, hasContent bool, end int, err error) {
	if tools != nil {
		*tools = toolMembers{member{-1, -1}, member{-1, -1}}
	}
	if content != nil {
		*content = member{-1, -1}
	}
	role = member{-1, -1}
	if i >= len(raw) {
		return role, false, 0, errors.New("unterminated list")
	}
	if isNull(raw, i) {
		return role, false, i + 4, nil
	}
	if raw[i] != '{' {
		return role, false, 0, errors.New("not an object")
	}
	start := 0 // where the content goes
	if dst != nil {
		start = len(*dst)
	}
	i = record.SkipSpace(raw, i+1)
	for k := 0; i < len(raw) && raw[i] != '}'; k++ {
		if k > 0 {
			if raw[i] != ',' {
				return role, false, 0, errors.New("want ',' between members")
			}
			if i = record.SkipSpace(raw, i+1); i >= len(raw) {
				break
			}
		}
		if raw[i] != '"' {
			return role, false, 0, errors.New("want a member name")
		}
		kend, err := record.SkipValue(raw, i)
		if err != nil {
			return role, false, 0, err
		}
		key := raw[i:kend]
		i = record.SkipSpace(raw, kend)
		if i >= len(raw) || raw[i] != ':' {
			return role, false, 0, errors.New("want ':' after a member name")
		}
		i = record.SkipSpace(raw, i+1)
		isContent, isRole := bytes.EqualFold(key, []byte(`"content"`)), bytes.EqualFold(key, []byte(`"role"`))
		if bytes.IndexByte(key, '\\') >= 0 { // an escaped name: compare its value
			name, err := record.DecodeString(key)
			if err != nil {
				return role, false, 0, err
			}
			isContent, isRole = strings.EqualFold(name, "content"), strings.EqualFold(name, "role")
		}
		switch {
		case isContent && content != nil && isNull(raw, i):
			*content, hasContent = member{-1, -1}, false
			i += 4
		case isContent && content != nil:
			at := i
			if i >= len(raw) || raw[i] != '"' {
				return role, false, 0, errors.New("content: want a string or null")
			}
			if i, err = record.SkipValue(raw, i); err != nil {
				return role, false, 0, fmt.Errorf("content: %w", err)
			}
			*content, hasContent = member{at, i}, true
		case isContent && isNull(raw, i):
			*dst, hasContent = (*dst)[:start], false // a later content replaces an earlier one
			i += 4
		case isContent:
			*dst = append((*dst)[:start], sep...)
			if *dst, i, err = record.AppendUnquote(*dst, raw, i); err != nil {
				return role, false, 0, fmt.Errorf("content: %w", err)
			}
			hasContent = true
		case isRole && !isNull(raw, i) && (i >= len(raw) || raw[i] != '"'):
			return role, false, 0, errors.New("role is not a string")
		default:
			at := i
			if i, err = record.SkipValue(raw, i); err != nil {
				return role, false, 0, err
			}
			if isRole && !isNull(raw, at) { // null leaves a string as it is
				role = member{at, i}
			}
			if tools != nil {
				switch string(key) {
				case `"tool_calls"`:
					tools.calls = member{at, i}
				case `"tool_call_id"`:
					tools.id = member{at, i}
				}
			}
		}
		i = record.SkipSpace(raw, i)
	}
	if i >= len(raw) {
		return role, false, 0, errors.New("unterminated object")
	}
	return role, hasContent, i + 1, nil
}

// toolMembers is where a message's tool_calls and tool_call_id lie.
type toolMembers struct{ calls, id member }

// decode sets the tool calls and tool call id of m from raw.
func (t *toolMembers) decode(raw []byte, m *Message) error {
	if t.calls.at >= 0 && !isNull(raw, t.calls.at) {
		var calls []struct {
			ID       string `json:"id"`
			Function struct {
				Name      string          `json:"name"`
				Arguments json.RawMessage `json:"arguments"`
			} `json:"function"`
		}
		if err := json.Unmarshal(raw[t.calls.at:t.calls.end], &calls); err != nil {
			return fmt.Errorf("tool_calls: want a list of {\"id\",\"function\":{\"name\",\"arguments\"}}: %v", err)
		}
		m.ToolCalls = make([]ToolCall, len(calls))
		for k, c := range calls {
			m.ToolCalls[k] = ToolCall{ID: c.ID, Name: c.Function.Name, Arguments: "{}"}
			if a := c.Function.Arguments; len(a) > 0 && a[0] == '"' {
				if err := json.Unmarshal(a, &m.ToolCalls[k].Arguments); err != nil {
					return fmt.Errorf("tool_calls: arguments: %v", err)
				}
			} else if len(a) > 0 && string(a) != "null" {
				m.ToolCalls[k].Arguments = string(a)
			}
		}
	}
	if t.id.at >= 0 && !isNull(raw, t.id.at) {
		if err := json.Unmarshal(raw[t.id.at:t.id.end], &m.ToolCallID); err != nil {
			return fmt.Errorf("tool_call_id: %v", err)
		}
	}
	return nil
}

// appendMessage appends the content of the message object at raw[i] to
// *dst, after a "\n" unless it is the first piece (*pieces counts them), and
// returns the offset past the object.
func appendMessage(dst *[]byte, raw []byte, i int, pieces *int) (int, error) {
	sep := ""
	if *pieces > 0 {
		sep = "\n"
	}
	_, has, end, err := scanMessage(dst, sep, raw, i, nil, nil)
	if has {
		*pieces++
	}
	return end, err
}

// isNull reports whether the value at raw[i] is null.
func isNull(raw []byte, i int) bool { return bytes.HasPrefix(raw[i:], []byte("null")) }

// Decode parses the raw JSON "messages" field of a record, as AppendJSON
// writes it; it accepts what Prompt.Read accepts (null, or a list of
// message objects or nulls).
func Decode(raw []byte) ([]Message, error) {
	msgs, err := decodeList(raw, true)
	if err != nil {
		return nil, promptError(err)
	}
	return msgs, nil
}

// Firsts is what the first system and first user messages of a list say:
// their index (-1 when there is none) and content ("" when null), and the
// number of messages.
type Firsts struct {
	SystemAt, UserAt int
	System, User     string
	N                int
}

// ReadFirsts reads a raw "messages" field (what Decode accepts) for its
// first system and first user messages, unquoting only their contents.
func ReadFirsts(raw []byte) (Firsts, error) {
	f, end, err := ReadFirstsAt(raw, record.SkipSpace(raw, 0))
	if err != nil {
		return Firsts{}, err
	}
	if record.SkipSpace(raw, end) != len(raw) {
		return Firsts{}, promptError(errors.New("extra data after the list"))
	}
	return f, nil
}

// ReadFirstsAt is ReadFirsts for the "messages" value that starts at
// raw[start], in a line that goes on after it: it returns the offset just
// past the value, so that record.ParseWith can hand it the field (which
// is then read once, not checked by the record parser first).
func ReadFirstsAt(raw []byte, start int) (Firsts, int, error) {
	f := Firsts{SystemAt: -1, UserAt: -1}
	var content member
	end, err := scanList(raw, start, func(i int) (int, error) {
		role, has, end, err := scanMessage(nil, "", raw, i, nil, &content)
		if err != nil {
			return 0, err
		}
		k := f.N
		f.N++
		if role.at < 0 || (f.SystemAt >= 0 && f.UserAt >= 0) {
			return end, nil
		}
		r, err := decodeString(raw[role.at:role.end])
		if err != nil {
			return 0, fmt.Errorf("role: %w", err)
		}
		text := func() (string, error) {
			if !has {
				return "", nil
			}
			return decodeString(raw[content.at:content.end])
		}
		switch {
		case r == "system" && f.SystemAt < 0:
			f.SystemAt = k
			f.System, err = text()
		case r == "user" && f.UserAt < 0:
			f.UserAt = k
			f.User, err = text()
		}
		if err != nil {
			return 0, fmt.Errorf("content: %w", err)
		}
		return end, nil
	})
	if err != nil {
		return Firsts{}, 0, promptError(err)
	}
	return f, end, nil
}

// After returns the Firsts of a list made of the first n messages of the
// list f describes, then the messages next describes (a compact record).
func (f Firsts) After(n int, next Firsts) Firsts {
	out := Firsts{SystemAt: -1, UserAt: -1, N: n + next.N}
	switch {
	case f.SystemAt >= 0 && f.SystemAt < n:
		out.SystemAt, out.System = f.SystemAt, f.System
	case next.SystemAt >= 0:
		out.SystemAt, out.System = n+next.SystemAt, next.System
	}
	switch {
	case f.UserAt >= 0 && f.UserAt < n:
		out.UserAt, out.User = f.UserAt, f.User
	case next.UserAt >= 0:
		out.UserAt, out.User = n+next.UserAt, next.User
	}
	return out
}

// DecodeText is Decode for a reader that needs only roles and contents
// (trace-classify): tool calls and tool call ids are skipped, not decoded.
func DecodeText(raw []byte) ([]Message, error) {
	msgs, err := decodeList(raw, false)
	if err != nil {
		return nil, promptError(err)
	}
	return msgs, nil
}

func decodeList(raw []byte, withTools bool) ([]Message, error) {
	start := record.SkipSpace(raw, 0)
	var msgs []Message
	if !isNull(raw, start) {
		msgs = []Message{}
	}
	var buf []byte // each content is decoded here first
	var tools toolMembers
	tp := &tools
	if !withTools {
		tp = nil
	}
	end, err := scanList(raw, start, func(i int) (int, error) {
		role, has, end, err := scanMessage(&buf, "", raw, i, tp, nil)
		if err != nil {
			return 0, err
		}
		var m Message
		if tp != nil {
			if err := tools.decode(raw, &m); err != nil {
				return 0, err
			}
		}
		if has {
			c := string(buf)
			m.Content = &c
		}
		if role.at >= 0 {
			if m.Role, err = decodeString(raw[role.at:role.end]); err != nil {
				return 0, fmt.Errorf("role: %w", err)
			}
		}
		buf = buf[:0]
		msgs = append(msgs, m)
		return end, nil
	})
	if err != nil {
		return nil, err
	}
	if record.SkipSpace(raw, end) != len(raw) {
		return nil, errors.New("extra data after the list")
	}
	return msgs, nil
}

// decodeString decodes a JSON string that scanMessage checked: one without
// escapes is copied as it is.
func decodeString(raw []byte) (string, error) {
	if body := raw[1 : len(raw)-1]; bytes.IndexByte(body, '\\') < 0 {
		return string(body), nil
	}
	return record.DecodeString(raw)
}
