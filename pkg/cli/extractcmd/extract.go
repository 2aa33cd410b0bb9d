package extractcmd

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/agent-trace/agent-trace/pkg/chat"
	"github.com/agent-trace/agent-trace/pkg/cli"
	"github.com/agent-trace/agent-trace/pkg/jsonl"
	"github.com/agent-trace/agent-trace/pkg/nat"
	"github.com/agent-trace/agent-trace/pkg/natsteps"
	"github.com/agent-trace/agent-trace/pkg/progress"
	"github.com/agent-trace/agent-trace/pkg/record"
	"github.com/agent-trace/agent-trace/pkg/telemetry"
	"github.com/agent-trace/agent-trace/pkg/thread"

	"github.com/zeebo/xxh3"
)

const extractHelp = `Read agent traces and write one JSON record per LLM call.

Inputs are NAT profiler traces (all_requests_profiler_traces.json: a JSON
array of requests), NAT step streams (what NAT's "file" telemetry exporter
writes: one IntermediateStep per line, requests interleaved), OpenTelemetry
JSON (OTLP export requests or spans, one per line or pretty-printed) or OTLP
protobuf (the Collector's file exporter with format proto; LLM
spans of the GenAI conventions or OpenInference; sessions from session.id or
gen_ai.conversation.id, else the trace; spans come in any order, so they
are read in two passes, as telemetry below) or telemetry JSONL (one event per line; llm_call events become records, tool_call and
other events are dropped). The format is detected per input unless --format
says it. With no FILE, or FILE "-", standard input is read.

NAT traces are streamed: memory is bounded by the largest request, not the
file. A step stream has no request_number: a request is a top-level span
(WORKFLOW_START to WORKFLOW_END) with the steps under it (by parent_id),
numbered in the order requests start (conv_0, conv_1, ...) and written as
each ends; memory is bounded by the requests open at once. Requests the
stream never ends (a crash) are written at the end, with a warning. Telemetry is sorted by (session_id, timestamp) as the reference does,
in two passes: the first keeps, per llm_call, its session, timestamp and
place in the input (tens of bytes); the second reads the calls back in
order, a session at a time, so memory is bounded by the largest session.
A file is read back in place; standard input is copied to a temporary file
(in $TMPDIR) as it is read, which costs its size in disk, not memory. An
error in a payload is found in the second pass: the records before it are
written.

Each record holds session_id, the normalised messages and the reported token
usage; see the README's record contract. A summary goes to stderr.

` + cli.CompactHelp

// ExtractCmd is the grammar of trace-extract.
type ExtractCmd struct {
	Files        []string `arg:"" optional:"" name:"FILE" help:"Trace files to read (default: standard input)."`
	Format       string   `enum:"auto,nat,nat-steps,otel,telemetry" default:"auto" help:"Input format: auto, nat (profiler JSON), nat-steps (NAT's file exporter, one step per line), otel (OpenTelemetry JSON or OTLP protobuf: GenAI or OpenInference spans) or telemetry."`
	Delay        string   `placeholder:"MS|auto|none" complete:"auto,none,500" help:"Delay before every call of a session but its first: a number of ms (default: 500 for NAT, profiler or steps, as the reference; none for telemetry and OTel), 'auto' for the real gap since the end of the session's previous call, or 'none'."`
	Timestamps   bool     `help:"Add timestamp: ms since the start of the first call (aiperf's fixed-schedule replay)."`
	Threads      bool     `help:"Split each session into conversation threads (interleaved agents): session_id becomes SESSION/N, the original goes to parent_session."`
	Usage        string   `enum:"stream,end" default:"stream" help:"NAT token usage: stream takes the largest usage of the call's LLM_NEW_TOKEN steps when there is one (the true counts of streaming traces), end the LLM_END's as the reference."`
	SkipRequests int      `placeholder:"N" help:"NAT: skip the first N requests of each file."`
	NumRequests  *int     `placeholder:"N" help:"NAT: keep at most N requests (after skipping) of each file (default: all)."`
	SkipInvalid  bool     `help:"Skip (and count) invalid events or requests instead of stopping with an error."`
	Uncaptured   string   `enum:"drop,usage" default:"drop" help:"OTel LLM spans without message text (content capture off): drop them (counted), or write usage-only records: input_length from the reported usage, no messages; the row gets no hash_ids (aiperf makes up a prompt of that length: no prefix reuse)."`
	Follow       bool     `help:"NAT step stream in one FILE: keep reading it as it grows (as tail -f), writing each request as it ends; SIGINT or SIGTERM stops it, every ended request written (exit 0), the requests still open left out."`
	Compact      bool     `help:"Leave out the messages a record shares with an earlier line of its session (shared_messages, shared_back); for piping into the next stage."`
	AllowEmpty   bool     `help:"Exit 0 when no record is written (by default an empty result is an error, exit 1)."`
	Quiet        bool     `short:"q" help:"Print no summary on stderr; errors are still printed."`
}

