// Package weka writes the LLM calls of agent sessions as Weka traces: the
// agentic trace format of kv-cache-tester (github.com/callanjfox/kv-cache-tester,
// docs/trace_replay_tester.md, "Trace Format"), which aiperf 0.13 and later
// replay natively (--custom-dataset-type weka_trace) with sub-agent fan-out.
//
// A trace is one JSON object per session:
//
//	{"id":"conv_0","models":["m"],"block_size":64,"hash_id_scope":"local",
//	 "requests":[{"t":0,"type":"n","model":"m","in":812,"out":40,
//	              "hash_ids":[0,1,...],"api_time":1.2,"think_time":0}, ...],
//	 "totals":{...}}
//
// A session's calls belong to agents (the threads trace-extract --threads
// splits a session into). The agent of the session's first call is the
// parent: its calls are the trace's requests. Every other agent becomes a
// "subagent" marker holding its own requests, placed among the parent's
// requests where it started.
//
// Times: a request's t is seconds from the session's first call (a
// sub-agent's requests: from the sub-agent's start, as kv-cache-tester's
// traces have them), api_time the call's duration, think_time the gap since
// the same agent's previous call ended (0 for an agent's first call), all
// rounded to the millisecond. Without a start time a call takes the t of
// the agent's call before it and has no api_time or think_time.
package weka

import (
	"math"
	"slices"
	"strconv"

	"github.com/agent-trace/agent-trace/pkg/record"
)

// Call is one LLM call of a session.
type Call struct {
	Agent     string  // the agent (thread) that made the call
	AgentType string  // what kind of agent it is ("" when unknown)
	Model     string  // the model called
	In, Out   int     // prompt and output tokens
	HashIDs   []int64 // the prompt's block hash ids
	StartMs   float64 // start time, ms since any epoch; NaN when unknown
	EndMs     float64 // end time; NaN when unknown
}

// Trace is one session: its id, the block size of its hash ids, and its
// calls in call order.
type Trace struct {
	ID        string
	BlockSize int
	Calls     []Call
}

// agent is the calls of one agent of a trace, with their times.
type agent struct {
	name    string
	calls   []int     // indexes into Trace.Calls
	t       []float64 // each call's start, seconds from the session's start
	api     []float64 // each call's duration in seconds; NaN when unknown
	think   []float64 // the gap since the agent's previous call ended; NaN when unknown
	start   float64   // t of the agent's first call
	endMs   float64   // the latest end of its calls (NaN when unknown)
	startMs float64   // the start of its first call (NaN when unknown)
}

// AppendJSON appends the trace as one compact JSON object to dst.
func (tr *Trace) AppendJSON(dst []byte) []byte {
	if len(tr.Calls) == 0 {
		return dst
	}
	origin := math.Inf(1)
	for _, c := range tr.Calls {
		if !math.IsNaN(c.StartMs) {
			origin = min(origin, c.StartMs)
		}
	}
	agents := tr.agents(origin)
	parent := agents[0]

	dst = append(dst, `{"id":`...)
	dst = record.AppendString(dst, tr.ID)
	dst = append(dst, `,"models":`...)
	dst = tr.appendModels(dst, parent)
	dst = append(dst, `,"block_size":`...)
	dst = strconv.AppendInt(dst, int64(tr.BlockSize), 10)
	// The ids come from one table for the whole run; aiperf's loader takes
	// only "local" (one id space per trace), which they also are.
	dst = append(dst, `,"hash_id_scope":"local","requests":[`...)
	subs := agents[1:]
	next := 0 // the next sub-agent to place
	for i := range parent.calls {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = tr.appendRequest(dst, parent, i, 0)
		// A sub-agent goes after the parent's last request that started
		// before it, or at the same time and earlier in call order (aiperf
		// drops a sub-agent with no parent request before it, so never
		// before the first).
		for next < len(subs) && (i+1 == len(parent.calls) || before(subs[next], parent, i+1)) {
			dst = append(dst, ',')
			dst = tr.appendSubagent(dst, subs[next])
			next++
		}
	}
	dst = append(dst, ']')
	dst = tr.appendTotals(dst, parent, subs)
	return append(dst, '}')
}

// agents groups the calls by agent, the parent (the first call's agent)
// first, the sub-agents in order of their start, and sets their times.
func (tr *Trace) agents(origin float64) []*agent {
	var list []*agent
	byName := map[string]*agent{}
	for i, c := range tr.Calls {
		a := byName[c.Agent]
		if a == nil {
			a = &agent{name: c.Agent, endMs: math.NaN(), startMs: c.StartMs}
			byName[c.Agent] = a
			list = append(list, a)
		}
		t, api, think := math.NaN(), math.NaN(), math.NaN()
		if !math.IsNaN(c.StartMs) {
			t = seconds(c.StartMs - origin)
			if !math.IsNaN(c.EndMs) {
				api = seconds(max(0, c.EndMs-c.StartMs))
			}
			switch {
			case len(a.calls) == 0:
				think = 0
			case !math.IsNaN(a.endMs):
				think = seconds(max(0, c.StartMs-a.endMs))
			}
		} else if n := len(a.t); n > 0 {
			t = a.t[n-1]
		} else {
			t = 0
		}
		if !math.IsNaN(c.EndMs) && (math.IsNaN(a.endMs) || c.EndMs > a.endMs) {
			a.endMs = c.EndMs
		}
		a.calls = append(a.calls, i)
		a.t = append(a.t, t)
		a.api = append(a.api, api)
		a.think = append(a.think, think)
	}
	for _, a := range list {
		a.start = a.t[0]
	}
	slices.SortStableFunc(list[1:], func(x, y *agent) int {
		switch {
		case x.start < y.start:
			return -1
		case x.start > y.start:
			return 1
		}
		return 0
	})
	return list
}

