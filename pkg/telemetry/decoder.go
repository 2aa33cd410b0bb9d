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
	var te typedEventOf[json.RawMessage]
	if jsondecode.TryExactString(unsafe.String(unsafe.SliceData(line), len(line)), &te) == nil {
		if ev, ok := fromTyped(&te, d.tools, d.messages); ok {
			return ev, nil
		}
	}
	return Parse(line)
}

// messages decodes the JSON text of a messages list as decoding it into
// []chat.OpenAIMessage would, each element not seen before on its own; it
// says false where that decoding fails (an element that is not an object).
func (d *Decoder) messages(raw json.RawMessage) ([]chat.Message, int, bool) {
	switch rawKind(raw) {
	case "", "null":
		return nil, 0, true
	case "a list":
	default:
		return nil, 0, false
	}
	if d.seen == nil {
		d.seen = map[xxh3.Uint128]decoded{}
	}
	out := []chat.Message{}
	nonText := 0
	i := record.SkipSpace(raw, record.SkipSpace(raw, 0)+1)
	if i < len(raw) && raw[i] == ']' {
		return out, 0, true
	}
	for {
		if i >= len(raw) || raw[i] != '{' {
			return nil, 0, false
		}
		end := objectEnd(raw, i)
		elem := raw[i:end]
		key := xxh3.Hash128(elem)
		m, ok := d.seen[key]
		if !ok {
			var om [1]chat.OpenAIMessage
			if jsondecode.TryExact(elem, &om[0]) != nil {
				return nil, 0, false
			}
			var st chat.Stats
			m = decoded{chat.FromOpenAIMessages(om[:], &st)[0], st.NonText}
			if d.size += len(elem); d.size > decoderBytes {
				d.Reset()
			}
			d.seen[key] = m
		}
		out = append(out, m.msg)
		nonText += m.nonText
		i = record.SkipSpace(raw, end)
		if i >= len(raw) {
			return nil, 0, false
		}
		switch raw[i] {
		case ',':
			i = record.SkipSpace(raw, i+1)
		case ']':
			return out, nonText, true
		default:
			return nil, 0, false
		}
	}
}

// objectEnd returns the offset just past the JSON object at raw[i], which
// the decoder has checked: strings are skipped to their closing quote
// (found by bytes.IndexByte, which reads long contents fast), brackets
// counted outside them.
func objectEnd(raw []byte, i int) int {
	depth := 0
	for i < len(raw) {
		switch raw[i] {
		case '"':
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
					break
				}
			}
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
