package telemetry

import (
	"bytes"
	"encoding/json"
	"errors"
	"unsafe"

	"github.com/zeebo/xxh3"

	"github.com/agent-trace/agent-trace/pkg/chat"
	"github.com/agent-trace/agent-trace/pkg/jsondecode"
	"github.com/agent-trace/agent-trace/pkg/jsonwalk"
	"github.com/agent-trace/agent-trace/pkg/record"
)

// A Decoder parses events as Parse does, decoding each distinct message
// once: the calls of an agent repeat its conversation so far, so most of
// a call's messages are, byte for byte, messages an earlier call of its
// session sent. Their decoded form is kept, by a hash of their JSON text,
// until Reset (call it between sessions) or until it holds 64 MB of text;
// the last 8 messages lists (at most 8 MB each) are kept whole, so that a
// list's first elements, the same bytes as one of them, are taken as
// they are. A Decoder is not safe for concurrent use.
type Decoder struct {
	seen     map[xxh3.Uint128]decoded
	size     int                     // bytes of JSON text behind seen
	toolsFor map[xxh3.Uint128][]byte // tools lists seen (the calls of an agent repeat one)
	lastLen  int                     // messages in the last list decoded
	// The last lists decoded, kept whole so that a list can take the
	// elements it shares, byte for byte, with the start of one of them
	// without walking or hashing them again; next is the slot the next
	// list not continuing one goes to, spare a list's storage.
	lists [keptLists]keptList
	next  int
	spare keptList
	hash  *xxh3.Hasher // for the messages' keys
}

// keptLists is how many lists a Decoder keeps: the agents of a session
// interleave, and each call continues its own agent's last one.
const keptLists = 8

// keptMax is the longest list a Decoder keeps (longer ones are decoded
// as they come), so that the lists kept hold at most 64 MB.
var keptMax = 8 << 20

// A keptList is a messages list a Decoder decoded: its JSON text and, for
// each element, where it ends in it and what it decoded to.
type keptList struct {
	raw  []byte
	ends []int
	msgs []decoded
}

// decoded is a message as a Decoder keeps it.
type decoded struct {
	msg     chat.Message
	nonText int
	key     xxh3.Uint128 // msg.Key
}

// decoderBytes bounds the text behind a Decoder's messages.
const decoderBytes = 64 << 20

// Reset forgets the messages and tools lists seen.
func (d *Decoder) Reset() {
	clear(d.seen)
	clear(d.toolsFor)
	d.size = 0
	for i := range d.lists {
		d.lists[i].reset()
	}
}

func (k *keptList) reset() {
	k.raw, k.ends, k.msgs = k.raw[:0], k.ends[:0], k.msgs[:0]
}

// commonPrefix returns the length of the longest common prefix of a and b.
func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for i+64 <= n && bytes.Equal(a[i:i+64], b[i:i+64]) {
		i += 64
	}
	for i < n && a[i] == b[i] {
		i++
	}
	return i
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
	if te, err := d.scan(line); err == nil {
		var keys []xxh3.Uint128
		if ev, ok := fromTyped(te, d.tools, func(l decodedList) ([]chat.Message, int, bool) {
			keys = l.keys
			return l.msgs, l.nonText, true
		}); ok {
			if len(keys) == len(ev.Messages) {
				ev.MessageKeys = keys
			}
			return ev, nil
		}
	}
	return Parse(line)
}

// decodedList is a messages list as a Decoder decodes it: the messages
// (nil for null) and their parts without text.
type decodedList struct {
	msgs    []chat.Message
	keys    []xxh3.Uint128 // msgs' keys
	nonText int
}

// errLeave stops a scan that leaves the line to Parse.
var errLeave = errors.New("telemetry: left to the decoder")

