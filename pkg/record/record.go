// Package record defines the record that the trace-* commands pass to each
// other, one JSON object per line, and the contract they keep:
//
//   - Each stage adds or consumes the fields it owns and passes every other
//     field through unchanged, so fields that a user adds between stages
//     (for example with jq) survive to the end of the pipeline.
//   - Fields keep their order; a stage that adds a field appends it, or
//     replaces the value in place when the field is already there.
//   - Output is compact UTF-8 JSON: no insignificant white space, non-ASCII
//     characters written as themselves (never \u escapes), no HTML escaping.
//
// The fields, and the stage that produces each:
//
//	trace-extract   session_id, request, model, function, priority, delay,
//	                output_length, prompt_tokens, start_ms, end_ms,
//	                timestamp_raw, latency_ms, source, messages, tools
//	trace-classify  agent_type, priority
//	trace-tokenize  input_ids, input_length, tokenizer (drops messages
//	                and tools unless --messages keeps them)
//	trace-hash      hash_ids; emits the final Mooncake row
//
// A Record keeps each value as raw JSON, so passing a field through costs no
// decoding and changes no byte of it.
package record

import (
	"errors"
	"fmt"
	"strconv"
)

// Field is one member of a record: its key and its value as raw JSON.
type Field struct {
	Key   string
	Value []byte
}

// Record is a JSON object whose members are kept in order, values as raw
// JSON. The zero value is an empty record.
type Record struct {
	Fields []Field
}

// Get returns the raw JSON value of key and whether the key is present.
func (r *Record) Get(key string) ([]byte, bool) {
	for i := range r.Fields {
		if r.Fields[i].Key == key {
			return r.Fields[i].Value, true
		}
	}
	return nil, false
}

// Set sets key to the raw JSON value: in place when the key is present,
// appended at the end otherwise. The record keeps a reference to value.
func (r *Record) Set(key string, value []byte) {
	for i := range r.Fields {
		if r.Fields[i].Key == key {
			r.Fields[i].Value = value
			return
		}
	}
	r.Fields = append(r.Fields, Field{Key: key, Value: value})
}

// SetString sets key to the JSON string s.
func (r *Record) SetString(key, s string) { r.Set(key, AppendString(nil, s)) }

// SetInt sets key to the JSON number n.
func (r *Record) SetInt(key string, n int64) { r.Set(key, strconv.AppendInt(nil, n, 10)) }

// Delete removes key if present.
func (r *Record) Delete(key string) {
	for i := range r.Fields {
		if r.Fields[i].Key == key {
			r.Fields = append(r.Fields[:i], r.Fields[i+1:]...)
			return
		}
	}
}

// Reset empties the record, keeping its storage.
func (r *Record) Reset() { r.Fields = r.Fields[:0] }

// AppendJSON appends the record as one compact JSON object to dst.
func (r *Record) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	for i, f := range r.Fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, f.Key)
		dst = append(dst, ':')
		dst = append(dst, f.Value...)
	}
	return append(dst, '}')
}

// String returns the value of key as a Go string. ok is false when the key
// is absent or null; err is set when the value is not a JSON string.
func (r *Record) String(key string) (s string, ok bool, err error) {
	v, present := r.Get(key)
	if !present || isNull(v) {
		return "", false, nil
	}
	s, err = DecodeString(v)
	if err != nil {
		return "", false, fmt.Errorf("field %q: %w", key, err)
	}
	return s, true, nil
}

// Int returns the value of key as an int64. ok is false when the key is
// absent or null; err is set when the value is not an integer that fits in
// an int64.
func (r *Record) Int(key string) (n int64, ok bool, err error) {
	v, present := r.Get(key)
	if !present || isNull(v) {
		return 0, false, nil
	}
	n, err = strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("field %q: want an integer, got %s", key, abbrev(v))
	}
	return n, true, nil
}

func isNull(v []byte) bool { return string(v) == "null" }

// abbrev shortens a raw value for an error message.
func abbrev(v []byte) string {
	const max = 40
	if len(v) <= max {
		return string(v)
	}
	return string(v[:max]) + "..."
}

// ErrNotObject is returned by Parse for a line that is valid JSON but not an
// object.
var ErrNotObject = errors.New("not a JSON object: each line must be one record {...}")
