package weka

import (
	"encoding/json"
	"math"
	"testing"
)

// A hand-made session: a coordinator (thread 0) that starts two
// sub-agents whose calls interleave with its own and with each other's.
//
//	ms from start    0     1000  1500  2500  3000  4000  6000  7000
//	coordinator      [c1 0-1000]                   [c2 4000-5000]  [c3 7000-7500]
//	worker A               [a1 1000-2000] [a2 2500-3500]
//	worker B                     [b1 1500-2500]          [b2 6000-6400]
func handMade() Trace {
	const t0 = 1_744_051_403_000
	call := func(agent, kind string, in, out int, start, end float64, ids ...int64) Call {
		return Call{Agent: agent, AgentType: kind, Model: "m-" + agent[len(agent)-1:], In: in, Out: out,
			HashIDs: ids, StartMs: t0 + start, EndMs: t0 + end}
	}
	return Trace{ID: "conv_7", BlockSize: 4, Calls: []Call{
		call("conv_7/0", "deep_coordinator", 10, 3, 0, 1000, 0, 1, 2),
		call("conv_7/1", "research_worker", 6, 0, 1000, 2000, 0, 3),
		call("conv_7/2", "research_worker", 5, 2, 1500, 2500, 0, 4),
		call("conv_7/1", "research_worker", 9, 1, 2500, 3500, 0, 3, 5),
		call("conv_7/0", "deep_coordinator", 14, 4, 4000, 5000, 0, 1, 2, 6),
		call("conv_7/2", "research_worker", 8, 1, 6000, 6400, 0, 4, 7),
		call("conv_7/0", "deep_coordinator", 20, 5, 7000, 7500, 0, 1, 2, 6, 8),
	}}
}

// decoded is the trace as kv-cache-tester and aiperf read it.
type decoded struct {
	ID          string   `json:"id"`
	Models      []string `json:"models"`
	BlockSize   int      `json:"block_size"`
	HashIDScope string   `json:"hash_id_scope"`
	Requests    []req    `json:"requests"`
	Totals      map[string]any
}

type req struct {
	T            float64  `json:"t"`
	Type         string   `json:"type"`
	Model        string   `json:"model"`
	In           int      `json:"in"`
	Out          int      `json:"out"`
	HashIDs      []int64  `json:"hash_ids"`
	APITime      *float64 `json:"api_time"`
	ThinkTime    *float64 `json:"think_time"`
	AgentID      string   `json:"agent_id"`
	SubagentType string   `json:"subagent_type"`
	DurationMs   *int     `json:"duration_ms"`
	TotalTokens  int      `json:"total_tokens"`
	Status       string   `json:"status"`
	Models       []string `json:"models"`
	Requests     []req    `json:"requests"`
}

func decode(t *testing.T, b []byte) decoded {
	t.Helper()
	var d decoded
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return d
}