// list decodes the checked JSON list or null at b[at] as decoding it into
// []chat.OpenAIMessage would, each element not seen before on its own, and
// returns the offset just past it; an element that is not an object (where
// that decoding fails) gives errLeave.
func (d *Decoder) list(b []byte, at int) (decodedList, int, error) {
	if b[at] == 'n' {
		end, err := jsonwalk.Value(b, at)
		return decodedList{}, end, err
	}
	if d.seen == nil {
		d.seen = map[xxh3.Uint128]decoded{}
	}
	// The kept list this one shares the most bytes with from the start:
	// its elements that end within those bytes are this list's first
	// elements, where they are (the same text after the same text).
	var from *keptList
	shared := 0
	for k := range d.lists {
		if n := commonPrefix(b[at:], d.lists[k].raw); n > shared {
			from, shared = &d.lists[k], n
		}
	}
	// Room for as many messages as the last list had, and a few: a call
	// repeats its agent's conversation and adds to it.
	l := decodedList{msgs: make([]chat.Message, 0, d.lastLen+8), keys: make([]xxh3.Uint128, 0, d.lastLen+8)}
	if d.hash == nil {
		d.hash = xxh3.New()
	}
	kl := &d.spare
	kl.reset()
	end, err := jsonwalk.Elements(b, at, func(i int) (int, error) {
		if k := len(kl.msgs); from != nil && k < len(from.msgs) && from.ends[k] <= shared {
			m := from.msgs[k]
			l.msgs, l.keys = append(l.msgs, m.msg), append(l.keys, m.key)
			l.nonText += m.nonText
			kl.ends, kl.msgs = append(kl.ends, from.ends[k]), append(kl.msgs, m)
			return at + from.ends[k], nil
		}
		if b[i] != '{' {
			return 0, errLeave
		}
		end, err := jsonwalk.Value(b, i)
		if err != nil {
			return 0, err
		}
		elem := b[i:end]
		key := xxh3.Hash128(elem)
		m, ok := d.seen[key]
		if !ok {
			// Decoded where it is, not from a copy: the strings are copied
			// (jsondecode's CopyString), and FromOpenAIMessages keeps no
			// json.Number of om.
			var om [1]chat.OpenAIMessage
			if jsondecode.TryExactString(unsafe.String(unsafe.SliceData(elem), len(elem)), &om[0]) != nil {
				return 0, errLeave
			}
			var st chat.Stats
			msg := chat.FromOpenAIMessages(om[:], &st)[0]
			m = decoded{msg, st.NonText, msg.Key(d.hash)}
			if d.size += len(elem); d.size > decoderBytes {
				d.Reset()
				from = nil // its messages may go: take none from it
			}
			d.seen[key] = m
		}
		l.msgs, l.keys = append(l.msgs, m.msg), append(l.keys, m.key)
		l.nonText += m.nonText
		kl.ends, kl.msgs = append(kl.ends, end-at), append(kl.msgs, m)
		return end, nil
	})
	d.lastLen = len(l.msgs)
	if err == nil && end-at <= keptMax {
		// Keep the list: in place of the one it continues (all of whose
		// elements it took), else of the oldest.
		kl.raw = append(kl.raw, b[at:end]...)
		slot := &d.lists[d.next]
		if from != nil && len(from.msgs) > 0 && from.ends[len(from.msgs)-1] <= shared {
			slot = from
		} else {
			d.next = (d.next + 1) % keptLists
		}
		*slot, d.spare = *kl, *slot
	}
	return l, end, err
}

// scan reads a line ParseHead accepted (so valid JSON) into the fields an
// event needs as decoding it into a typedEvent would: the members it needs
// found by skipping the others (jsonwalk), their values decoded as the
// decoder decodes them, the messages by list, each byte read once; the
// tools list is left as its JSON text (a slice of line). It gives errLeave
// where it might read otherwise than the decoder (a key with an escape or
// given twice, a payload that is not an object or null).
func (d *Decoder) scan(line []byte) (*typedEventOf[decodedList], error) {
	te := &typedEventOf[decodedList]{}
	scalars := [...]struct {
		key string
		v   *any
	}{{"event_type", &te.EventType}, {"session_id", &te.SessionID}, {"timestamp", &te.Timestamp},
		{"latency_priority", &te.LatencyPriority}, {"latency_ms", &te.LatencyMs}}
	var stack [16][]byte // room for the keys of most objects
	seen := keys(stack[:0])
	_, err := jsonwalk.Members(line, jsonwalk.SkipSpace(line, 0), func(key []byte, at int) (int, error) {
		if err := seen.add(key); err != nil {
			return 0, err
		}
		for _, f := range scalars {
			if string(key) == f.key {
				return anyAt(line, at, f.v)
			}
		}
		switch string(key) {
		case "request_payload":
			return payload(line, at, &te.RequestPayload, func(rp *struct {
				Model    any             `json:"model"`
				Messages decodedList     `json:"messages"`
				Tools    json.RawMessage `json:"tools"`
			}, key []byte, at int) (int, error) {
				switch string(key) {
				case "model":
					return anyAt(line, at, &rp.Model)
				case "messages":
					var end int
					var err error
					rp.Messages, end, err = d.list(line, at)
					return end, err
				case "tools":
					end, err := jsonwalk.Value(line, at)
					rp.Tools = line[at:end]
					return end, err
				}
				return jsonwalk.Value(line, at)
			})
		case "response_payload":
			return payload(line, at, &te.ResponsePayload, func(rp *struct {
				Usage any `json:"usage"`
			}, key []byte, at int) (int, error) {
				if string(key) == "usage" {
					return objectAt(line, at, &rp.Usage)
				}
				return jsonwalk.Value(line, at)
			})
		}
		return jsonwalk.Value(line, at)
	})
	return te, err
}

