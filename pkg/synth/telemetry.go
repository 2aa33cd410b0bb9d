package synth

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/agent-trace/agent-trace/pkg/record"
)

// TelemetryOptions shape a synthetic telemetry JSONL trace.
type TelemetryOptions struct {
	Sessions  int    // research sessions
	Workers   int    // sub-agents per session besides the coordinator
	Calls     int    // LLM calls per agent
	TurnBytes int    // approximate bytes of text each call adds
	Seed      uint64 // random seed; the same options give the same bytes
}

// event is one telemetry line before it is written, with its time.
type event struct {
	at   float64 // seconds since the trace start
	line []byte
}

// WriteTelemetry writes a telemetry trace shaped like a research pipeline:
// each session has a classifier call, a coordinator and workers whose
// conversations grow and whose calls interleave in time, tool_call events
// between the calls, tools lists on the worker calls, assistant tool calls
// answered by tool messages. Sessions overlap in time; lines are in time
// order, as a collector writes them.
func WriteTelemetry(w io.Writer, o TelemetryOptions) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x51afd7ed558ccd))
	base := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	var events []event
	tools := `[{"type": "function", "function": {"name": "web_search", "description": "Search the web and return the top results with snippets.", "parameters": {"type": "object", "properties": {"query": {"type": "string", "description": "What to search for"}}, "required": ["query"]}}}]`
	for s := 0; s < o.Sessions; s++ {
		sid := fmt.Sprintf("%08x-5d6a-4c1e-9f0b-%012x", rng.Uint32(), s)
		start := float64(s) * 7.5
		question := text(rng, 200)
		events = append(events, event{start, llmCall(sid, start, base, "HIGH", 0.4, 5, []chatMsg{
			{"user", "Classify the user message: " + question, ""}}, "")})
		agents := 1 + o.Workers
		for a := 0; a < agents; a++ {
			system := "You are a Deep Research agent. " + text(rng, o.TurnBytes)
			prio := "MEDIUM"
			if a > 0 {
				system = "Gather and synthesize comprehensive information on the assigned sub-topic. " + text(rng, o.TurnBytes/2)
				prio = "LOW"
			}
			msgs := []chatMsg{{"system", system, ""}, {"user", question, ""}}
			t := start + 1 + float64(a)*0.7
			for c := 0; c < o.Calls; c++ {
				latency := 0.3 + rng.Float64()*2
				toolsJSON := ""
				if a > 0 {
					toolsJSON = tools
				}
				events = append(events, event{t, llmCall(sid, t, base, prio, latency, 20+rng.IntN(300), msgs, toolsJSON)})
				// The answer calls a tool; its result comes back as a tool
				// message, and the next call carries both.
				id := fmt.Sprintf("call_%d_%d", a, c)
				args := fmt.Sprintf(`{"query": %s}`, record.AppendString(nil, text(rng, 40)))
				msgs = append(msgs, chatMsg{"assistant", text(rng, 80), `[{"id": "` + id + `", "type": "function", "function": {"name": "web_search", "arguments": ` + string(record.AppendString(nil, args)) + `}}]`})
				result := text(rng, o.TurnBytes)
				t += latency
				events = append(events, event{t + 0.01, []byte(fmt.Sprintf(`{"event_type": "tool_call", "session_id": "%s", "timestamp": "%s", "tool_name": "web_search", "latency_ms": %.1f, "result_bytes": %d}`,
					sid, stamp(base, t+0.01), 100+rng.Float64()*900, len(result)))})
				msgs = append(msgs, chatMsg{"tool", result, id})
				if rng.IntN(4) == 0 {
					msgs = append(msgs, chatMsg{"user", "Continue: " + text(rng, 60), ""})
				}
				t += 0.2 + rng.Float64()*3*float64(agents)
			}
		}
	}
	slices.SortStableFunc(events, func(a, b event) int {
		switch {
		case a.at < b.at:
			return -1
		case a.at > b.at:
			return 1
		}
		return 0
	})
	for _, e := range events {
		bw.Write(e.line)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// chatMsg is a message of a synthetic call: tool calls (raw JSON) on an
// assistant message, or the call a tool message answers.
type chatMsg struct {
	role, content, extra string
}

func stamp(base time.Time, at float64) string {
	return base.Add(time.Duration(at * float64(time.Second))).Format("2006-01-02T15:04:05.000000+00:00")
}

// llmCall writes one llm_call line, formatted as Python's json.dumps does.
func llmCall(sid string, at float64, base time.Time, prio string, latency float64, out int, msgs []chatMsg, tools string) []byte {
	b := fmt.Appendf(nil, `{"event_type": "llm_call", "timestamp": "%s", "session_id": "%s", "latency_ms": %.2f, "latency_priority": "%s", "request_payload": {"model": "gpt-5.2", "messages": [`,
		stamp(base, at), sid, latency*1000, prio)
	in := 0
	for i, m := range msgs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, `{"role": "`...)
		b = append(b, m.role...)
		b = append(b, `", "content": `...)
		if m.role == "assistant" && m.extra != "" {
			b = append(b, `null, "tool_calls": `...)
			b = append(b, m.extra...)
		} else {
			b = record.AppendString(b, m.content)
			if m.role == "tool" {
				b = append(b, `, "tool_call_id": "`...)
				b = append(b, m.extra...)
				b = append(b, '"')
			}
		}
		b = append(b, '}')
		in += len(m.content) / 4
	}
	b = append(b, ']')
	if tools != "" {
		b = append(b, `, "tools": `...)
		b = append(b, tools...)
	}
	return fmt.Appendf(b, `}, "response_payload": {"usage": {"prompt_tokens": %d, "completion_tokens": %d}}}`, in, out)
}