// Run runs trace-extract with args.
func Run(args []string, s cli.Streams) int {

	return cli.Run("trace-extract", extractHelp, &ExtractCmd{}, args, s)
}

// delaySpec is the parsed --delay: a fixed number of ms, auto, or none.
type delaySpec struct {
	set  bool // given on the command line
	none bool
	auto bool
	ms   int64
}

func parseDelay(v string) (delaySpec, error) {
	switch v {
	case "":
		return delaySpec{}, nil
	case "none":
		return delaySpec{set: true, none: true}, nil
	case "auto":
		return delaySpec{set: true, auto: true}, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return delaySpec{}, cli.UsageError(fmt.Errorf("--delay: want a number of milliseconds (0 or more), 'auto' or 'none', got %q", v))
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
	otherEvents                 int // telemetry events that are not llm_call; OTel spans that are not LLM calls
	noContent                   int // OTel LLM spans without message text
	stillOpen                   int // NAT step requests still open when --follow stopped
	usageOnly                   int // usage-only records written (--uncaptured usage)
	invalid                     int // skipped with --skip-invalid
	usageFixed                  int // NAT calls whose usage came from LLM_NEW_TOKEN
	threads                     int // with --threads
	noTiming                    int // delays or timestamps without the times they need
}

// Exec runs trace-extract once its flags are parsed.
func (cmd *ExtractCmd) Exec(s cli.Streams) error {
	if err := cli.StdoutNotInput(cmd.Files, s.Stdout); err != nil {
		return err
	}
	delay, err := parseDelay(cmd.Delay)
	if err != nil {
		return err
	}
	if cmd.Follow && (len(cmd.Files) != 1 || cmd.Files[0] == "-" || cmd.Format != "auto" && cmd.Format != "nat-steps") {
		return cli.UsageError(errors.New("--follow reads one growing file of NAT steps: give one FILE (not stdin; a pipe from tail -f needs no --follow) and no other --format"))
	}
	if cmd.SkipRequests < 0 || cmd.NumRequests != nil && *cmd.NumRequests < 0 {
		return cli.UsageError(errors.New("--skip-requests and --num-requests take a number of requests, 0 or more"))
	}
	// Live memory is bounded by a request or a session, plus the index of
	// a telemetry or OTel input: keep the heap near it on long inputs.
	cli.SoftMemoryLimit(80 << 20)
	w := jsonl.NewWriter(s.Stdout)
	x := &extractor{cmd: cmd, w: w, delay: delay, stderr: s.Stderr, originMs: math.NaN()}
	if !cmd.Compact {
		// Whole records repeat the conversation: remember the JSON text of
		// long contents. Compact records do not repeat it.
		x.json = &chat.JSONWriter{}
	}
	err = cli.EachInput(cmd.Files, s.Stdin, func(in cli.Input) error {
		var bar *progress.Bar
		if !cmd.Quiet {
			bar = progress.Start(s.Stderr, "trace-extract "+in.Name, in.Size)
		}
		x.bar = bar
		r := in.R
		if cmd.Follow {
			if in.File == nil {
				return cli.UsageError(fmt.Errorf("--follow: %s is compressed: follow the file it is written to", in.Name))
			}
			fl := newFollower(in.File)
			defer fl.Close()
			bar.Stop() // no end to measure
			r, bar, x.bar = fl, nil, nil
		}
		br := bufio.NewReaderSize(bar.Reader(r), 1<<20)
		format := cmd.Format
		var head []byte
		if cmd.Follow {
			// A growing file may hold less than a peek's worth yet.
			format = "nat-steps"
		} else {
			head, _ = br.Peek(4096)
		}
		if format == "auto" {
			var err error
			if format, err = sniff(br); err != nil {
				if hint := cli.TraceHint(head, ""); hint != "" {
					err = errors.New(hint)
				}
				if cli.HasStatus(err) {
					return fmt.Errorf("%s: %w", in.Name, err)
				}
				return cli.DataError(fmt.Errorf("%s: %w", in.Name, err))
			}
		} else if hint := cli.TraceHint(head, format); hint != "" {
			return cli.DataError(fmt.Errorf("%s: %s", in.Name, hint))
		}
		x.st = extractStats{}
		err := sourceNamed(format).read(x, in, br)
		bar.Stop()
		if err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return cli.WriteError(err)
		}
		if !cmd.Quiet {
			x.summary(in.Name, format)
		}
		x.records += x.st.records
		if x.st.records == 0 {
			x.why = x.emptyReason(in.Name, format)
		}
		return nil
	})
	// Records written before an error are complete: pass them on, as jq does.
	if ferr := w.Flush(); err == nil && ferr != nil {
		err = cli.WriteError(ferr)
	}
	if err == nil && x.records == 0 && !cmd.AllowEmpty {
		return cli.NoRecords(x.why)
	}
	return err
}

