package cli

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"agenttrace/pkg/chat"
	"agenttrace/pkg/jsonl"
	"agenttrace/pkg/nat"
	"agenttrace/pkg/progress"
	"agenttrace/pkg/record"
	"agenttrace/pkg/telemetry"
)

const extractHelp = `Read agent traces and write one JSON record per LLM call.

Inputs are NAT profiler traces (all_requests_profiler_traces.json: a JSON
array of requests) or telemetry JSONL (one event per line; llm_call events
become records, tool_call and other events are dropped). The format is
detected per input unless --format says it. With no FILE, or FILE "-",
standard input is read.

NAT traces are streamed: memory is bounded by the largest request, not the
file. Telemetry is sorted by (session_id, timestamp) as the reference does,
which needs every llm_call of an input in memory (its messages, not the rest
of the event).

Each record holds session_id, the normalised messages and the reported token
usage; see the README's record contract. A summary goes to stderr.`

// ExtractCmd is the grammar of trace-extract.
type ExtractCmd struct {
	Files        []string `arg:"" optional:"" name:"FILE" help:"Trace files to read (default: standard input)."`
	Format       string   `enum:"auto,nat,telemetry" default:"auto" help:"Input format: auto, nat or telemetry."`
	Delay        string   `placeholder:"MS|none" help:"Delay in ms put on every record of a session but its first (default: 500 for NAT as the reference, none for telemetry); 'none' omits it."`
	SkipRequests int      `placeholder:"N" help:"NAT: skip the first N requests of each file."`
	NumRequests  *int     `placeholder:"N" help:"NAT: keep at most N requests (after skipping) of each file (default: all)."`
	SkipInvalid  bool     `help:"Skip (and count) invalid events or requests instead of stopping with an error."`
	Quiet        bool     `short:"q" help:"Print no summary on stderr; errors are still printed."`
}

// Extract runs trace-extract.
func Extract(args []string, s Streams) int {
	var cmd ExtractCmd
	if code, done := parse("trace-extract", extractHelp, &cmd, args, s); done {
		return code
	}
	return finish("trace-extract", cmd.run(s), s.Stderr)
}

// delaySpec is the parsed --delay: a fixed number of ms, or none.
type delaySpec struct {
	set  bool // given on the command line
	none bool
	ms   int64
}

func parseDelay(v string) (delaySpec, error) {
	switch v {
	case "":
		return delaySpec{}, nil
	case "none":
		return delaySpec{set: true, none: true}, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return delaySpec{}, usageError(fmt.Errorf("--delay: want a number of milliseconds (0 or more) or 'none', got %q", v))
	}
	return delaySpec{set: true, ms: n}, nil
}

// forFormat returns the delay for records of a format: the flag when set,
// else the format's default.
func (d delaySpec) forFormat(format string) (ms int64, ok bool) {
	if d.set {
		return d.ms, !d.none
	}
	if format == "nat" {
		return 500, true
	}
	return 0, false
}

// extractStats counts what trace-extract read, wrote and dropped.
type extractStats struct {
	requests, records, sessions int
	noCalls                     int // NAT requests without LLM calls
	unmatchedEnds, unmatchedSt  int
	emptyPrompt                 int
	nonText                     int
	otherEvents                 int // telemetry events that are not llm_call
	invalid                     int // skipped with --skip-invalid
}

func (cmd *ExtractCmd) run(s Streams) error {
	delay, err := parseDelay(cmd.Delay)
	if err != nil {
		return err
	}
	if cmd.SkipRequests < 0 || cmd.NumRequests != nil && *cmd.NumRequests < 0 {
		return usageError(errors.New("--skip-requests and --num-requests take a number of requests, 0 or more"))
	}
	w := jsonl.NewWriter(s.Stdout)
	x := &extractor{cmd: cmd, w: w, delay: delay, stderr: s.Stderr}
	err = eachInput(cmd.Files, s.Stdin, func(in input) error {
		var bar *progress.Bar
		if !cmd.Quiet {
			bar = progress.Start(s.Stderr, "trace-extract "+in.name, in.size)
		}
		x.bar = bar
		br := bufio.NewReaderSize(bar.Reader(in.r), 1<<20)
		format := cmd.Format
		if format == "auto" {
			var err error
			if format, err = sniff(br); err != nil {
				return dataError(fmt.Errorf("%s: %w", in.name, err))
			}
		}
		x.st = extractStats{}
		var err error
		if format == "nat" {
			err = x.nat(br, in.name)
		} else {
			err = x.telemetry(br, in.name)
		}
		bar.Stop()
		if err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return writeErr(err)
		}
		if !cmd.Quiet {
			x.summary(in.name, format)
		}
		return nil
	})
	// Records written before an error are complete: pass them on, as jq does.
	if ferr := w.Flush(); err == nil && ferr != nil {
		err = writeErr(ferr)
	}
	return err
}

