package natsteps

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/agent-trace/agent-trace/pkg/jsondecode"
	"github.com/agent-trace/agent-trace/pkg/jsonl"
	"github.com/agent-trace/agent-trace/pkg/nat"
)

// toSteps writes a profiler trace as NAT's file exporter would have
// streamed the same run: each request under a WORKFLOW_START/WORKFLOW_END
// pair (top-level steps re-parented to it), one step per line. With
// interleave, the lines of consecutive requests alternate, as concurrent
// requests do; the requests still end in order.
func toSteps(t testing.TB, trace []byte, interleave bool) []byte {
	t.Helper()
	var reqs []struct {
		Steps []json.RawMessage `json:"intermediate_steps"`
	}
	// NaN and Infinity (in shapes.json) are not JSON; pydantic, which
	// writes the steps, writes them as null.
	clean, _ := jsondecode.ReplaceNonFinite(trace)
	if err := json.Unmarshal(clean, &reqs); err != nil {
		t.Fatal(err)
	}
	var perReq [][]string
	for i, r := range reqs {
		wf := fmt.Sprintf("workflow-%d", i)
		ends := func(event string) string {
			return fmt.Sprintf(`{"parent_id":"root","function_ancestry":{"function_id":"wf","function_name":"<workflow>","parent_id":null,"parent_name":null},"payload":{"event_type":%q,"event_timestamp":0,"UUID":%q}}`, event, wf)
		}
		lines := []string{ends("WORKFLOW_START")}
		for _, raw := range r.Steps {
			// The step as it is (key order matters: dict contents are
			// rendered as Python does), compacted to one line, with a
			// top-level parent re-parented to the workflow: a key given
			// twice takes its last value.
			var b bytes.Buffer
			if err := json.Compact(&b, raw); err != nil {
				t.Fatal(err)
			}
			var st struct {
				ParentID *string `json:"parent_id"`
			}
			json.Unmarshal(raw, &st)
			line := b.String()
			if st.ParentID == nil || *st.ParentID == "root" || *st.ParentID == "" {
				line = line[:len(line)-1] + fmt.Sprintf(`,"parent_id":%q}`, wf)
			}
			lines = append(lines, line)
		}
		lines = append(lines, ends("WORKFLOW_END"))
		perReq = append(perReq, lines)
	}
	var out []string
	if !interleave {
		for _, l := range perReq {
			out = append(out, l...)
		}
	} else {
		// Pairs of requests: all of the first's lines but its last
		// interleaved with the second's, then the first's end, then the
		// rest of the second.
		for i := 0; i < len(perReq); i += 2 {
			if i+1 == len(perReq) {
				out = append(out, perReq[i]...)
				break
			}
			a, b := perReq[i], perReq[i+1]
			k := 0
			for j := 0; j < len(a)-1; j++ {
				out = append(out, a[j])
				if k < len(b)-1 {
					out = append(out, b[k])
					k++
				}
			}
			out = append(out, a[len(a)-1])
			out = append(out, b[k:]...)
		}
	}
	return []byte(strings.Join(out, "\n") + "\n")
}

func readAll(t *testing.T, in []byte) []*Request {
	t.Helper()
	r := NewReader(bytes.NewReader(in), "steps", false)
	var out []*Request
	for {
		req, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, req)
	}
}

// The requests of a step stream give the LLM calls the profiler trace of
// the same run gives, request by request, whether requests come one after
// the other or interleaved.
func TestSameCallsAsProfiler(t *testing.T) {
	for _, name := range []string{"multi.json", "shapes.json", "dict-content.json"} {
		trace, err := os.ReadFile("../../testdata/nat/" + name)
		if err != nil {
			t.Fatal(err)
		}
		sc := nat.NewArrayScanner(bytes.NewReader(trace))
		var want []*nat.Request
		for {
			elem, err := sc.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			req, err := nat.Decode(elem)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, req)
		}
		for _, interleave := range []bool{false, true} {
			got := readAll(t, toSteps(t, trace, interleave))
			if len(got) != len(want) {
				t.Fatalf("%s interleave=%v: %d requests, want %d", name, interleave, len(got), len(want))
			}
			for i, g := range got {
				if g.Number != i || !g.Ended {
					t.Errorf("%s: request %d: number %d, ended %v", name, i, g.Number, g.Ended)
				}
				req, err := nat.Decode(g.Elem)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(req.Calls, want[i].Calls) || req.UnmatchedEnds != want[i].UnmatchedEnds || req.UnmatchedStarts != want[i].UnmatchedStarts {
					t.Errorf("%s interleave=%v: request %d: calls differ from the profiler trace's", name, interleave, i)
				}
			}
		}
	}
}