// emptyReason says why an input gave no record.
func (x *extractor) emptyReason(name, format string) string {
	switch {
	case format == "nat-steps" && x.st.requests == 0:
		return fmt.Sprintf("%s holds no NAT step", name)
	case format == "nat-steps" && x.st.noCalls == x.st.requests:
		return fmt.Sprintf("none of the %d NAT requests of %s has an LLM call (LLM_START and LLM_END with one UUID)", x.st.requests, name)
	case format == "nat" && x.st.requests == 0 && x.skipped > 0:
		return fmt.Sprintf("%s: --skip-requests %d skips all of its %d requests", name, x.cmd.SkipRequests, x.skipped)
	case format == "nat" && x.st.requests == 0:
		return fmt.Sprintf("%s holds no complete NAT request", name)
	case format == "nat" && x.st.noCalls == x.st.requests:
		return fmt.Sprintf("none of the %d NAT requests of %s has an LLM call (LLM_START and LLM_END with one UUID)", x.st.requests, name)
	case format == "otel" && x.st.noContent > 0:
		return fmt.Sprintf("the %s of %s carry no message text: the instrumentation did not record content (turn it on: OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true, OpenLLMetry's TRACELOOP_TRACE_CONTENT=true)", count(x.st.noContent, "LLM span"), name)
	case format == "otel":
		return fmt.Sprintf("%s holds no LLM span (%s of other kinds): want gen_ai.operation.name chat or openinference.span.kind LLM", name, count(x.st.otherEvents, "span"))
	case format == "telemetry" && x.st.otherEvents > 0 && x.st.emptyPrompt == 0 && x.st.invalid == 0:
		return fmt.Sprintf("%s holds no llm_call event (%d other events)", name, x.st.otherEvents)
	case x.st.emptyPrompt > 0:
		return fmt.Sprintf("every LLM call of %s has an empty prompt (%d calls)", name, x.st.emptyPrompt)
	}
	return fmt.Sprintf("%s holds no LLM call", name)
}

type extractor struct {
	records    int                // written, over all inputs
	why        string             // why the last input without records gave none
	skipped    int                // NAT requests skipped by --skip-requests in the input being read
	seen       map[string]float64 // sessions written from the input being read, and their last call's end
	again      []string           // NAT request numbers that came again in the input being read
	numbers    map[string]bool    // NAT request numbers of the input being read
	unnumbered int                // NAT requests without request_number in the input being read
	cmd        *ExtractCmd
	w          *jsonl.Writer
	delay      delaySpec
	stderr     io.Writer
	st         extractStats
	buf        []byte
	json       *chat.JSONWriter // writes the messages field; nil remembers nothing
	msgs       []byte           // the messages field of the record being written
	// The lines written last, for --compact: their session, and each
	// one's message keys.
	prevSession string
	recent      cli.Recent[[]xxh3.Uint128]
	keyHash     *xxh3.Hasher
	rec         record.Record // the record being written (emitSession)
	vals        []byte        // its values
	bar         *progress.Bar
	// originMs is the start of the first call written, for --timestamps.
	originMs float64
}

func (x *extractor) warnf(name, format string, args ...any) {
	if !x.cmd.Quiet {
		fmt.Fprintf(x.stderr, "trace-extract: %s: warning: %s\n", name, fmt.Sprintf(format, args...))
	}
}

func (x *extractor) nat(r io.Reader, name string) error {
	sc := nat.NewArrayScanner(r)
	defer x.natStart(name)()
	for i := 0; ; i++ {
		elem, err := sc.Next()
		if err == io.EOF {
			return nil
		}
		var trunc *nat.TruncatedError
		if errors.As(err, &trunc) {
			where := fmt.Sprintf("request element %d", trunc.Index)
			if trunc.RequestNumber != "" {
				where += " (request_number " + trunc.RequestNumber + ")"
			}
			x.warnf(name, "input is truncated at byte offset %d, inside %s: kept the %d complete requests before it", trunc.Offset, where, trunc.Index)
			return nil
		}
		if err != nil {
			return cli.DataError(fmt.Errorf("%s: %w", name, err))
		}
		done, err := x.natRequest(name, i, elem, func() string {
			return fmt.Sprintf("request element %d (byte offset %d)", i, sc.Offset())
		})
		if done || err != nil {
			return err
		}
	}
}