// sniff tells the format of an input from its first non-blank byte: '[' is
// a NAT array, '{' a telemetry line.
func sniff(br *bufio.Reader) (string, error) {
	for i := 0; ; i++ {
		b, err := br.Peek(i + 1)
		if err != nil {
			if i == 0 || err == io.EOF {
				return "", errors.New("empty input: want a NAT trace (JSON array) or telemetry JSONL")
			}
			return "", err
		}
		switch c := b[i]; c {
		case ' ', '\t', '\r', '\n':
			continue
		case 0xef, 0xbb, 0xbf: // a UTF-8 byte-order mark
			if i < 3 {
				continue
			}
		case '[':
			return "nat", nil
		case '{':
			return "telemetry", nil
		}
		return "", fmt.Errorf("at byte offset %d: not a NAT trace (a JSON array of requests) nor telemetry JSONL (one JSON event per line); use --format to say which it is", i)
	}
}

type extractor struct {
	cmd    *ExtractCmd
	w      *jsonl.Writer
	delay  delaySpec
	stderr io.Writer
	st     extractStats
	buf    []byte
	bar    *progress.Bar
}

func (x *extractor) warnf(name, format string, args ...any) {
	if !x.cmd.Quiet {
		fmt.Fprintf(x.stderr, "trace-extract: %s: warning: %s\n", name, fmt.Sprintf(format, args...))
	}
}

func (x *extractor) nat(r io.Reader, name string) error {
	sc := nat.NewArrayScanner(r)
	delayMs, withDelay := x.delay.forFormat("nat")
	for i := 0; ; i++ {
		elem, err := sc.Next()
		if err == io.EOF {
			return nil
		}
		var trunc *nat.TruncatedError
		if errors.As(err, &trunc) {
			x.warnf(name, "input is truncated at byte offset %d, inside request element %d: kept the %d complete requests before it", trunc.Offset, trunc.Index, trunc.Index)
			return nil
		}
		if err != nil {
			return dataError(fmt.Errorf("%s: %w", name, err))
		}
		if i < x.cmd.SkipRequests {
			continue
		}
		if x.cmd.NumRequests != nil && i-x.cmd.SkipRequests >= *x.cmd.NumRequests {
			return nil // the reference slices the list; we can stop reading
		}
		req, err := nat.Decode(elem)
		if err != nil {
			if x.cmd.SkipInvalid {
				x.st.invalid++
				continue
			}
			return dataError(fmt.Errorf("%s: request element %d (byte offset %d): %w", name, i, sc.Offset(), err))
		}
		x.st.requests++
		x.st.unmatchedEnds += req.UnmatchedEnds
		x.st.unmatchedSt += req.UnmatchedStarts
		x.st.nonText += req.NonText
		if len(req.Calls) == 0 {
			x.st.noCalls++
			continue
		}
		session := "conv_" + req.Number
		first := true
		for _, c := range req.Calls {
			text := chat.PromptText(c.Messages)
			if text == "" {
				x.st.emptyPrompt++
				continue
			}
			var rec record.Record
			rec.SetString("session_id", session)
			rec.Set("request", []byte(jsonNumberOrString(req.Number)))
			rec.SetString("model", c.Model)
			if c.Function != "" {
				rec.SetString("function", c.Function)
			}
			if !first && withDelay {
				rec.SetInt("delay", delayMs)
			}
			if first {
				x.st.sessions++
			}
			first = false
			rec.SetInt("output_length", c.CompletionTokens)
			if c.HasPromptTokens {
				rec.SetInt("prompt_tokens", c.PromptTokens)
			}
			setMs(&rec, "start_ms", c.StartTime*1000)
			setMs(&rec, "end_ms", c.EndTime*1000)
			rec.SetString("source", "nat")
			rec.Set("messages", chat.AppendJSON(nil, c.Messages))
			if err := x.write(&rec); err != nil {
				return err
			}
		}
	}
}

// jsonNumberOrString returns s as a JSON number when it is one, else as a
// JSON string.
func jsonNumberOrString(s string) string {
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return s
	}
	return string(record.AppendString(nil, s))
}

// setMs sets key to ms rounded to a whole number, unless ms is NaN.
func setMs(rec *record.Record, key string, ms float64) {
	if !math.IsNaN(ms) && !math.IsInf(ms, 0) {
		rec.SetInt(key, int64(math.Round(ms)))
	}
}

func (x *extractor) write(rec *record.Record) error {
	x.buf = rec.AppendJSON(x.buf[:0])
	x.st.records++
	x.bar.Record()
	if err := x.w.WriteLine(x.buf); err != nil {
		return writeErr(err)
	}
	return nil
}

// telEvent is an llm_call kept for sorting.
type telEvent struct {
	*telemetry.Event
	line int
}