// payload reads the checked object or null at b[at] into *p (nil for
// null), member by member with read; anything else gives errLeave.
func payload[T any](b []byte, at int, p **T, read func(v *T, key []byte, at int) (int, error)) (int, error) {
	switch b[at] {
	case 'n':
		return jsonwalk.Value(b, at)
	case '{':
	default:
		return 0, errLeave
	}
	*p = new(T)
	var stack [16][]byte // room for the keys of most objects
	seen := keys(stack[:0])
	return jsonwalk.Members(b, at, func(key []byte, at int) (int, error) {
		if err := seen.add(key); err != nil {
			return 0, err
		}
		return read(*p, key, at)
	})
}

// keys are the keys of an object read so far.
type keys [][]byte

// add notes key, or gives errLeave for a key given before (the decoder
// keeps the last of two, or merges them) or holding an escape (the decoder
// matches it unescaped).
func (k *keys) add(key []byte) error {
	if bytes.IndexByte(key, '\\') >= 0 {
		return errLeave
	}
	for _, seen := range *k {
		if bytes.Equal(seen, key) {
			return errLeave
		}
	}
	*k = append(*k, key)
	return nil
}

// objectAt is anyAt for a value that is usually a small object of
// scalars (a usage object): it builds the map itself, each member by
// anyAt (the last of a key given twice wins, as with the decoder); an
// object with an escaped key, and anything else, goes to anyAt.
func objectAt(b []byte, at int, v *any) (int, error) {
	if b[at] != '{' {
		return anyAt(b, at, v)
	}
	m := map[string]any{}
	end, err := jsonwalk.Members(b, at, func(key []byte, vs int) (int, error) {
		if bytes.IndexByte(key, '\\') >= 0 {
			return 0, errLeave
		}
		var mv any
		end, err := anyAt(b, vs, &mv)
		m[string(key)] = mv
		return end, err
	})
	if err == errLeave {
		return anyAt(b, at, v)
	}
	*v = m
	return end, err
}

// anyAt decodes the JSON value at b[at] into *v as the decoder decodes it
// into an interface, and returns the offset just past it.
func anyAt(b []byte, at int, v *any) (int, error) {
	// Scalars here, as the decoder gives them (a string unquoted alike,
	// lone surrogates included; a number as its json.Number text, copied);
	// objects and lists by the decoder.
	switch c := b[at]; {
	case c == '"':
		s, end, err := record.AppendUnquote(nil, b, at)
		if err != nil {
			return 0, err
		}
		*v = unsafe.String(unsafe.SliceData(s), len(s)) // s is its own
		return end, nil
	case c == 'n' || c == 't' || c == 'f' || c == '-' || '0' <= c && c <= '9':
		end, err := jsonwalk.Value(b, at)
		if err != nil {
			return 0, err
		}
		switch c {
		case 'n':
			*v = nil
		case 't':
			*v = true
		case 'f':
			*v = false
		default:
			*v = json.Number(string(b[at:end]))
		}
		return end, nil
	}
	end, err := jsonwalk.Value(b, at)
	if err != nil {
		return 0, err
	}
	return end, jsondecode.TryExactString(unsafe.String(unsafe.SliceData(b[at:]), end-at), v)
}

// mergedMember reports whether a checked event line has a key given twice
// or written with an escape, at its top or in its request_payload: the
// typed decoding merges a struct or list given twice (request_payload,
// response_payload, request_payload's messages) into what it read of the
// first, where Python's json (and the general path) keeps the second
// alone, and matches a key with an escape unescaped. The general path
// reads such lines.
func mergedMember(line []byte) bool {
	var top keys
	_, err := jsonwalk.Members(line, jsonwalk.SkipSpace(line, 0), func(key []byte, at int) (int, error) {
		if err := top.add(key); err != nil {
			return 0, err
		}
		if string(key) == "request_payload" && line[at] == '{' {
			var inner keys
			return jsonwalk.Members(line, at, func(key []byte, at int) (int, error) {
				if err := inner.add(key); err != nil {
					return 0, err
				}
				return jsonwalk.Value(line, at)
			})
		}
		return jsonwalk.Value(line, at)
	})
	return err != nil
}