// natSteps reads NAT's step stream (natsteps): each request, as it ends,
// goes the way of a profiler trace's.
func (x *extractor) natSteps(r io.Reader, name string) error {
	rd := natsteps.NewReader(r, name, x.cmd.SkipInvalid)
	defer x.natStart(name)()
	unended := 0
	defer func() {
		x.st.invalid += rd.Invalid
		if unended > 0 {
			x.warnf(name, "%s never ended (the stream stops first: a crash, or a copy taken mid-run): their complete LLM calls are kept", count(unended, "request"))
		}
	}()
	for i := 0; ; i++ {
		req, err := rd.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return cli.DataError(err)
		}
		if !req.Ended {
			if x.cmd.Follow {
				// Stopped while these ran: they are not over.
				x.st.stillOpen++
				continue
			}
			unended++
		}
		done, err := x.natRequest(name, i, req.Elem, func() string {
			return fmt.Sprintf("request %d (first step on line %d)", req.Number, req.Line)
		})
		if done || err != nil {
			return err
		}
		if x.cmd.Follow {
			// Live: the next stage sees each request as it ends.
			if err := x.w.Flush(); err != nil {
				return cli.WriteError(err)
			}
		}
	}
}

// natStart resets the per-input NAT state and returns what warns, at the
// end of the input, of unnumbered and repeated requests.
func (x *extractor) natStart(name string) func() {
	x.skipped, x.seen, x.again, x.numbers, x.unnumbered = 0, nil, nil, map[string]bool{}, 0
	return func() {
		if x.unnumbered > 0 {
			verb := "have"
			if x.unnumbered == 1 {
				verb = "has"
			}
			x.warnf(name, "%s %s no request_number: each such request is session conv_atN, N its place in the file (the reference calls them all conv_0)", count(x.unnumbered, "request"), verb)
		}
		if len(x.again) > 0 {
			x.warnf(name, "request_number %s came again: the later requests' calls continue the same session (conv_N), as the reference writes them and aiperf, which groups rows by session_id, replays them",
				strings.Join(x.again, ", "))
		}
	}
}

// natRequest writes the records of the i-th request of an input, elem (an
// element of a profiler trace); where names it in an error. done is true
// when --num-requests says to stop reading.
func (x *extractor) natRequest(name string, i int, elem []byte, where func() string) (done bool, err error) {
	if i < x.cmd.SkipRequests {
		x.skipped++
		return false, nil
	}
	if x.cmd.NumRequests != nil && i-x.cmd.SkipRequests >= *x.cmd.NumRequests {
		return true, nil // the reference slices the list; we can stop reading
	}
	req, err := nat.Decode(elem)
	if err != nil {
		if x.cmd.SkipInvalid {
			x.st.invalid++
			return false, nil
		}
		return false, cli.DataError(fmt.Errorf("%s: %s: %w", name, where(), err))
	}
	x.st.requests++
	x.st.unmatchedEnds += req.UnmatchedEnds
	x.st.unmatchedSt += req.UnmatchedStarts
	x.st.nonText += req.NonText
	if len(req.Calls) == 0 {
		x.st.noCalls++
		return false, nil
	}
	calls := make([]call, 0, len(req.Calls))
	for _, c := range req.Calls {
		out, prompt, hasPrompt := c.CompletionTokens, c.PromptTokens, c.HasPromptTokens
		if x.cmd.Usage == "stream" && c.HasStreamUsage &&
			(c.StreamCompletionTokens != out || c.StreamPromptTokens != prompt) {
			out, prompt, hasPrompt = c.StreamCompletionTokens, c.StreamPromptTokens, c.StreamPromptTokens > 0 || hasPrompt
			x.st.usageFixed++
		}
		calls = append(calls, call{
			request: req.Number, model: c.Model, function: c.Function, messages: c.Messages, tools: c.Tools,
			output: out, prompt: prompt, hasPrompt: hasPrompt,
			startMs: c.StartTime * 1000, endMs: c.EndTime * 1000, latencyMs: math.NaN(),
		})
	}
	session := "conv_" + req.Number
	if req.Number == "" {
		// No request_number: the reference calls it conv_0, which
		// would join request 0's session in a replay. Its place in
		// the file names it instead.
		session = "conv_at" + strconv.Itoa(i)
		x.unnumbered++
	} else {
		if x.numbers[req.Number] && !slices.Contains(x.again, req.Number) {
			x.again = append(x.again, req.Number)
		}
		x.numbers[req.Number] = true
	}
	return false, x.emitSession("nat", session, calls)
}

// call is one LLM call of either format, ready to become a record.
type call struct {
	request   string // NAT request_number; "" for telemetry
	model     string
	function  string
	messages  []chat.Message
	keys      []xxh3.Uint128 // the messages' keys (chat.Message.Key) when the decoder gave them
	tools     []byte         // the request's tools (compact JSON), nil when none
	output    int64
	prompt    int64
	hasPrompt bool
	startMs   float64 // NaN when unknown
	endMs     float64 // NaN when unknown
	// telemetry only
	priority     string
	hasPriority  bool
	timestampRaw []byte // the raw JSON timestamp
	latencyMs    float64
	// usageOnly: no prompt text was kept (--uncaptured usage): the record
	// gets input_length from prompt, and no messages.
	usageOnly bool
}

