// Package natsteps reads the step stream of NVIDIA NeMo Agent Toolkit's
// "file" telemetry exporter: one IntermediateStep per line
// ({"parent_id", "function_ancestry", "payload"}), written as each step
// happens, with the steps of concurrent requests interleaved and no
// request_number.
//
// Steps form a tree through parent_id (the last START step of another span;
// "root" for a top-level one, such as WORKFLOW_START). A request is a
// top-level span and every step under it; it is complete when the END step
// of that span arrives. Reader returns each request as the element of a
// profiler trace (all_requests_profiler_traces.json) that holds the same
// steps, so the profiler reader (package nat) pairs its LLM calls with the
// same rules. Memory is bounded by the requests open at once.
package natsteps

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/agent-trace/agent-trace/pkg/jsondecode"
	"github.com/agent-trace/agent-trace/pkg/jsonl"
)

// Request is one request of a step stream.
type Request struct {
	// Number counts the requests of the stream in the order their first
	// step came, from 0: what stands for request_number.
	Number int
	// Elem is the request as an element of a profiler trace:
	// {"request_number": Number, "intermediate_steps": [the steps, in order]}.
	Elem []byte
	// Ended is false for a request whose top-level span never ended (the
	// stream stopped first: a crash, or a file copied mid-run).
	Ended bool
	// Line is the line of the request's first step.
	Line int
}

// Reader reads the requests of a step stream.
type Reader struct {
	r       *jsonl.Reader
	next    int                 // number of the next request to start
	open    map[string]*pending // by root UUID
	rootOf  map[string]string   // START UUID -> root UUID, for the open requests
	order   []string            // root UUIDs of the open requests, in start order
	ready   []*pending          // complete requests not yet returned
	atEOF   bool
	skipBad bool
	Invalid int // lines skipped as invalid (SkipInvalid)
}

type pending struct {
	root   string
	number int
	line   int
	steps  [][]byte
	starts []string // START UUIDs, to forget when the request is returned
	ended  bool
}

// NewReader returns a Reader of the step stream in r; name identifies it
// in errors. With skipInvalid, a line that is not a step is counted
// (Invalid) and skipped instead of being an error.
func NewReader(r io.Reader, name string, skipInvalid bool) *Reader {
	return &Reader{r: jsonl.NewReader(r, name), open: map[string]*pending{}, rootOf: map[string]string{}, skipBad: skipInvalid}
}

// step is the part of a line the grouping needs.
type step struct {
	ParentID *string `json:"parent_id"`
	Payload  *struct {
		EventType string `json:"event_type"`
		UUID      string `json:"UUID"`
	} `json:"payload"`
}

// Next returns the next complete request, in the order requests end; at the
// end of the input, the requests still open, in the order they started
// (Ended false); then io.EOF.
func (r *Reader) Next() (*Request, error) {
	for len(r.ready) == 0 {
		if r.atEOF {
			if len(r.order) == 0 {
				return nil, io.EOF
			}
			root := r.order[0]
			r.finish(root)
			continue
		}
		line, err := r.r.Next()
		if err == io.EOF {
			r.atEOF = true
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := r.add(line); err != nil {
			if r.skipBad {
				r.Invalid++
				continue
			}
			return nil, r.r.Errorf("%v", err)
		}
	}
	p := r.ready[0]
	r.ready = r.ready[1:]
	return &Request{Number: p.number, Elem: element(p), Ended: p.ended, Line: p.line}, nil
}

// add files one line under its request.
func (r *Reader) add(line []byte) error {
	var s step
	if err := jsondecode.UnmarshalTransient(line, &s); err != nil {
		return fmt.Errorf("not a NAT step: %w", err)
	}
	if s.ParentID == nil || s.Payload == nil {
		return errors.New(`not a NAT step: no "parent_id" or "payload" (want one IntermediateStep per line, as NAT's file exporter writes)`)
	}
	id, parent, ev := s.Payload.UUID, *s.ParentID, s.Payload.EventType
	start := strings.HasSuffix(ev, "_START")
	var root string
	switch {
	case parent == "root" || parent == "":
		root = id // a top-level span: its own request
	case r.rootOf[parent] != "":
		root = r.rootOf[parent]
	default:
		// The parent is not in the stream (the file starts mid-run, or
		// its request was returned already): the parent stands for a
		// request of its own.
		root = "parent:" + parent
	}
	p := r.open[root]
	if p == nil {
		p = &pending{root: root, number: r.next, line: r.r.Line()}
		r.next++
		r.open[root] = p
		r.order = append(r.order, root)
	}
	p.steps = append(p.steps, bytes.Clone(line))
	if start && id != "" && r.rootOf[id] == "" {
		r.rootOf[id] = root
		p.starts = append(p.starts, id)
	}
	if strings.HasSuffix(ev, "_END") && id == root {
		p.ended = true
		r.finish(root)
	}
	return nil
}

// finish moves the open request of root to the ready ones.
func (r *Reader) finish(root string) {
	p := r.open[root]
	delete(r.open, root)
	for _, id := range p.starts {
		delete(r.rootOf, id)
	}
	for i, o := range r.order {
		if o == root {
			r.order = append(r.order[:i], r.order[i+1:]...)
			break
		}
	}
	r.ready = append(r.ready, p)
}

// element writes p as an element of a profiler trace.
func element(p *pending) []byte {
	n := 64
	for _, s := range p.steps {
		n += len(s) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, `{"request_number":`...)
	b = strconv.AppendInt(b, int64(p.number), 10)
	b = append(b, `,"intermediate_steps":[`...)
	for i, s := range p.steps {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, s...)
	}
	return append(b, "]}"...)
}

// LooksLikeSteps reports whether line (the first line of an input) is a
// NAT step: a JSON object with "parent_id" and "payload".
func LooksLikeSteps(line []byte) bool {
	var s step
	return jsondecode.UnmarshalTransient(line, &s) == nil && s.ParentID != nil && s.Payload != nil
}