func (x *extractor) telemetry(r io.Reader, name string) error {
	jr := jsonl.NewReader(r, name)
	var events []telEvent
	numberLine, stringLine := 0, 0
	for {
		line, err := jr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return ioError(err)
		}
		ev, err := telemetry.Parse(line)
		if err == nil && ev.Type == "llm_call" && !ev.HasSession {
			err = errors.New("llm_call without \"session_id\": every call must say which session it belongs to")
		}
		if err != nil {
			if x.cmd.SkipInvalid {
				x.st.invalid++
				continue
			}
			return dataError(jr.Errorf("%v (use --skip-invalid to skip such lines)", err))
		}
		if ev.Type != "llm_call" {
			x.st.otherEvents++
			continue
		}
		if ev.HasTimestamp {
			if ev.TimestampIsNumber {
				numberLine = jr.Line()
			} else {
				stringLine = jr.Line()
			}
			if numberLine > 0 && stringLine > 0 {
				return dataError(jr.Errorf("timestamps mix numbers (line %d) and strings (line %d): the order of calls would be undefined; write them all one way", numberLine, stringLine))
			}
		}
		x.st.nonText += ev.NonText
		events = append(events, telEvent{ev, jr.Line()})
	}
	slices.SortStableFunc(events, func(a, b telEvent) int {
		if c := strings.Compare(a.SessionID, b.SessionID); c != 0 {
			return c
		}
		return compareTimestamps(a.Event, b.Event)
	})
	delayMs, withDelay := x.delay.forFormat("telemetry")
	prev := ""
	for i, ev := range events {
		text := chat.PromptText(ev.Messages)
		if text == "" {
			x.st.emptyPrompt++
			continue
		}
		first := i == 0 || ev.SessionID != prev
		if first {
			x.st.sessions++
		}
		prev = ev.SessionID
		var rec record.Record
		rec.SetString("session_id", ev.SessionID)
		rec.SetString("model", ev.Model)
		if ev.HasPriority {
			rec.SetString("priority", ev.Priority)
		}
		if !first && withDelay {
			rec.SetInt("delay", delayMs)
		}
		rec.SetInt("output_length", ev.CompletionTokens)
		if ev.HasPromptTokens {
			rec.SetInt("prompt_tokens", ev.PromptTokens)
		}
		setMs(&rec, "start_ms", ev.StartMs)
		if ev.HasTimestamp {
			if ev.TimestampIsNumber {
				rec.Set("timestamp_raw", []byte(ev.Timestamp))
			} else {
				rec.SetString("timestamp_raw", ev.Timestamp)
			}
		}
		if !math.IsNaN(ev.LatencyMs) {
			rec.Set("latency_ms", strconv.AppendFloat(nil, ev.LatencyMs, 'f', -1, 64))
		}
		rec.SetString("source", "telemetry")
		rec.Set("messages", chat.AppendJSON(nil, ev.Messages))
		if err := x.write(&rec); err != nil {
			return err
		}
		events[i].Event = nil // let the collector have it
	}
	return nil
}

// compareTimestamps orders events of one session: absent timestamps first,
// then strings by code point (the reference's order) or numbers by value.
func compareTimestamps(a, b *telemetry.Event) int {
	if a.HasTimestamp != b.HasTimestamp {
		if !a.HasTimestamp {
			return -1
		}
		return 1
	}
	if a.TimestampIsNumber {
		fa, _ := strconv.ParseFloat(a.Timestamp, 64)
		fb, _ := strconv.ParseFloat(b.Timestamp, 64)
		return cmp.Compare(fa, fb)
	}
	return strings.Compare(a.Timestamp, b.Timestamp)
}

func (x *extractor) summary(name, format string) {
	var b strings.Builder
	fmt.Fprintf(&b, "trace-extract: %s: %s", name, format)
	if format == "nat" {
		fmt.Fprintf(&b, ", %d requests", x.st.requests)
	}
	fmt.Fprintf(&b, ", %d sessions, %d records", x.st.sessions, x.st.records)
	var dropped []string
	add := func(n int, what string) {
		if n > 0 {
			dropped = append(dropped, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(x.st.noCalls, "requests without LLM calls")
	add(x.st.unmatchedEnds, "LLM_END without LLM_START")
	add(x.st.unmatchedSt, "LLM_START without LLM_END")
	add(x.st.emptyPrompt, "calls with an empty prompt")
	add(x.st.otherEvents, "non-llm_call events")
	add(x.st.invalid, "invalid entries (--skip-invalid)")
	if len(dropped) > 0 {
		fmt.Fprintf(&b, "; dropped %s", strings.Join(dropped, ", "))
	}
	if x.st.nonText > 0 {
		fmt.Fprintf(&b, "; %d message parts without text ignored", x.st.nonText)
	}
	fmt.Fprintln(x.stderr, b.String())
}