// emitSession writes the records of one session's calls, in order: calls
// with an empty prompt are dropped; with --threads the session is split
// into threads; delay and timestamp are set as the flags say.
func (x *extractor) emitSession(format, session string, calls []call) error {
	fixedMs, withDelay := x.delay.forFormat(format)
	var split thread.Splitter
	type threadState struct {
		rows  int
		endMs float64
	}
	var threads []threadState
	for i := range calls {
		c := &calls[i]
		if !c.usageOnly && chat.EmptyPrompt(c.messages) {
			x.st.emptyPrompt++
			continue
		}
		sid, n := session, 0
		if x.cmd.Threads && !c.usageOnly {
			n, _ = split.Add(c.messages)
			sid = session + "/" + strconv.Itoa(n)
		}
		for len(threads) <= n {
			// A session seen before in this input (a request_number that
			// comes again) goes on: aiperf groups rows by session_id, and
			// the reference gives delays as to one session.
			st := threadState{endMs: math.NaN()}
			k := sid
			if x.cmd.Threads {
				k = session + "/" + strconv.Itoa(len(threads))
			}
			if end, ok := x.seen[k]; ok {
				st = threadState{rows: 1, endMs: end}
			} else {
				x.st.sessions++
			}
			threads = append(threads, st)
		}
		th := &threads[n]
		// One record and one buffer for its values, reused call after call.
		rec := &x.rec
		rec.Reset()
		x.vals = x.vals[:0]
		rec.Set("session_id", x.str(sid))
		if x.cmd.Threads {
			rec.Set("parent_session", x.str(session))
		}
		if c.request != "" {
			rec.Set("request", []byte(jsonNumberOrString(c.request)))
		}
		rec.Set("model", x.str(c.model))
		if c.function != "" {
			rec.Set("function", x.str(c.function))
		}
		if c.hasPriority {
			rec.Set("priority", x.str(c.priority))
		}
		if th.rows > 0 && withDelay {
			ms := fixedMs
			if x.delay.auto {
				ms = 0
				if gap := c.startMs - th.endMs; !math.IsNaN(gap) {
					ms = max(0, int64(math.Round(gap)))
				} else {
					x.st.noTiming++
				}
			}
			rec.Set("delay", x.int(ms))
		}
		if x.cmd.Timestamps {
			if math.IsNaN(c.startMs) {
				x.st.noTiming++
			} else {
				if math.IsNaN(x.originMs) {
					x.originMs = c.startMs
				}
				rec.Set("timestamp", x.int(max(0, int64(math.Round(c.startMs-x.originMs)))))
			}
		}
		rec.Set("output_length", x.int(c.output))
		if c.hasPrompt {
			rec.Set("prompt_tokens", x.int(c.prompt))
		}
		x.setMs(rec, "start_ms", c.startMs)
		x.setMs(rec, "end_ms", c.endMs)
		if c.timestampRaw != nil {
			rec.Set("timestamp_raw", c.timestampRaw)
		}
		if !math.IsNaN(c.latencyMs) {
			rec.Set("latency_ms", x.float(c.latencyMs))
		}
		rec.Set("source", x.str(format))
		if c.usageOnly {
			// No text to tokenize: the reported count stands for it.
			rec.Set("input_length", x.int(c.prompt))
			rec.Set("usage_only", []byte("true"))
			x.shared(sid, nil, nil) // the next records share no message with this one
		} else {
			msgs := c.messages
			if x.cmd.Compact {
				if shared, back := x.shared(sid, msgs, c.keys); shared > 0 {
					rec.Set("shared_messages", x.int(int64(shared)))
					if back > 1 {
						rec.Set("shared_back", x.int(int64(back)))
					}
					msgs = msgs[shared:]
				}
			}
			x.msgs = x.json.Append(x.msgs[:0], msgs)
			rec.Set("messages", x.msgs)
			if c.tools != nil {
				rec.Set("tools", c.tools)
			}
		}
		if err := x.write(rec); err != nil {
			return err
		}
		th.rows++
		th.endMs = c.endMs
		if math.IsNaN(th.endMs) {
			th.endMs = c.startMs
		}
		if x.seen == nil {
			x.seen = map[string]float64{}
		}
		x.seen[sid] = th.endMs
	}
	if x.cmd.Threads {
		x.st.threads += len(threads)
	}
	return nil
}

