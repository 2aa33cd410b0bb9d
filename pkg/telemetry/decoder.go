package telemetry

import (
	"bytes"
	"encoding/json"
	"unsafe"

	"github.com/zeebo/xxh3"

	"github.com/agent-trace/agent-trace/pkg/chat"
	"github.com/agent-trace/agent-trace/pkg/jsondecode"
	"github.com/agent-trace/agent-trace/pkg/record"
)

// A Decoder parses events as Parse does, decoding each distinct message
// once: the calls of an agent repeat its conversation so far, so most of
// a call's messages are, byte for byte, messages an earlier call of its
// session sent. Their decoded form is kept, by a hash of their JSON text,
// until Reset (call it between sessions) or until it holds 64 MB of text.
// A Decoder is not safe for concurrent use.
type Decoder struct {
	seen     map[xxh3.Uint128]decoded
	size     int                     // bytes of JSON text behind seen
	toolsFor map[xxh3.Uint128][]byte // tools lists seen (the calls of an agent repeat one)
}

// decoded is a message as a Decoder keeps it.
type decoded struct {
	msg     chat.Message
	nonText int
}

// decoderBytes bounds the text behind a Decoder's messages.
const decoderBytes = 64 << 20

// Reset forgets the messages and tools lists seen.
func (d *Decoder) Reset() {
	clear(d.seen)
	clear(d.toolsFor)
	d.size = 0
}

// tools is chat.Tools, made once for each distinct list (the events share
// the result: it must not be changed).
func (d *Decoder) tools(raw []byte) ([]byte, error) {
	key := xxh3.Hash128(raw)
	if t, ok := d.toolsFor[key]; ok {
		return t, nil
	}
	t, err := chat.Tools(raw)
	if err != nil {
		return nil, err
	}
	if d.toolsFor == nil || len(d.toolsFor) >= 64 {
		d.toolsFor = map[xxh3.Uint128][]byte{}
	}
	d.toolsFor[key] = t
	return t, nil
}

// Parse is Parse for a line ParseHead accepted (which checked what the
// decoder does not: the escapes in members it skips), reusing the messages
// seen since Reset. The events it returns may share message values
// (contents, tool calls) with each other: they must not be changed.
func (d *Decoder) Parse(line []byte) (*Event, error) {
	if te, ok := d.scan(line); ok {
		if ev, ok := fromTyped(te, d.tools, func(l decodedList) ([]chat.Message, int, bool) { return l.msgs, l.nonText, true }); ok {
			return ev, nil
		}
	}
	return Parse(line)
}

// decodedList is a messages list as a Decoder decodes it: the messages
// (nil for null) and their parts without text.
type decodedList struct {
	msgs    []chat.Message
	nonText int
}

// list decodes the checked JSON list or null at b[at] as messages does,
// and returns the offset just past it.
func (d *Decoder) list(b []byte, at int) (decodedList, int, bool) {
	if b[at] == 'n' {
		return decodedList{}, valueEnd(b, at), true
	}
	if b[at] != '[' {
		return decodedList{}, 0, false
	}
	if d.seen == nil {
		d.seen = map[xxh3.Uint128]decoded{}
	}
	l := decodedList{msgs: []chat.Message{}}
	i := record.SkipSpace(b, at+1)
	if i < len(b) && b[i] == ']' {
		return l, i + 1, true
	}
	for {
		if i >= len(b) || b[i] != '{' {
			return decodedList{}, 0, false
		}
		end := objectEnd(b, i)
		elem := b[i:end]
		key := xxh3.Hash128(elem)
		m, ok := d.seen[key]
		if !ok {
			var om [1]chat.OpenAIMessage
			if jsondecode.TryExact(elem, &om[0]) != nil {
				return decodedList{}, 0, false
			}
			var st chat.Stats
			m = decoded{chat.FromOpenAIMessages(om[:], &st)[0], st.NonText}
			if d.size += len(elem); d.size > decoderBytes {
				d.Reset()
			}
			d.seen[key] = m
		}
		l.msgs = append(l.msgs, m.msg)
		l.nonText += m.nonText
		i = record.SkipSpace(b, end)
		if i >= len(b) {
			return decodedList{}, 0, false
		}
		switch b[i] {
		case ',':
			i = record.SkipSpace(b, i+1)
		case ']':
			return l, i + 1, true
		default:
			return decodedList{}, 0, false
		}
	}
}

