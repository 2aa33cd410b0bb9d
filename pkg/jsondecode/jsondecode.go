// Package jsondecode decodes JSON input with sonic and, when that fails,
// explains the error in terms of the input: sonic's own messages are terse
// and span several lines, so the input is decoded again with encoding/json,
// whose errors name the field and the offset. This costs nothing on the
// good path.
package jsondecode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unsafe"

	"github.com/bytedance/sonic"
)

// Config is the sonic configuration the input readers use: strings are
// copied out of the input buffer (which readers reuse) and numbers kept
// exact as json.Number.
var Config = sonic.Config{CopyString: true, UseNumber: true}.Froze()

// Unmarshal decodes data into v. NaN, Infinity and -Infinity, which
// Python's json module writes, are read as null. On failure the error says
// what is wrong with data, in one line.
func Unmarshal(data []byte, v any) error {
	return unmarshal(data, v, Config.Unmarshal)
}

// exact is Config with object keys matched exactly, as Python's dicts (and
// generic decoding into maps) match them.
var exact = sonic.Config{CopyString: true, UseNumber: true, CaseSensitive: true}.Froze()

// UnmarshalExact is Unmarshal for a struct whose fields must match the
// object's keys exactly: {"Content": ...} is not the field "content".
func UnmarshalExact(data []byte, v any) error {
	return unmarshal(data, v, exact.Unmarshal)
}

// TryExact decodes data into v as UnmarshalExact does, without explaining
// a failure (the caller has another way to read data): it is as fast on
// failure as on success.
func TryExact(data []byte, v any) error {
	return exact.Unmarshal(data, v)
}

// TryExactString is TryExact for JSON text held in a string, read where
// it is (no copy of it is made first).
func TryExactString(data string, v any) error {
	return exact.UnmarshalFromString(data, v)
}

// UnmarshalTransient is Unmarshal without the copy of the whole of data
// that sonic makes first (for a NAT request of megabytes, that copy and its
// fresh pages cost more than the decoding). data must not change during the
// call, and json.Number values in v share its memory: a caller that keeps
// one after data is reused must copy it (strings.Clone). Strings are copied
// as with Unmarshal.
func UnmarshalTransient(data []byte, v any) error {
	return unmarshal(data, v, func(data []byte, v any) error {
		return Config.UnmarshalFromString(unsafe.String(unsafe.SliceData(data), len(data)), v)
	})
}

// UnmarshalExactTransient is UnmarshalExact without the copy of the whole
// of data, with UnmarshalTransient's terms: json.Number values share
// data's memory.
func UnmarshalExactTransient(data []byte, v any) error {
	return unmarshal(data, v, func(data []byte, v any) error {
		return exact.UnmarshalFromString(unsafe.String(unsafe.SliceData(data), len(data)), v)
	})
}

// TryTransient is UnmarshalTransient without explaining a failure, or
// reading NaN and Infinity: for a caller with another way to read data
// when this one fails.
func TryTransient(data []byte, v any) error {
	return Config.UnmarshalFromString(unsafe.String(unsafe.SliceData(data), len(data)), v)
}

func unmarshal(data []byte, v any, decode func([]byte, any) error) error {
	err := decode(data, v)
	if err != nil {
		if fixed, ok := ReplaceNonFinite(data); ok {
			data = fixed
			err = decode(data, v)
		}
	}
	if err != nil {
		return errors.New(Describe(data, v, err))
	}
	return nil
}

// ReplaceNonFinite returns data with the tokens NaN, Infinity and -Infinity
// outside strings replaced by null, and whether it found any.
func ReplaceNonFinite(data []byte) ([]byte, bool) {
	var out []byte
	prev := 0
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '"':
			for i++; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++
				}
			}
		case 'N', 'I', '-':
			for _, tok := range []string{"NaN", "Infinity", "-Infinity"} {
				if bytes.HasPrefix(data[i:], []byte(tok)) {
					out = append(append(out, data[prev:i]...), "null"...)
					i += len(tok) - 1
					prev = i + 1
					break
				}
			}
		}
	}
	if out == nil {
		return data, false
	}
	return append(out, data[prev:]...), true
}

// Describe explains err, which sonic returned for data, in one line.
func Describe(data []byte, v any, err error) string {
	d := json.NewDecoder(strings.NewReader(string(data)))
	d.UseNumber()
	err2 := d.Decode(v)
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err2, &te):
		if te.Field == "" {
			return fmt.Sprintf("the value is %s, want %s", article(te.Value), kind(te.Type))
		}
		return fmt.Sprintf("field %q is %s, want %s", te.Field, article(te.Value), kind(te.Type))
	case errors.Is(err2, io.ErrUnexpectedEOF):
		return "the JSON ends too early (truncated?)"
	case errors.As(err2, &se):
		return fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se)
	case err2 != nil:
		return err2.Error()
	}
	return strings.SplitN(err.Error(), "\n", 2)[0]
}

func article(jsonType string) string {
	switch jsonType {
	case "object", "array":
		return "an " + jsonType
	case "":
		return "a value"
	}
	return "a " + jsonType
}

// kind names the JSON kind that decodes into t.
func kind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Pointer:
		return kind(t.Elem())
	}
	return "a number"
}

// Count reads a token count from a decoded value (decoded with Config, so
// numbers are json.Number): absent and null give ok=false; a number must be
// a whole number, not negative, that fits in an int64.
func Count(v any) (n int64, ok bool, err error) {
	switch v := v.(type) {
	case nil:
		return 0, false, nil
	case json.Number:
		if i, err := strconv.ParseInt(v.String(), 10, 64); err == nil && i >= 0 {
			return i, true, nil
		}
		if f, err := v.Float64(); err == nil && f >= 0 && f == math.Trunc(f) && f < 1<<63 {
			return int64(f), true, nil
		}
		return 0, false, fmt.Errorf("want a whole number of tokens, got %s", v)
	}
	return 0, false, fmt.Errorf("want a number, got %s", Kind(v))
}

// Kind names the JSON type of a decoded value, for error messages.
func Kind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return "null"
}