// shared returns how many messages a record of session sid with msgs
// shares with the line written before it (--compact), and remembers it as
// that line. known are the messages' keys (chat.Message.Key) when the
// decoder gave them, else nil.
func (x *extractor) shared(sid string, msgs []chat.Message, known []xxh3.Uint128) (n, back int) {
	cur := x.recent.Next(sid == x.prevSession)
	x.prevSession = sid
	keys := (*cur)[:0]
	if len(known) == len(msgs) {
		keys = append(keys, known...) // the decoder's
	} else {
		if x.keyHash == nil {
			x.keyHash = xxh3.New()
		}
		for i := range msgs {
			keys = append(keys, msgs[i].Key(x.keyHash))
		}
	}
	*cur = keys
	// The earlier line that shares the most first messages; the nearest of
	// those that share as many.
	for k := 1; k <= x.recent.Lines(); k++ {
		prev, _ := x.recent.Back(k)
		i := 0
		for i < min(len(*prev), len(keys)) && (*prev)[i] == keys[i] {
			i++
		}
		if i > n {
			n, back = i, k
		}
	}
	return n, back
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
func (x *extractor) setMs(rec *record.Record, key string, ms float64) {
	if !math.IsNaN(ms) && math.Abs(ms) < 1<<53 { // else it is no time an int64 holds
		rec.Set(key, x.int(int64(math.Round(ms))))
	}
}

// str, int and float write a value of the record being made into x.vals
// and return it (capped: the next value cannot write over it).
func (x *extractor) str(s string) []byte {
	start := len(x.vals)
	x.vals = record.AppendString(x.vals, s)
	return x.vals[start:len(x.vals):len(x.vals)]
}

func (x *extractor) int(n int64) []byte {
	start := len(x.vals)
	x.vals = strconv.AppendInt(x.vals, n, 10)
	return x.vals[start:len(x.vals):len(x.vals)]
}

func (x *extractor) float(f float64) []byte {
	start := len(x.vals)
	x.vals = strconv.AppendFloat(x.vals, f, 'f', -1, 64)
	return x.vals[start:len(x.vals):len(x.vals)]
}

func (x *extractor) write(rec *record.Record) error {
	x.buf = rec.AppendJSON(x.buf[:0])
	x.st.records++
	x.bar.Record()
	if err := x.w.WriteLine(x.buf); err != nil {
		return cli.WriteError(err)
	}
	return nil
}

// rereadable returns what reads an input again in a second pass: the file
// itself, read in place, or, for other input (a pipe, a compressed file),
// a temporary copy that r (returned in its stead) writes as it is read.
// done removes the copy.
func rereadable(in cli.Input, r io.Reader, name string) (io.ReaderAt, io.Reader, func(), error) {
	if in.File != nil {
		return in.File, r, func() {}, nil // a file named on the command line, uncompressed
	}
	spill, err := os.CreateTemp("", "trace-extract-*")
	if err != nil {
		return nil, nil, nil, cli.IOError(fmt.Errorf("a temporary copy of %s: %w", name, err))
	}
	done := func() {
		spill.Close()
		os.Remove(spill.Name())
	}
	return spill, io.TeeReader(r, spill), done, nil
}

// telEvent is an llm_call kept for sorting.
// telCall is what the first pass keeps of an llm_call line: what orders
// it, and where it is, to be read again (not its messages).
type telCall struct {
	session   string
	timestamp string
	isNumber  bool
	has       bool
	line      int   // its line number
	off, end  int64 // its bytes in the input (blank lines before it included)
}

// telemetry reads a telemetry input in two passes, so that memory holds one
// session's calls, not the file's: the first decodes only each line's type,
// session and timestamp, and notes where each llm_call is; the calls are
// sorted by (session_id, timestamp) as the reference does; the second reads
// them back in that order, a session at a time. A regular file is read
// back in place; other input (a pipe, a compressed file) is copied to a
// temporary file as it is read.
func (x *extractor) telemetry(in cli.Input, r io.Reader, name string) error {
	x.seen = nil
	back, r, done, err := rereadable(in, r, name)
	if err != nil {
		return err
	}
	defer done()
	var ix telIndex
	if !x.indexHalves(in, name, &ix) {
		ix = telIndex{}
		if err := x.indexLines(jsonl.NewReader(r, name), 0, &ix); err != nil {
			return err
		}
	}
	x.st.invalid += ix.invalid
	x.st.otherEvents += ix.other
	calls := ix.calls
	slices.SortStableFunc(calls, func(a, b telCall) int {
		if c := strings.Compare(a.session, b.session); c != 0 {
			return c
		}
		return compareTimestamps(a, b)
	})
	var buf []byte
	var dec telemetry.Decoder // decodes each message of a session once
	for len(calls) > 0 {
		n := 1
		for n < len(calls) && calls[n].session == calls[0].session {
			n++
		}
		dec.Reset()
		group := make([]call, 0, n)
		for _, tc := range calls[:n] {
			buf = slices.Grow(buf[:0], int(tc.end-tc.off))[:tc.end-tc.off]
			if _, err := back.ReadAt(buf, tc.off); err != nil {
				return cli.IOError(fmt.Errorf("%s: reading line %d again: %w", name, tc.line, err))
			}
			line := bytes.TrimSpace(buf)
			if tc.off == 0 {
				line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
			}
			ev, err := dec.Parse(line)
			if err != nil {
				if x.cmd.SkipInvalid {
					x.st.invalid++
					continue
				}
				return cli.DataError(fmt.Errorf("%s:%d: %v (use --skip-invalid to skip such lines)", name, tc.line, err))
			}
			x.st.nonText += ev.NonText
			c := call{
				model: ev.Model, messages: ev.Messages, keys: ev.MessageKeys, tools: ev.Tools, output: ev.CompletionTokens,
				prompt: ev.PromptTokens, hasPrompt: ev.HasPromptTokens,
				startMs: ev.StartMs, endMs: ev.StartMs + ev.LatencyMs,
				priority: ev.Priority, hasPriority: ev.HasPriority, latencyMs: ev.LatencyMs,
			}
			if math.IsNaN(ev.LatencyMs) {
				c.endMs = ev.StartMs // no latency: the call is taken to end where it starts
			}
			if ev.HasTimestamp {
				if ev.TimestampIsNumber {
					c.timestampRaw = []byte(ev.Timestamp)
				} else {
					c.timestampRaw = record.AppendString(nil, ev.Timestamp)
				}
			}
			group = append(group, c)
		}
		if len(group) > 0 {
			if err := x.emitSession("telemetry", calls[0].session, group); err != nil {
				return err
			}
		}
		calls = calls[n:]
	}
	return nil
}

// telIndex is what the first pass learns of (a part of) a telemetry
// input.
type telIndex struct {
	calls                  []telCall
	invalid, other         int // lines skipped (--skip-invalid), events other than llm_call
	lines                  int // lines read
	numberLine, stringLine int // the last llm_call line with a timestamp of each kind
}

// indexLines is the first pass over the lines jr reads, which start at
// offset base of the input: it notes each llm_call's session, timestamp
// and place, and counts the other lines. It returns the error of the
// first bad line (unless --skip-invalid), naming the input and line.
func (x *extractor) indexLines(jr *jsonl.Reader, base int64, ix *telIndex) error {
	sessions := map[string]string{} // one copy of each session id
	for {
		off := base + jr.Offset()
		line, err := jr.Next()
		if err == io.EOF {
			ix.lines = jr.Line()
			return nil
		}
		if err != nil {
			return cli.IOError(err)
		}
		ev, err := telemetry.ParseHead(line)
		if err == nil && ev.Type == "llm_call" && !ev.HasSession {
			err = errors.New("llm_call without \"session_id\": every call must say which session it belongs to")
		}
		if err != nil {
			if x.cmd.SkipInvalid {
				ix.invalid++
				continue
			}
			return cli.DataError(jr.Errorf("%v (use --skip-invalid to skip such lines)", err))
		}
		if ev.Type != "llm_call" {
			ix.other++
			continue
		}
		if ev.HasTimestamp {
			if ev.TimestampIsNumber {
				ix.numberLine = jr.Line()
			} else {
				ix.stringLine = jr.Line()
			}
			if ix.numberLine > 0 && ix.stringLine > 0 {
				return cli.DataError(jr.Errorf("timestamps mix numbers (line %d) and strings (line %d): the order of calls would be undefined; write them all one way", ix.numberLine, ix.stringLine))
			}
		}
		sid, ok := sessions[ev.SessionID]
		if !ok {
			sid = strings.Clone(ev.SessionID)
			sessions[sid] = sid
		}
		ix.calls = append(ix.calls, telCall{session: sid, timestamp: ev.Timestamp, isNumber: ev.TimestampIsNumber,
			has: ev.HasTimestamp, line: jr.Line(), off: off, end: base + jr.Offset()})
	}
}

// halvesFrom is the size from which the first pass over a file reads its
// two halves at once, on two CPUs: the stages after trace-extract wait
// for its first record until the pass is over.
var halvesFrom int64 = 32 << 20

// indexHalves is the first pass over a file named on the command line, its
// halves (cut after a line end) read at once. It reports false when it did
// not index the file: not such a file, a small one, or a part met a bad
// line or timestamps of the other kind than the other part's (the caller
// then reads it line by line, which reports what the first bad line is,
// as it always does).
func (x *extractor) indexHalves(in cli.Input, name string, ix *telIndex) bool {
	if in.File == nil {
		return false
	}
	st, err := in.File.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() < halvesFrom {
		return false
	}
	size := st.Size()
	mid := lineStartAfter(in.File, size/2, size)
	if mid <= 0 || mid >= size {
		return false
	}
	// A byte-order mark starts the file only: a part starting with one
	// would read it otherwise.
	var head [3]byte
	if n, _ := in.File.ReadAt(head[:], mid); n == 3 && string(head[:]) == "\xef\xbb\xbf" {
		return false
	}
	cli.UseCPUs(2)
	defer cli.UseCPUs(1)
	var parts [2]telIndex
	var errs [2]error
	var wg sync.WaitGroup
	for k, span := range [2][2]int64{{0, mid}, {mid, size}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			jr := jsonl.NewReader(io.NewSectionReader(in.File, span[0], span[1]-span[0]), name)
			errs[k] = x.indexLines(jr, span[0], &parts[k])
		}()
	}
	wg.Wait()
	a, b := &parts[0], &parts[1]
	if errs[0] != nil || errs[1] != nil || a.numberLine > 0 && b.stringLine > 0 || a.stringLine > 0 && b.numberLine > 0 {
		return false
	}
	for i := range b.calls {
		b.calls[i].line += a.lines
	}
	*ix = telIndex{calls: append(a.calls, b.calls...), invalid: a.invalid + b.invalid, other: a.other + b.other, lines: a.lines + b.lines}
	return true
}

