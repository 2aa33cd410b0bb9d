package extractcmd

import (
	"cmp"
	"io"
	"math"
	"slices"

	"agenttrace/pkg/cli"
	"agenttrace/pkg/otel"
)

// otelTraces reads OpenTelemetry JSON (package otel): the LLM spans of the
// input, grouped by session (session.id or gen_ai.conversation.id, else the
// trace: trace_<id>), each session's calls in order of their start, the
// sessions in order of their first call. Spans come in any order, so the
// input's LLM calls are held until its end.
func (x *extractor) otelTraces(r io.Reader, name string) error {
	x.seen = nil
	rd := otel.NewReader(r, name)
	rd.KeepUncaptured = x.cmd.Uncaptured == "usage"
	type session struct {
		id    string
		calls []call
		first float64
		order int
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
		if len(c.Messages) == 0 && !c.HasInput {
			x.st.noUsage++ // nothing to replay: no text, no count
			continue
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
		s.calls = append(s.calls, call{
			model: c.Model, messages: c.Messages, tools: c.Tools,
			output: c.OutputTokens, prompt: c.InputTokens, hasPrompt: c.HasInput,
			startMs: c.StartMs, endMs: c.EndMs, latencyMs: math.NaN(),
			usageOnly: len(c.Messages) == 0,
		})
	}
	st := rd.Stats
	x.st.otherEvents += st.NotLLM
	x.st.noContent += st.NoContent
	if x.cmd.Uncaptured == "usage" {
		x.st.usageOnly += st.NoContent - x.st.noUsage
		x.st.noContent = x.st.noUsage
	}
	x.st.nonText += st.NonText
	x.st.invalid += st.BadMessage
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
	for _, s := range list {
		slices.SortStableFunc(s.calls, func(a, b call) int { return byStart(a.startMs, b.startMs) })
		if err := x.emitSession("otel", s.id, s.calls); err != nil {
			return err
		}
	}
	return nil
}