// before reports whether sub-agent s starts before the k-th call of the
// parent: earlier, or at the same time and earlier in call order.
func before(s, parent *agent, k int) bool {
	return s.start < parent.t[k] || s.start == parent.t[k] && s.calls[0] < parent.calls[k]
}

// seconds converts ms to seconds rounded to the millisecond.
func seconds(ms float64) float64 { return math.Round(ms) / 1000 }

func (tr *Trace) appendModels(dst []byte, a *agent) []byte {
	var seen []string
	dst = append(dst, '[')
	for _, i := range a.calls {
		m := tr.Calls[i].Model
		if m == "" || slices.Contains(seen, m) {
			continue
		}
		if len(seen) > 0 {
			dst = append(dst, ',')
		}
		seen = append(seen, m)
		dst = record.AppendString(dst, m)
	}
	return append(dst, ']')
}

// appendRequest appends the k-th call of agent a, its t counted from base.
func (tr *Trace) appendRequest(dst []byte, a *agent, k int, base float64) []byte {
	c := &tr.Calls[a.calls[k]]
	dst = append(dst, `{"t":`...)
	dst = appendSeconds(dst, a.t[k]-base)
	dst = append(dst, `,"type":"n","model":`...)
	dst = record.AppendString(dst, c.Model)
	dst = append(dst, `,"in":`...)
	dst = strconv.AppendInt(dst, int64(c.In), 10)
	dst = append(dst, `,"out":`...)
	dst = strconv.AppendInt(dst, int64(c.Out), 10)
	dst = append(dst, `,"hash_ids":`...)
	dst = record.AppendInts(dst, c.HashIDs)
	if !math.IsNaN(a.api[k]) {
		dst = append(dst, `,"api_time":`...)
		dst = appendSeconds(dst, a.api[k])
	}
	if !math.IsNaN(a.think[k]) {
		dst = append(dst, `,"think_time":`...)
		dst = appendSeconds(dst, a.think[k])
	}
	return append(dst, '}')
}

// appendSubagent appends the marker of a sub-agent with its requests.
func (tr *Trace) appendSubagent(dst []byte, a *agent) []byte {
	dst = append(dst, `{"t":`...)
	dst = appendSeconds(dst, a.start)
	dst = append(dst, `,"type":"subagent","agent_id":`...)
	dst = record.AppendString(dst, a.name)
	kind := tr.Calls[a.calls[0]].AgentType
	if kind == "" {
		kind = "thread"
	}
	dst = append(dst, `,"subagent_type":`...)
	dst = record.AppendString(dst, kind)
	if !math.IsNaN(a.startMs) && !math.IsNaN(a.endMs) {
		dst = append(dst, `,"duration_ms":`...)
		dst = strconv.AppendInt(dst, int64(math.Round(max(0, a.endMs-a.startMs))), 10)
	}
	in, out := tr.tokens(a)
	dst = append(dst, `,"total_tokens":`...)
	dst = strconv.AppendInt(dst, in+out, 10)
	dst = append(dst, `,"status":"completed","models":`...)
	dst = tr.appendModels(dst, a)
	dst = append(dst, `,"requests":[`...)
	for k := range a.calls {
		if k > 0 {
			dst = append(dst, ',')
		}
		dst = tr.appendRequest(dst, a, k, a.start)
	}
	return append(dst, "]}"...)
}

// appendTotals appends the token totals, as kv-cache-tester's traces
// carry them.
func (tr *Trace) appendTotals(dst []byte, parent *agent, subs []*agent) []byte {
	pin, pout := tr.tokens(parent)
	var sin, sout int64
	for _, a := range subs {
		in, out := tr.tokens(a)
		sin += in
		sout += out
	}
	pair := func(dst []byte, key string, in, out int64) []byte {
		dst = append(dst, `"`+key+`":{"input":`...)
		dst = strconv.AppendInt(dst, in, 10)
		dst = append(dst, `,"output":`...)
		dst = strconv.AppendInt(dst, out, 10)
		return append(dst, '}')
	}
	dst = append(dst, `,"totals":{`...)
	dst = pair(dst, "parent_tokens", pin, pout)
	dst = append(dst, ',')
	dst = pair(dst, "subagent_tokens", sin, sout)
	dst = append(dst, ',')
	dst = pair(dst, "combined_tokens", pin+sin, pout+sout)
	dst = append(dst, `,"subagent_count":`...)
	dst = strconv.AppendInt(dst, int64(len(subs)), 10)
	return append(dst, '}')
}

func (tr *Trace) tokens(a *agent) (in, out int64) {
	for _, i := range a.calls {
		in += int64(tr.Calls[i].In)
		out += int64(tr.Calls[i].Out)
	}
	return in, out
}

// appendSeconds appends seconds with at most three decimals.
func appendSeconds(dst []byte, s float64) []byte {
	s = math.Round(s*1000) / 1000
	if s == 0 {
		s = 0 // no -0
	}
	return strconv.AppendFloat(dst, s, 'f', -1, 64)
}
