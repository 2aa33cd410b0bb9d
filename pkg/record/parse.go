package record

import (
	"bytes"
	"fmt"
)

// SyntaxError is a JSON syntax error at a byte offset of the line.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at column %d: %s", e.Offset+1, e.Msg)
}

// Parse parses one JSON object into r, replacing its fields. The values in r
// are slices of line: they stay valid as long as line does. Parse checks that
// the whole line is valid JSON. A key that occurs twice keeps its first
// position and its last value, as jq does.
func Parse(line []byte, r *Record) error { return ParseWith(line, r, "", nil) }

// A ValueFunc reads the value that starts at line[start] and returns the
// offset just past it. It must return an error for anything that is not a
// valid JSON value (it may also refuse valid values it does not want).
type ValueFunc func(line []byte, start int) (end int, err error)

// ParseWith is Parse, except that the values of the member key are read by
// fn instead of Parse's own syntax check: a caller that decodes a large
// value anyway (trace-hash's input_ids) reads it once instead of twice.
// Errors of fn are returned as they are.
func ParseWith(line []byte, r *Record, key string, fn ValueFunc) error {
	r.Reset()
	i := SkipSpace(line, 0)
	if i >= len(line) {
		return &SyntaxError{i, "empty line"}
	}
	if line[i] != '{' {
		end, err := SkipValue(line, i)
		if err != nil {
			return err
		}
		if j := SkipSpace(line, end); j < len(line) {
			return &SyntaxError{j, "extra data after the value"}
		}
		return ErrNotObject
	}
	i = SkipSpace(line, i+1)
	if i < len(line) && line[i] == '}' {
		return trailing(line, i+1)
	}
	for {
		if i >= len(line) || line[i] != '"' {
			return &SyntaxError{i, "want a string key"}
		}
		kend, err := skipString(line, i)
		if err != nil {
			return err
		}
		k, err := DecodeString(line[i:kend])
		if err != nil {
			return &SyntaxError{i, err.Error()}
		}
		i = SkipSpace(line, kend)
		if i >= len(line) || line[i] != ':' {
			return &SyntaxError{i, "want ':' after a key"}
		}
		i = SkipSpace(line, i+1)
		var vend int
		if fn != nil && k == key {
			if vend, err = fn(line, i); err != nil {
				return err
			}
		} else if vend, err = SkipValue(line, i); err != nil {
			return err
		}
		r.Set(k, line[i:vend])
		i = SkipSpace(line, vend)
		if i >= len(line) {
			return &SyntaxError{i, "unexpected end of line inside an object"}
		}
		switch line[i] {
		case ',':
			i = SkipSpace(line, i+1)
		case '}':
			return trailing(line, i+1)
		default:
			return &SyntaxError{i, "want ',' or '}'"}
		}
	}
}

func trailing(line []byte, i int) error {
	if j := SkipSpace(line, i); j < len(line) {
		return &SyntaxError{j, "extra data after the object"}
	}
	return nil
}

// SkipSpace returns the offset of the first byte at or after b[i] that is
// not JSON white space.
func SkipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the offset just past the JSON string that starts at
// b[i] == '"'.
func skipString(b []byte, i int) (int, error) {
	start := i
	i++
	for i < len(b) {
		i = plainRun(b, i)
		if i >= len(b) {
			break
		}
		c := b[i]
		switch {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			if i+1 >= len(b) {
				return 0, &SyntaxError{i, "unterminated string"}
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex4(b[i+2:i+6]) {
					return 0, &SyntaxError{i, `bad \u escape`}
				}
				i += 6
			default:
				return 0, &SyntaxError{i, "bad escape in string"}
			}
		case c < 0x20:
			return 0, &SyntaxError{i, "control character in string"}
		default:
			i++
		}
	}
	return 0, &SyntaxError{start, "unterminated string"}
}