// lineStartAfter returns the offset just past the first line end at or
// after offset at of f (size bytes), or size when there is none.
func lineStartAfter(f io.ReaderAt, at, size int64) int64 {
	buf := make([]byte, 64<<10)
	for at < size {
		n, err := f.ReadAt(buf, at)
		if k := bytes.IndexByte(buf[:n], '\n'); k >= 0 {
			return at + int64(k) + 1
		}
		if err != nil {
			return size
		}
		at += int64(n)
	}
	return size
}

// compareTimestamps orders events of one session: absent timestamps first,
// then strings by code point (the reference's order) or numbers by value.
func compareTimestamps(a, b telCall) int {
	if a.has != b.has {
		if !a.has {
			return -1
		}
		return 1
	}
	if a.isNumber {
		fa, _ := strconv.ParseFloat(a.timestamp, 64)
		fb, _ := strconv.ParseFloat(b.timestamp, 64)
		return cmp.Compare(fa, fb)
	}
	return strings.Compare(a.timestamp, b.timestamp)
}

func (x *extractor) summary(name, format string) {
	var b strings.Builder
	fmt.Fprintf(&b, "trace-extract: %s: %s", name, format)
	if format == "nat" || format == "nat-steps" {
		fmt.Fprintf(&b, ", %s", count(x.st.requests, "request"))
	}
	sessions := "session"
	if x.cmd.Threads {
		sessions = "thread session"
	}
	fmt.Fprintf(&b, ", %s, %s", count(x.st.sessions, sessions), count(x.st.records, "record"))
	var dropped []string
	add := func(n int, one, many string) {
		if n == 1 {
			dropped = append(dropped, "1 "+one)
		} else if n > 1 {
			dropped = append(dropped, fmt.Sprintf("%d %s", n, many))
		}
	}
	add(x.st.noCalls, "request without LLM calls", "requests without LLM calls")
	add(x.st.unmatchedEnds, "LLM_END without LLM_START", "LLM_END without LLM_START")
	add(x.st.unmatchedSt, "LLM_START without LLM_END", "LLM_START without LLM_END")
	add(x.st.emptyPrompt, "call with an empty prompt", "calls with an empty prompt")
	if format == "otel" {
		add(x.st.otherEvents, "span that is not an LLM call", "spans that are not LLM calls")
		add(x.st.noContent, "LLM span without message text", "LLM spans without message text")
	} else {
		add(x.st.otherEvents, "non-llm_call event", "non-llm_call events")
	}
	add(x.st.invalid, "invalid entry (--skip-invalid)", "invalid entries (--skip-invalid)")
	if len(dropped) > 0 {
		fmt.Fprintf(&b, "; dropped %s", strings.Join(dropped, ", "))
	}
	if x.st.nonText > 0 {
		fmt.Fprintf(&b, "; %s without text ignored", count(x.st.nonText, "message part"))
	}
	if x.st.threads > 0 {
		fmt.Fprintf(&b, "; %s", count(x.st.threads, "thread"))
	}
	if x.st.usageOnly > 0 {
		fmt.Fprintf(&b, "; %s without message text written usage-only (input_length from usage, no hash_ids downstream)", count(x.st.usageOnly, "call"))
	}
	if x.st.stillOpen > 0 {
		fmt.Fprintf(&b, "; %s still open when stopped, not written", count(x.st.stillOpen, "request"))
	}
	if x.st.usageFixed > 0 {
		fmt.Fprintf(&b, "; %s took their token usage from LLM_NEW_TOKEN (LLM_END sums streamed chunks; --usage end keeps it)", count(x.st.usageFixed, "call"))
	}
	if x.st.noTiming > 0 {
		fmt.Fprintf(&b, "; %d delays or timestamps lacked the times they need (delay 0, no timestamp)", x.st.noTiming)
	}
	fmt.Fprintln(x.stderr, b.String())
}

// count writes n and the word, in the plural unless n is 1.
func count(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