// objectEnd returns the offset just past the JSON object or list at
// raw[i], which the decoder has checked: strings are skipped to their
// closing quote (found by bytes.IndexByte, which reads long contents
// fast), brackets counted outside them.
func objectEnd(raw []byte, i int) int {
	depth := 0
	for i < len(raw) {
		switch raw[i] {
		case '"':
			i = stringEnd(raw, i)
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return i + 1
			}
		}
		i++
	}
	return len(raw)
}

// stringEnd returns the offset just past the checked JSON string at
// raw[i] == '"'.
func stringEnd(raw []byte, i int) int {
	for i++; ; {
		j := bytes.IndexByte(raw[i:], '"')
		if j < 0 {
			return len(raw)
		}
		i += j
		n := 0 // backslashes before the quote: odd, it is escaped
		for k := i - 1; raw[k] == '\\'; k-- {
			n++
		}
		i++
		if n%2 == 0 {
			return i
		}
	}
}

// valueEnd returns the offset just past the checked JSON value at raw[i].
func valueEnd(raw []byte, i int) int {
	switch raw[i] {
	case '{', '[':
		return objectEnd(raw, i)
	case '"':
		return stringEnd(raw, i)
	}
	for i < len(raw) {
		switch raw[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// scan reads a line ParseHead accepted (so valid JSON) into the fields an
// event needs as decoding it into a typedEvent would: the members it needs
// found by skipping the others (strings to their closing quote), their
// values decoded as the decoder decodes them, the messages by list, each
// byte read once; the tools list is left as its JSON text (a slice of
// line). It says false where it might read otherwise than the decoder (a
// key with an escape or given twice, a payload that is not an object or
// null): the decoder then reads the line.
func (d *Decoder) scan(line []byte) (*typedEventOf[decodedList], bool) {
	te := &typedEventOf[decodedList]{}
	var seen uint
	_, ok := members(line, record.SkipSpace(line, 0), func(key []byte, at int) (int, bool) {
		var bit uint
		end, ok := 0, true
		switch string(key) {
		case `"event_type"`:
			bit = 1
			te.EventType, end, ok = anyAt(line, at)
		case `"session_id"`:
			bit = 2
			te.SessionID, end, ok = anyAt(line, at)
		case `"timestamp"`:
			bit = 4
			te.Timestamp, end, ok = anyAt(line, at)
		case `"latency_priority"`:
			bit = 8
			te.LatencyPriority, end, ok = anyAt(line, at)
		case `"latency_ms"`:
			bit = 16
			te.LatencyMs, end, ok = anyAt(line, at)
		case `"request_payload"`:
			bit = 32
			te.RequestPayload, end, ok = d.scanRequest(line, at)
		case `"response_payload"`:
			bit = 64
			te.ResponsePayload, end, ok = scanResponse(line, at)
		default:
			return valueEnd(line, at), true
		}
		if seen&bit != 0 {
			return 0, false // the decoder keeps the last of two: leave it to it
		}
		seen |= bit
		return end, ok
	})
	return te, ok
}

// scanRequest reads request_payload at b[at] for scan.
func (d *Decoder) scanRequest(b []byte, at int) (rp *struct {
	Model    any             `json:"model"`
	Messages decodedList     `json:"messages"`
	Tools    json.RawMessage `json:"tools"`
}, end int, ok bool) {
	switch b[at] {
	case 'n':
		return nil, valueEnd(b, at), true
	case '{':
	default:
		return nil, 0, false
	}
	rp = &struct {
		Model    any             `json:"model"`
		Messages decodedList     `json:"messages"`
		Tools    json.RawMessage `json:"tools"`
	}{}
	var seen uint
	end, ok = members(b, at, func(key []byte, at int) (int, bool) {
		var bit uint
		end, ok := 0, true
		switch string(key) {
		case `"model"`:
			bit = 1
			rp.Model, end, ok = anyAt(b, at)
		case `"messages"`:
			bit = 2
			rp.Messages, end, ok = d.list(b, at)
		case `"tools"`:
			bit = 4
			end = valueEnd(b, at)
			rp.Tools = b[at:end]
		default:
			return valueEnd(b, at), true
		}
		if seen&bit != 0 {
			return 0, false
		}
		seen |= bit
		return end, ok
	})
	return rp, end, ok
}

// scanResponse reads response_payload at b[at] for scan.
func scanResponse(b []byte, at int) (rp *struct {
	Usage any `json:"usage"`
}, end int, ok bool) {
	switch b[at] {
	case 'n':
		return nil, valueEnd(b, at), true
	case '{':
	default:
		return nil, 0, false
	}
	rp = &struct {
		Usage any `json:"usage"`
	}{}
	var seen bool
	end, ok = members(b, at, func(key []byte, at int) (int, bool) {
		if string(key) != `"usage"` {
			return valueEnd(b, at), true
		}
		if seen {
			return 0, false
		}
		seen = true
		var end int
		var ok bool
		rp.Usage, end, ok = anyAt(b, at)
		return end, ok
	})
	return rp, end, ok
}

// members calls fn with the raw key (quotes included) of each member of the
// checked JSON object at b[i] and the offset of its value; fn reads the
// value and returns the offset just past it. members returns the offset
// just past the object; false when fn does, or a key holds an escape (the
// decoder would match it unescaped).
func members(b []byte, i int, fn func(key []byte, at int) (int, bool)) (int, bool) {
	if i >= len(b) || b[i] != '{' {
		return 0, false
	}
	i = record.SkipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for i < len(b) && b[i] == '"' {
		end := stringEnd(b, i)
		key := b[i:end]
		if bytes.IndexByte(key, '\\') >= 0 {
			return 0, false
		}
		i = record.SkipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return 0, false
		}
		i = record.SkipSpace(b, i+1)
		if i >= len(b) {
			return 0, false
		}
		end, ok := fn(key, i)
		if !ok {
			return 0, false
		}
		i = record.SkipSpace(b, end)
		if i >= len(b) {
			return 0, false
		}
		switch b[i] {
		case ',':
			i = record.SkipSpace(b, i+1)
		case '}':
			return i + 1, true
		default:
			return 0, false
		}
	}
	return 0, false
}

// anyAt decodes the JSON value at b[at] as the decoder decodes it into an
// interface, and returns the offset just past it.
func anyAt(b []byte, at int) (any, int, bool) {
	end := valueEnd(b, at)
	v, ok := anyOf(b[at:end])
	return v, end, ok
}

// anyOf decodes a JSON value as the decoder decodes it into an interface.
func anyOf(v []byte) (any, bool) {
	var out any
	if jsondecode.TryExactString(unsafe.String(unsafe.SliceData(v), len(v)), &out) != nil {
		return nil, false
	}
	return out, true
}

// mergedMember reports whether a checked event line gives a member that the
// typed decoding reads into a struct or a list twice: request_payload,
// response_payload, or request_payload's messages. The decoder merges the
// second into what it read of the first, where Python's json (and the
// general path) keeps the second alone.
func mergedMember(line []byte) bool {
	merged := false
	requests, responses := 0, 0
	_, ok := members(line, record.SkipSpace(line, 0), func(key []byte, at int) (int, bool) {
		switch string(key) {
		case `"request_payload"`:
			requests++
			if line[at] == '{' {
				lists := 0
				end, ok := members(line, at, func(key []byte, at int) (int, bool) {
					if string(key) == `"messages"` {
						lists++
					}
					return valueEnd(line, at), true
				})
				merged = merged || lists > 1
				return end, ok
			}
		case `"response_payload"`:
			responses++
		}
		return valueEnd(line, at), true
	})
	// A key with an escape may spell one of them: the general path decides.
	return !ok || merged || requests > 1 || responses > 1
}