// CheckEscapes returns an error for the first backslash escape of b that
// JSON does not allow, wherever it lies: for a reader whose decoder skips
// members without checking their escapes (sonic), where Python's json
// refuses the line.
func CheckEscapes(b []byte) error {
	for i := 0; ; {
		// The next backslash: IndexByte's vector loop wins even with an
		// escape every 50-odd bytes, as chat text has them.
		j := bytes.IndexByte(b[i:], '\\')
		if j < 0 {
			return nil
		}
		i += j
		if i+1 >= len(b) {
			return fmt.Errorf("invalid JSON at byte %d: a backslash ends the line", i)
		}
		switch c := b[i+1]; c {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
		case 'u':
			if i+6 > len(b) || !isHex4(b[i+2:i+6]) {
				return fmt.Errorf("invalid JSON at byte %d: \\u wants four hex digits", i)
			}
			i += 6
		default:
			return fmt.Errorf("invalid JSON at byte %d: invalid escape \\%c in a string", i, c)
		}
	}
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// skipNumber returns the offset just past the JSON number at b[i].
func skipNumber(b []byte, i int) (int, error) {
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		return 0, &SyntaxError{start, "bad number"}
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, &SyntaxError{start, "bad number"}
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, &SyntaxError{start, "bad number"}
		}
	}
	return i, nil
}

func skipLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, &SyntaxError{i, "invalid value"}
	}
	return i + len(lit), nil
}

// SkipValue returns the offset just past the JSON value that starts at b[i],
// checking its syntax. It is iterative, so deep nesting costs memory, not stack.
func SkipValue(b []byte, i int) (int, error) {
	var stack []byte // '{' or '['
	for {
		// A value starts here.
		if i >= len(b) {
			return 0, &SyntaxError{i, "unexpected end of line, want a value"}
		}
		var err error
		switch c := b[i]; {
		case c == '{' || c == '[':
			stack = append(stack, c)
			i = SkipSpace(b, i+1)
			if i < len(b) && (c == '{' && b[i] == '}' || c == '[' && b[i] == ']') {
				stack = stack[:len(stack)-1]
				i++
				break
			}
			if c == '{' {
				if i, err = objectKey(b, i); err != nil {
					return 0, err
				}
			}
			continue
		case c == '"':
			i, err = skipString(b, i)
		case '1' <= c && c <= '9':
			// Fast path for a plain integer (token ids come by the million).
			j := i + 1
			for j < len(b) && '0' <= b[j] && b[j] <= '9' {
				j++
			}
			if j < len(b) && (b[j] == '.' || b[j] == 'e' || b[j] == 'E') {
				i, err = skipNumber(b, i)
			} else {
				i = j
			}
		case c == '-' || c == '0':
			i, err = skipNumber(b, i)
		case c == 't':
			i, err = skipLiteral(b, i, "true")
		case c == 'f':
			i, err = skipLiteral(b, i, "false")
		case c == 'n':
			i, err = skipLiteral(b, i, "null")
		default:
			return 0, &SyntaxError{i, "invalid value"}
		}
		if err != nil {
			return 0, err
		}
		// After a value: close containers or move to the next element.
		for {
			if len(stack) == 0 {
				return i, nil
			}
			i = SkipSpace(b, i)
			if i >= len(b) {
				return 0, &SyntaxError{i, "unexpected end of line inside a value"}
			}
			top := stack[len(stack)-1]
			if b[i] == ',' {
				i = SkipSpace(b, i+1)
				if top == '{' {
					if i, err = objectKey(b, i); err != nil {
						return 0, err
					}
				}
				break
			}
			if top == '{' && b[i] == '}' || top == '[' && b[i] == ']' {
				stack = stack[:len(stack)-1]
				i++
				continue
			}
			return 0, &SyntaxError{i, "want ',' or a closing bracket"}
		}
	}
}

// objectKey skips `"key" :` and the space after it.
func objectKey(b []byte, i int) (int, error) {
	if i >= len(b) || b[i] != '"' {
		return 0, &SyntaxError{i, "want a string key"}
	}
	i, err := skipString(b, i)
	if err != nil {
		return 0, err
	}
	i = SkipSpace(b, i)
	if i >= len(b) || b[i] != ':' {
		return 0, &SyntaxError{i, "want ':' after a key"}
	}
	return SkipSpace(b, i+1), nil
}
