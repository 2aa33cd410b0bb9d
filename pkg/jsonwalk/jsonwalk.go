// Package jsonwalk finds where JSON values end without decoding or checking
// them, for readers that need a few members of a large value and leave the
// checking to a decoder (before or after): strings are skipped to their
// closing quote with bytes.IndexByte, which reads long contents fast, and
// brackets are counted outside them. On text that is not JSON it returns
// ErrSyntax or a wrong end, never reads out of bounds.
package jsonwalk

import (
	"bytes"
	"errors"
	"fmt"
)

// ErrSyntax reports text that is not the JSON a function expected.
var ErrSyntax = errors.New("malformed JSON")

// SkipSpace returns the offset of the first byte at or after b[i] that is
// not JSON white space.
func SkipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// Value returns the offset just past the JSON value that starts at b[i].
func Value(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, ErrSyntax
	}
	switch b[i] {
	case '"':
		return String(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end, err := String(b, i)
				if err != nil {
					return 0, err
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
			i++
		}
		return 0, ErrSyntax
	}
	// A number, true, false or null: up to the next delimiter.
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\r' && b[j] != '\t' {
		j++
	}
	if j == i {
		return 0, ErrSyntax
	}
	return j, nil
}

// String returns the offset just past the JSON string that starts at
// b[i] == '"'.
func String(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			break
		}
		j += k
		n := 0 // backslashes before the quote: odd, it is escaped
		for p := j - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return j + 1, nil
		}
		j++
	}
	return 0, ErrSyntax
}

// Members calls fn with each member of the object at b[i]: its key as
// written, without the quotes (escapes are not decoded), and where its
// value starts; fn returns where the value ends. Members returns the
// object's end. Anything but an object there is an error.
func Members(b []byte, i int, fn func(key []byte, vs int) (int, error)) (int, error) {
	if i >= len(b) || b[i] != '{' {
		return 0, fmt.Errorf("%w: want an object", ErrSyntax)
	}
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, ErrSyntax
		}
		ke, err := String(b, i)
		if err != nil {
			return 0, err
		}
		key := b[i+1 : ke-1]
		i = SkipSpace(b, ke)
		if i >= len(b) || b[i] != ':' {
			return 0, ErrSyntax
		}
		ve, err := fn(key, SkipSpace(b, i+1))
		if err != nil {
			return 0, err
		}
		var done bool
		if i, done, err = after(b, ve, '}'); err != nil || done {
			return i, err
		}
	}
}

// Elements calls fn with where each element of the array at b[i] starts
// (fn returns where it ends) and returns the array's end. null counts as
// an empty array; anything else but an array is an error.
func Elements(b []byte, i int, fn func(vs int) (int, error)) (int, error) {
	if i >= len(b) {
		return 0, ErrSyntax
	}
	if bytes.HasPrefix(b[i:], []byte("null")) {
		return i + 4, nil
	}
	if b[i] != '[' {
		return 0, fmt.Errorf("%w: want an array", ErrSyntax)
	}
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		ve, err := fn(i)
		if err != nil {
			return 0, err
		}
		var done bool
		if i, done, err = after(b, ve, ']'); err != nil || done {
			return i, err
		}
	}
}

// after reads what follows a member or element ending at b[end]: a comma
// (it returns where the next one starts) or the closing byte close (it
// returns the offset past it, and done).
func after(b []byte, end int, close byte) (next int, done bool, err error) {
	i := SkipSpace(b, end)
	switch {
	case i < len(b) && b[i] == ',':
		return SkipSpace(b, i+1), false, nil
	case i < len(b) && b[i] == close:
		return i + 1, true, nil
	}
	return 0, false, ErrSyntax
}