// A stream cut mid-run gives its ended requests first, then the open ones
// with Ended false; their complete calls survive.
func TestCutStream(t *testing.T) {
	trace, err := os.ReadFile("../../testdata/nat/multi.json")
	if err != nil {
		t.Fatal(err)
	}
	steps := toSteps(t, trace, true)
	lines := strings.SplitAfter(string(steps), "\n")
	cut := []byte(strings.Join(lines[:len(lines)*2/3], ""))
	got := readAll(t, cut)
	ended, open := 0, 0
	for _, g := range got {
		if g.Ended {
			if open > 0 {
				t.Error("an ended request after an open one")
			}
			ended++
		} else {
			open++
		}
		if _, err := nat.Decode(g.Elem); err != nil {
			t.Fatal(err)
		}
	}
	if ended == 0 || open == 0 {
		t.Errorf("%d ended, %d open", ended, open)
	}
}

// A line that is not a step is an error naming the line, or skipped and
// counted with skipInvalid.
func TestBadLine(t *testing.T) {
	in := "{\"parent_id\":\"root\",\"payload\":{\"event_type\":\"WORKFLOW_START\",\"UUID\":\"w\"}}\n{\"event_type\":\"llm_call\"}\n"
	_, err := NewReader(strings.NewReader(in), "s.jsonl", false).Next()
	var le *jsonl.Error
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "s.jsonl") || !strings.Contains(err.Error(), "s.jsonl:2:") {
		t.Fatalf("got %v", err)
	}
	r := NewReader(strings.NewReader(in), "s.jsonl", true)
	if req, err := r.Next(); err != nil || req.Ended || r.Invalid != 1 {
		t.Fatalf("%v %v %d", req, err, r.Invalid)
	}
}

func TestLooksLikeSteps(t *testing.T) {
	for in, want := range map[string]bool{
		`{"parent_id":"root","function_ancestry":{},"payload":{"event_type":"LLM_START"}}`: true,
		`{"event_type":"llm_call","session_id":"s"}`:                                       false,
		`{"parent_id":"x"}`: false,
		`[`:                 false,
	} {
		if got := LooksLikeSteps([]byte(in)); got != want {
			t.Errorf("%s: %v", in, got)
		}
	}
}

// FuzzReader: any input gives requests or an error, never a panic; the
// profiler reader takes every request (or says what is wrong with it); and
// when the input's lines are valid JSON, so is every request.
func FuzzReader(f *testing.F) {
	trace, err := os.ReadFile("../../testdata/nat/shapes.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(toSteps(f, trace, true))
	f.Add([]byte("{\"parent_id\":\"a\",\"payload\":{\"event_type\":\"LLM_END\",\"UUID\":\"b\"}}\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		// Lenient decoding takes some lines that are not strict JSON (a
		// raw control character in a string): their requests need not be.
		allValid := true
		for _, line := range bytes.Split(in, []byte("\n")) {
			if len(bytes.TrimSpace(line)) > 0 && !json.Valid(line) {
				allValid = false
			}
		}
		r := NewReader(bytes.NewReader(in), "f", true)
		for range 10000 {
			req, err := r.Next()
			if err != nil {
				return
			}
			nat.Decode(req.Elem) // must not panic; an error is an answer
			if allValid && !json.Valid(req.Elem) {
				t.Fatalf("element is not JSON: %q", req.Elem)
			}
		}
	})
}

// The step-stream fixtures of testdata/nat are the profiler fixtures
// streamed by toSteps (requests interleaved in pairs); regenerate them with
// AGENTTRACE_UPDATE=1.
func TestFixturesUpToDate(t *testing.T) {
	for _, name := range []string{"shapes", "multi"} {
		trace, err := os.ReadFile("../../testdata/nat/" + name + ".json")
		if err != nil {
			t.Fatal(err)
		}
		want := toSteps(t, trace, true)
		path := "../../testdata/nat/" + name + ".steps.jsonl"
		if os.Getenv("AGENTTRACE_UPDATE") == "1" {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is not %s.json streamed (err %v): run with AGENTTRACE_UPDATE=1", path, name, err)
		}
	}
}

// BenchmarkReader: MB/s of grouping a step stream into requests (multi.json
// streamed, requests interleaved, 100 copies with their own ids).
func BenchmarkReader(b *testing.B) {
	trace, err := os.ReadFile("../../testdata/nat/multi.json")
	if err != nil {
		b.Fatal(err)
	}
	one := string(toSteps(b, trace, true))
	var sb strings.Builder
	for k := range 100 {
		sb.WriteString(strings.NewReplacer("workflow-", fmt.Sprintf("wf%d-", k), `"UUID":"r`, fmt.Sprintf(`"UUID":"k%dr`, k)).Replace(one))
	}
	in := []byte(sb.String())
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		r := NewReader(bytes.NewReader(in), "bench", false)
		for {
			if _, err := r.Next(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
	}
}
