package extractcmd

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/agent-trace/agent-trace/pkg/cli"
	"github.com/agent-trace/agent-trace/pkg/otel"
)

// otelTraces reads OpenTelemetry JSON (package otel): the LLM spans of the
// input, grouped by session (session.id or gen_ai.conversation.id, else the
// trace: trace_<id>), each session's calls in order of their start, the
// sessions in order of their first call. Spans come in any order, so it
// reads in two passes, as telemetry: the first notes each LLM span's
// session, start and place in the input (not its messages); the second
// reads the spans back a session at a time. Memory is bounded by the
// largest session.
func (x *extractor) otelTraces(in cli.Input, r io.Reader, name string) error {
	x.seen = nil
	back, r, done, err := rereadable(in, r, name)
	if err != nil {
		return err
	}
	defer done()
	rd := otel.NewReader(r, name)
	rd.Light = true
	type entry struct {
		off               int64
		n                 int
		start             float64
		content, hasUsage bool
	}
	type session struct {
		id      string
		entries []entry
		first   float64
		order   int
	}
	sessions := map[string]*session{}
	for {
		c, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if x.cmd.SkipInvalid {
				x.st.invalid++
				break // a JSON stream cannot be resumed after a syntax error
			}
			return cli.DataError(err)
		}
		sid := c.Session
		if sid == "" {
			sid = "trace_" + c.TraceID
		}
		s := sessions[sid]
		if s == nil {
			s = &session{id: sid, first: math.Inf(1), order: len(sessions)}
			sessions[sid] = s
		}
		if c.StartMs < s.first {
			s.first = c.StartMs
		}
		s.entries = append(s.entries, entry{off: c.Off, n: c.Len, start: c.StartMs, content: c.HasContent, hasUsage: c.HasInput})
	}
	x.st.otherEvents += rd.Stats.NotLLM
	x.st.invalid += rd.Stats.BadMessage
	list := make([]*session, 0, len(sessions))
	for _, s := range sessions {
		list = append(list, s)
	}
	byStart := func(a, b float64) int {
		switch {
		case math.IsNaN(a) && math.IsNaN(b):
			return 0
		case math.IsNaN(a):
			return 1
		case math.IsNaN(b):
			return -1
		}
		return cmp.Compare(a, b)
	}
	slices.SortFunc(list, func(a, b *session) int {
		if c := byStart(a.first, b.first); c != 0 {
			return c
		}
		return cmp.Compare(a.order, b.order)
	})
	var buf []byte
	for _, s := range list {
		slices.SortStableFunc(s.entries, func(a, b entry) int { return byStart(a.start, b.start) })
		calls := make([]call, 0, len(s.entries))
		for _, e := range s.entries {
			var c *otel.Call
			if e.content {
				buf = slices.Grow(buf[:0], e.n)[:e.n]
				if _, err := back.ReadAt(buf, e.off); err != nil {
					return cli.IOError(fmt.Errorf("%s: reading a span again at byte offset %d: %w", name, e.off, err))
				}
				var st *otel.Stats
				if c, st, err = otel.DecodeCall(buf, s.id); err != nil {
					return cli.DataError(fmt.Errorf("%s: at byte offset %d: %w", name, e.off, err))
				}
				if st != nil {
					x.st.nonText += st.NonText
					x.st.invalid += st.BadMessage
				}
			}
			if c == nil || len(c.Messages) == 0 {
				// No prompt text was traced.
				if x.cmd.Uncaptured != "usage" || !e.hasUsage {
					x.st.noContent++
					continue
				}
				if c == nil {
					buf = slices.Grow(buf[:0], e.n)[:e.n]
					if _, err := back.ReadAt(buf, e.off); err != nil {
						return cli.IOError(fmt.Errorf("%s: reading a span again at byte offset %d: %w", name, e.off, err))
					}
					if c, _, err = otel.DecodeCall(buf, s.id); err != nil || c == nil {
						return cli.DataError(fmt.Errorf("%s: at byte offset %d: a span read again is no LLM call", name, e.off))
					}
				}
				x.st.usageOnly++
			}
			calls = append(calls, call{
				model: c.Model, messages: c.Messages, tools: c.Tools,
				output: c.OutputTokens, prompt: c.InputTokens, hasPrompt: c.HasInput,
				startMs: c.StartMs, endMs: c.EndMs, latencyMs: math.NaN(),
				usageOnly: len(c.Messages) == 0,
			})
		}
		if err := x.emitSession("otel", s.id, calls); err != nil {
			return err
		}
	}
	return nil
}
