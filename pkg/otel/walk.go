package otel

import (
	"bytes"
	"errors"
	"fmt"
)

// An OTLP export request holds its spans deep inside
// (resourceSpans[].scopeSpans[].spans[]). To read one span again later
// (trace-extract's second pass) without decoding its whole request, the
// first pass notes where each span lies. The walker below finds that by
// the JSON's structure alone; sonic decodes (and checks) each span.

// spanLoc is where a span lies in a top-level value, and the index of its
// resource's attributes in the value's resources.
type spanLoc struct {
	start, end int
	resource   int
}

// locateSpans returns the spans of an export request, in order, and the
// byte ranges of its resources' attributes ([0, 0] when a resource has
// none); request is false when b has no "resourceSpans" (a span alone).
// Each byte is scanned once: a value the walk goes into is not skipped
// first.
func locateSpans(b []byte) (spans []spanLoc, resources [][2]int, request bool, err error) {
	_, err = members(b, skipWS(b, 0), func(key []byte, vs int) (int, error) {
		if string(key) != "resourceSpans" {
			return skipValue(b, vs)
		}
		request = true
		return elements(b, vs, func(rs int) (int, error) {
			res := len(resources)
			resources = append(resources, [2]int{})
			return members(b, rs, func(key []byte, vs int) (int, error) {
				switch string(key) {
				case "resource":
					if bytes.HasPrefix(b[vs:], []byte("null")) {
						return vs + 4, nil
					}
					return members(b, vs, func(key []byte, as int) (int, error) {
						ae, err := skipValue(b, as)
						if string(key) == "attributes" {
							resources[res] = [2]int{as, ae}
						}
						return ae, err
					})
				case "scopeSpans", "instrumentationLibrarySpans":
					return elements(b, vs, func(ss int) (int, error) {
						return members(b, ss, func(key []byte, vs int) (int, error) {
							if string(key) != "spans" {
								return skipValue(b, vs)
							}
							return elements(b, vs, func(s int) (int, error) {
								e, err := skipValue(b, s)
								spans = append(spans, spanLoc{s, e, res})
								return e, err
							})
						})
					})
				}
				return skipValue(b, vs)
			})
		})
	})
	return spans, resources, request, err
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

var errSyntax = errors.New("malformed JSON")

// skipValue returns the end of the JSON value that starts at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errSyntax
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end, err := skipString(b, i)
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
		return 0, errSyntax
	}
	// A number, true, false or null: up to the next delimiter.
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\r' && b[j] != '\t' {
		j++
	}
	if j == i {
		return 0, errSyntax
	}
	return j, nil
}

// skipString returns the end of the JSON string that starts at b[i].
func skipString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			break
		}
		j += k
		n := 0
		for p := j - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return j + 1, nil
		}
		j++
	}
	return 0, errSyntax
}

// members calls fn with each member of the object at b[i] (its key, raw,
// without the quotes, and where its value starts; fn returns where the
// value ends) and returns the object's end. Anything but an object there
// is an error.
func members(b []byte, i int, fn func(key []byte, vs int) (int, error)) (int, error) {
	if i >= len(b) || b[i] != '{' {
		return 0, fmt.Errorf("%w: want an object", errSyntax)
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, errSyntax
		}
		ke, err := skipString(b, i)
		if err != nil {
			return 0, err
		}
		key := b[i+1 : ke-1]
		i = skipWS(b, ke)
		if i >= len(b) || b[i] != ':' {
			return 0, errSyntax
		}
		ve, err := fn(key, skipWS(b, i+1))
		if err != nil {
			return 0, err
		}
		i = skipWS(b, ve)
		if i < len(b) && b[i] == ',' {
			i = skipWS(b, i+1)
			continue
		}
		if i < len(b) && b[i] == '}' {
			return i + 1, nil
		}
		return 0, errSyntax
	}
}

// elements calls fn with where each element of the array at b[i] starts
// (fn returns where it ends) and returns the array's end. null counts as
// an empty array; anything else but an array is an error.
func elements(b []byte, i int, fn func(vs int) (int, error)) (int, error) {
	if i >= len(b) {
		return 0, errSyntax
	}
	if bytes.HasPrefix(b[i:], []byte("null")) {
		return i + 4, nil
	}
	if b[i] != '[' {
		return 0, fmt.Errorf("%w: want an array", errSyntax)
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		ve, err := fn(i)
		if err != nil {
			return 0, err
		}
		i = skipWS(b, ve)
		if i < len(b) && b[i] == ',' {
			i = skipWS(b, i+1)
			continue
		}
		if i < len(b) && b[i] == ']' {
			return i + 1, nil
		}
		return 0, errSyntax
	}
}