func TestHandMadeSession(t *testing.T) {
	tr := handMade()
	d := decode(t, tr.AppendJSON(nil))
	if d.ID != "conv_7" || d.BlockSize != 4 || d.HashIDScope != "local" || len(d.Models) != 1 || d.Models[0] != "m-0" {
		t.Fatalf("header: %+v", d)
	}
	// The parent's three calls, worker A placed after c1 (it started at
	// 1.0 s, before c2 at 4.0 s), then worker B (1.5 s), then c2, c3.
	kinds := ""
	for _, r := range d.Requests {
		kinds += r.Type + " "
	}
	if kinds != "n subagent subagent n n " {
		t.Fatalf("request order: %q", kinds)
	}
	c1, a, b, c2, c3 := d.Requests[0], d.Requests[1], d.Requests[2], d.Requests[3], d.Requests[4]
	check := func(name string, r req, tt float64, in, out int, api, think float64) {
		t.Helper()
		if r.T != tt || r.In != in || r.Out != out || r.APITime == nil || *r.APITime != api || r.ThinkTime == nil || *r.ThinkTime != think {
			t.Errorf("%s: got t=%v in=%d out=%d api=%v think=%v, want t=%v in=%d out=%d api=%v think=%v",
				name, r.T, r.In, r.Out, deref(r.APITime), deref(r.ThinkTime), tt, in, out, api, think)
		}
	}
	check("c1", c1, 0, 10, 3, 1, 0)
	check("c2", c2, 4, 14, 4, 1, 3)   // c1 ended at 1.0 s
	check("c3", c3, 7, 20, 5, 0.5, 2) // c2 ended at 5.0 s
	if len(c3.HashIDs) != 5 || c3.HashIDs[4] != 8 {
		t.Errorf("c3 hash ids: %v", c3.HashIDs)
	}
	// Sub-agents: t of the marker from the session start, their requests'
	// t from the marker.
	if a.T != 1 || a.AgentID != "conv_7/1" || a.SubagentType != "research_worker" || a.Status != "completed" ||
		a.DurationMs == nil || *a.DurationMs != 2500 || a.TotalTokens != 6+0+9+1 || len(a.Models) != 1 || a.Models[0] != "m-1" {
		t.Errorf("worker A marker: %+v", a)
	}
	if len(a.Requests) != 2 {
		t.Fatalf("worker A requests: %+v", a.Requests)
	}
	check("a1", a.Requests[0], 0, 6, 0, 1, 0)
	check("a2", a.Requests[1], 1.5, 9, 1, 1, 0.5)
	if b.T != 1.5 || b.AgentID != "conv_7/2" || *b.DurationMs != 4900 || len(b.Requests) != 2 {
		t.Errorf("worker B marker: %+v", b)
	}
	check("b1", b.Requests[0], 0, 5, 2, 1, 0)
	check("b2", b.Requests[1], 4.5, 8, 1, 0.4, 3.5)
	totals := d.Totals
	if got := totals["subagent_count"]; got != 2.0 {
		t.Errorf("subagent_count %v", got)
	}
	combined := totals["combined_tokens"].(map[string]any)
	if combined["input"] != 72.0 || combined["output"] != 16.0 {
		t.Errorf("combined tokens %v", combined)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// A session of one agent has no markers, and its times follow its calls.
func TestSingleAgent(t *testing.T) {
	tr := handMade()
	var calls []Call
	for _, c := range tr.Calls {
		if c.Agent == "conv_7/0" {
			calls = append(calls, c)
		}
	}
	tr.Calls = calls
	d := decode(t, tr.AppendJSON(nil))
	if len(d.Requests) != 3 || d.Totals["subagent_count"] != 0.0 {
		t.Fatalf("requests %+v totals %v", d.Requests, d.Totals)
	}
	for i, want := range []float64{0, 4, 7} {
		if d.Requests[i].T != want || d.Requests[i].Type != "n" {
			t.Errorf("request %d: %+v", i, d.Requests[i])
		}
	}
}

// Calls without times keep their order: t of the call before, no
// api_time or think_time.
func TestNoTimes(t *testing.T) {
	tr := handMade()
	for i := range tr.Calls {
		tr.Calls[i].StartMs, tr.Calls[i].EndMs = math.NaN(), math.NaN()
	}
	d := decode(t, tr.AppendJSON(nil))
	kinds := ""
	for _, r := range d.Requests {
		kinds += r.Type + " "
		if r.T != 0 || r.APITime != nil || r.ThinkTime != nil || r.DurationMs != nil {
			t.Errorf("untimed request: %+v", r)
		}
	}
	// Every marker starts at 0, not before the parent's first request.
	if kinds != "n subagent subagent n n " {
		t.Fatalf("order %q", kinds)
	}
}

// A sub-agent that starts before the parent's first call still follows it
// (aiperf drops a sub-agent with no parent request before it).
func TestSubagentNeverFirst(t *testing.T) {
	tr := handMade()
	tr.Calls[1].StartMs = tr.Calls[0].StartMs - 500
	d := decode(t, tr.AppendJSON(nil))
	if d.Requests[0].Type != "n" || d.Requests[1].Type != "subagent" || d.Requests[1].T != 0 {
		t.Fatalf("first requests: %+v %+v", d.Requests[0], d.Requests[1])
	}
	// The parent's t is from the earliest call of the session.
	if d.Requests[0].T != 0.5 {
		t.Errorf("parent's first t %v, want 0.5", d.Requests[0].T)
	}
}
