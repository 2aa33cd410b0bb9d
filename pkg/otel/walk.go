package otel

import (
	"bytes"

	"github.com/agent-trace/agent-trace/pkg/jsonwalk"
)

// An OTLP export request holds its spans deep inside
// (resourceSpans[].scopeSpans[].spans[]). To read one span again later
// (trace-extract's second pass) without decoding its whole request, the
// first pass notes where each span lies, found by the JSON's structure
// alone (jsonwalk); sonic decodes (and checks) each span.

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
	_, err = jsonwalk.Members(b, jsonwalk.SkipSpace(b, 0), func(key []byte, vs int) (int, error) {
		if string(key) != "resourceSpans" {
			return jsonwalk.Value(b, vs)
		}
		request = true
		return jsonwalk.Elements(b, vs, func(rs int) (int, error) {
			res := len(resources)
			resources = append(resources, [2]int{})
			return jsonwalk.Members(b, rs, func(key []byte, vs int) (int, error) {
				switch string(key) {
				case "resource":
					if bytes.HasPrefix(b[vs:], []byte("null")) {
						return vs + 4, nil
					}
					return jsonwalk.Members(b, vs, func(key []byte, as int) (int, error) {
						ae, err := jsonwalk.Value(b, as)
						if string(key) == "attributes" {
							resources[res] = [2]int{as, ae}
						}
						return ae, err
					})
				case "scopeSpans", "instrumentationLibrarySpans":
					return jsonwalk.Elements(b, vs, func(ss int) (int, error) {
						return jsonwalk.Members(b, ss, func(key []byte, vs int) (int, error) {
							if string(key) != "spans" {
								return jsonwalk.Value(b, vs)
							}
							return jsonwalk.Elements(b, vs, func(s int) (int, error) {
								e, err := jsonwalk.Value(b, s)
								spans = append(spans, spanLoc{s, e, res})
								return e, err
							})
						})
					})
				}
				return jsonwalk.Value(b, vs)
			})
		})
	})
	return spans, resources, request, err
}
