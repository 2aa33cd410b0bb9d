package hashcmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/agent-trace/agent-trace/pkg/chat"
	"github.com/agent-trace/agent-trace/pkg/cli"
	"github.com/agent-trace/agent-trace/pkg/idarray"
	"github.com/agent-trace/agent-trace/pkg/jsonl"
	"github.com/agent-trace/agent-trace/pkg/prefix"
	"github.com/agent-trace/agent-trace/pkg/record"
	"github.com/agent-trace/agent-trace/pkg/stats"
)

const hashHelp = `Cut each record's input_ids into blocks and write the Mooncake row.

Block k's hash id is determined by the id of block k-1 and the block's tokens;
a new block gets the next id from 0 up, in one id space for the whole run, so
rows share an id exactly when they share the whole prefix up to that block
(the reference's rolling hasher). A delta row (trace-tokenize --rows delta,
marked continues) chains from the last block of its session's previous row. len(hash_ids) == ceil(input_length / B) on
every row, as aiperf requires. Compact records (trace-tokenize --compact,
with shared_ids) are read as well: their lines must stay in order.

Each output line is session_id, agent_type, input_length, output_length,
hash_ids, delay, timestamp, priority (those present), then any other field
passed through; input_ids and trace-extract's bookkeeping fields (messages,
tokenizer, model, request, function, source, prompt_tokens, start_ms, end_ms,
timestamp_raw, latency_ms) are dropped unless --keep names them.

--emit messages writes rows that aiperf sends as they are: session_id,
agent_type, messages (the record's, whole: trace-tokenize --messages
synthetic gives token-exact stand-ins, --messages real the recorded text),
tools (the request's tools list, when recorded), output_length, delay, timestamp, priority and the fields passed through;
no input_length or hash_ids (aiperf takes them only without messages). A
replay then sends each call's prompt as recorded, instead of re-sending
every earlier turn of the session on top of prompts that already hold
them. The blocks are still hashed (for --table and the statistics).

--emit weka writes one Weka trace per session (the agentic trace format of
kv-cache-tester, which aiperf 0.13 and later replay with
--custom-dataset-type weka_trace): id, models, block_size, hash_id_scope
"local", requests with t (seconds from the session's first call), type,
model, in, out, hash_ids, api_time (the call's duration) and think_time
(the gap since the agent's previous call ended), and totals. With
trace-extract --threads, the session is the records' parent_session: the
thread of its first call is the parent, every other thread a "subagent"
marker holding its own requests (timed from its start), placed where it
started. Each session's records must come together; memory holds one
session's hash ids. --out-dir DIR writes DIR/<session>.json per session
(what aiperf's --input-file and kv-cache-tester's --trace-directory read)
instead of JSON lines on stdout.

Every row asks for at least one output token (a row with output_length 0
is written with 1: aiperf refuses a file holding one), and a delta row
with no new token is left out (aiperf would make up a one-token turn);
both are counted in the statistics.

--table FILE keeps the block table across runs: it is loaded if it exists,
its numbering continued, and saved atomically at the end, so traces converted
one after another share one id space. The file records the block size and the
tokenizer; a run with others is refused. Runs on one table are serialised
with a lock. Memory holds the table (about 25 bytes a block) and, with
--stats, a few numbers per row.`

// HashCmd is the grammar of trace-hash.
type HashCmd struct {
	Files       []string      `arg:"" optional:"" name:"FILE" help:"Record files to read (default: standard input)."`
	BlockSize   int           `default:"64" placeholder:"B" help:"Tokens per hash block (default 64; aiperf's --isl-block-size must match)."`
	Table       string        `placeholder:"FILE" help:"Persistent prefix table: load, continue and save it."`
	LockTimeout time.Duration `default:"60s" help:"How long to wait for another run holding the table."`
	Keep        []string      `placeholder:"FIELD" help:"Keep these fields (comma-separated) that are dropped by default."`
	Emit        string        `enum:"rows,messages,weka" default:"rows" help:"rows: Mooncake rows with input_length and hash_ids; messages: rows with the records' messages, which aiperf sends as they are; weka: one Weka trace per session (aiperf --custom-dataset-type weka_trace, kv-cache-tester)."`
	Output      string        `short:"o" placeholder:"FILE" help:"Write the rows to FILE (under a temporary name, renamed when the run succeeds: a failed run leaves nothing) instead of stdout."`
	OutDir      string        `placeholder:"DIR" help:"With --emit weka: write DIR/<session>.json per session instead of JSON lines on stdout. DIR must be new or empty; it appears whole when the run succeeds."`
	Stats       bool          `help:"Print the full statistics block and the aiperf command on stderr."`
	ReplayFile  string        `placeholder:"FILE" help:"The output file's name, for the aiperf command --stats prints."`
	AllowEmpty  bool          `help:"Exit 0 when no row is written (by default an empty result is an error, exit 1)."`
	Quiet       bool          `short:"q" help:"Print no summary on stderr."`

	guard  *saveGuard
	output *cli.AtomicFile // --output
}

// Run runs trace-hash with args.
func Run(args []string, s cli.Streams) int {
	var cmd HashCmd
	if code, done := cli.Parse("trace-hash", hashHelp, &cmd, args, s); done {
		return code
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	guard := &saveGuard{cancel: cancel, stderr: s.Stderr, table: cmd.Table}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		if sig, ok := <-sigs; ok {
			guard.interrupt(sig)
		}
	}()
	cmd.guard = guard
	err := cmd.run(ctx, s)
	if ctx.Err() != nil && !guard.isSaved() {
		cli.Notef(s.Stderr, "trace-hash: interrupted: %s\n", guard.unchanged())
		return guard.status
	}
	return cli.Finish("trace-hash", err, s.Stderr)
}

// saveGuard decides what a signal does: before the table is being saved,
// the process ends at once (nothing has been written but to stdout, and
// the temporary output is removed); during the save, the save is
// cancelled, which removes its temporary file and leaves the table as it
// was; once the table is saved, the run finishes (its output goes with the
// table it numbered).
type saveGuard struct {
	mu      sync.Mutex
	state   int // running, saving or saved
	cancel  context.CancelFunc
	stderr  io.Writer
	cleanup func() // removes what the run has written so far (--out-dir, --output)
	status  int    // the exit status of the signal received
	table   string // --table, "" when none
}

// The states of a saveGuard.
const (
	running = iota
	saving
	saved
)

func (g *saveGuard) interrupt(sig os.Signal) {
	g.mu.Lock()
	defer g.mu.Unlock()
	// The shell's status for a signal: 130 for SIGINT, 143 for SIGTERM.
	g.status = 130
	if sig == syscall.SIGTERM {
		g.status = 143
	}
	switch g.state {
	case saving:
		g.cancel()
		return
	case saved:
		fmt.Fprintln(g.stderr, "trace-hash: interrupted after the prefix table was saved: finishing the run")
		return
	}
	if g.cleanup != nil {
		g.cleanup()
	}
	cli.Notef(g.stderr, "trace-hash: interrupted: %s\n", g.unchanged())
	os.Exit(g.status)
}

// onInterrupt sets what an interrupt removes before the process ends.
func (g *saveGuard) onInterrupt(f func()) {
	if g == nil {
		return
	}
	g.mu.Lock()
	g.cleanup = f
	g.mu.Unlock()
}

// unchanged says what an interrupted run left as it was.
func (g *saveGuard) unchanged() string {
	if g.table == "" {
		return "nothing was written but what went to stdout"
	}
	return "the prefix table was not changed"
}

func (g *saveGuard) isSaved() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.state == saved
}

func (g *saveGuard) setState(state int) {
	if g == nil {
		return
	}
	g.mu.Lock()
	g.state = state
	g.mu.Unlock()
}

// dropped are the fields the Mooncake row leaves out by default.
var dropped = []string{"input_ids", "messages", "tools", "tokenizer", "model", "request", "function", "source", "usage_only",
	"prompt_tokens", "start_ms", "end_ms", "timestamp_raw", "latency_ms", "continues", "full_length", "shared_ids", "shared_messages", "shared_back", "shared_ids_back"}

// leading are the Mooncake fields, in the order they are written.
var leading = []string{"session_id", "agent_type", "input_length", "output_length", "hash_ids", "delay", "timestamp", "priority"}

// messageLeading are the fields of a message row (--emit messages), in the
// order they are written: aiperf takes input_length and hash_ids only in
// rows without messages.
var messageLeading = []string{"session_id", "agent_type", "messages", "tools", "output_length", "delay", "timestamp", "priority"}

func (cmd *HashCmd) run(ctx context.Context, s cli.Streams) error {
	paths := [][2]string{{"--table", cmd.Table}, {"--output", cmd.Output}, {"--out-dir", cmd.OutDir}}
	for _, f := range cmd.Files {
		paths = append(paths, [2]string{"input " + f, f})
	}
	if err := cli.DistinctPaths(paths...); err != nil {
		return err
	}
	if err := cli.StdoutNotInput(append(slices.Clone(cmd.Files), cmd.Table), s.Stdout); err != nil {
		return err
	}
	if cmd.BlockSize <= 0 || cmd.BlockSize > prefix.MaxBlockSize {
		return cli.UsageError(fmt.Errorf("--block-size must be a number of tokens from 1 to %d, got %d", prefix.MaxBlockSize, cmd.BlockSize))
	}
	drop := map[string]bool{}
	for _, f := range dropped {
		drop[f] = true
	}
	for _, k := range cmd.Keep {
		delete(drop, strings.TrimSpace(k))
	}

	var table *prefix.Table
	if cmd.Table != "" {
		// Through a link, the file it names: its lock is the one every run
		// on that file takes.
		if target, err := filepath.EvalSymlinks(cmd.Table); err == nil {
			cmd.Table = target
		}
		if dir := filepath.Dir(cmd.Table); dir != "" {
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				return cli.IOError(fmt.Errorf("--table %s: the folder %s does not exist: create it, or give another path", cmd.Table, dir))
			}
		}
		unlock, err := prefix.Lock(cmd.Table, cmd.LockTimeout)
		if err != nil {
			return cli.IOError(err)
		}
		defer unlock()
		table, err = prefix.Load(cmd.Table)
		switch {
		case errors.Is(err, os.ErrNotExist):
			table = nil
		case errors.Is(err, prefix.ErrCorrupt):
			return cli.DataError(fmt.Errorf("%w; it was left as it is: move it away or give another --table", err))
		case err != nil:
			return cli.IOError(err)
		case table.Len() == 0:
			table = nil // an empty table takes the block size and tokenizer of this run
		case table.BlockSize() != cmd.BlockSize:
			return cli.UsageError(fmt.Errorf("%s holds blocks of %d tokens, not %d: use --block-size %d or another table",
				cmd.Table, table.BlockSize(), cmd.BlockSize, table.BlockSize()))
		}
	}

	if cmd.OutDir != "" && cmd.Emit != "weka" {
		return cli.UsageError(errors.New("--out-dir is for --emit weka"))
	}
	if cmd.OutDir != "" && cmd.Output != "" {
		return cli.UsageError(errors.New("--out-dir and --output: give one (--out-dir writes a folder of Weka traces, --output one file)"))
	}
	mode := stats.History
	switch cmd.Emit {
	case "messages":
		mode = stats.SelfContained
	case "weka":
		mode = stats.Weka
	}
	h := &hasher{cmd: cmd, table: table, drop: drop, tableTok: "", st: stats.New(cmd.BlockSize, mode)}
	if table != nil {
		h.tableTok = table.Tokenizer()
	}
	out := s.Stdout
	if cmd.Output != "" {
		f, err := cli.CreateAtomic(cmd.Output)
		if err != nil {
			return err
		}
		defer f.Abort()
		cmd.guard.onInterrupt(func() { os.Remove(f.TempName()) }) // --out-dir is not given with it
		out = f
		cmd.output = f
	}
	w := jsonl.NewWriter(out)
	if cmd.Emit == "weka" {
		var err error
		if h.weka, err = newWekaWriter(w, cmd.OutDir, cmd.BlockSize); err != nil {
			return err
		}
		defer h.weka.abort()
		cmd.guard.onInterrupt(h.weka.removeTemp) // --out-dir and --output are not given together
	}
	err := cli.EachLine(cmd.Files, s.Stdin, func(line []byte, r *jsonl.Reader) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		h.lineNo = r.Line()
		out, err := h.row(line)
		if err != nil {
			if cli.HasStatus(err) {
				return err // writing a trace failed
			}
			return cli.DataError(r.Errorf("%v", err))
		}
		if out == nil { // left out, or gathered for a Weka trace
			return nil
		}
		h.written++
		if err := h.writeRow(w, out); err != nil {
			return cli.WriteError(err)
		}
		return nil
	})
	if err == nil && h.weka != nil {
		err = h.weka.finish()
	}
	if ferr := w.Flush(); err == nil && ferr != nil {
		err = cli.WriteError(ferr)
	}
	if errors.Is(err, jsonl.ErrClosedPipe) {
		// The reader went away (| head): the run did not finish, so the
		// table stays as it was.
		if cmd.Table != "" && !cmd.Quiet {
			cli.Notef(s.Stderr, "trace-hash: the output was closed before the end: %s was not changed\n", cmd.Table)
		}
		return nil
	}
	if err != nil {
		return err // the table is not saved: it stays as it was
	}
	if h.weka != nil {
		h.written = h.weka.traces
	}
	if h.written == 0 && !cmd.AllowEmpty {
		return cli.NoRecords("the input holds no record") // the table stays as it was
	}
	if h.table == nil { // no record: nothing to hash
		h.table = prefix.New(cmd.BlockSize, "")
	}
	added := h.table.Added()
	if cmd.Table != "" && added > 0 {
		cmd.guard.setState(saving)
		err := h.table.Save(ctx, cmd.Table)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			cmd.guard.setState(running)
			return cli.IOError(fmt.Errorf("saving the prefix table: %w", err))
		}
	}
	cmd.guard.setState(saved)
	if h.weka != nil {
		if err := h.weka.commit(); err != nil {
			return err
		}
	}
	if cmd.output != nil {
		if err := cmd.output.Commit(); err != nil {
			return err
		}
	}
	if cmd.Stats {
		file := cmd.ReplayFile
		if file == "" {
			file = cmd.OutDir
		}
		h.st.Print(s.Stderr, stats.Replay{File: file, Tokenizer: h.table.Tokenizer()})
	} else if !cmd.Quiet {
		where := ""
		if cmd.Table != "" {
			where = ", table " + cmd.Table
		}
		what := fmt.Sprintf("%d rows, %d sessions", h.st.Rows(), h.st.Sessions())
		if h.weka != nil {
			what = fmt.Sprintf("%d requests in %d Weka traces", h.st.Rows(), h.weka.traces)
			if cmd.OutDir != "" {
				what += " in " + cmd.OutDir
			}
		}
		cli.Notef(s.Stderr, "trace-hash: %s, %d blocks (%d new), block size %d%s\n",
			what, h.table.Len(), added, cmd.BlockSize, where)
	}
	return nil
}

// hasher turns records into Mooncake rows.
type hasher struct {
	cmd      *HashCmd
	table    *prefix.Table
	tableTok string // the tokenizer of the table (and of the run, once known)
	seenTok  bool
	drop     map[string]bool
	st       *stats.Stats
	rec, out record.Record
	last     map[string]int64   // each session's last hash id, for delta rows
	parser   idarray.Parser     // input_ids, reusing the previous row's
	idsAt    int                // where input_ids starts in the line
	prevRoot bool               // the previous row's ids chain from the root
	sessions cli.SessionTracker // for compact rows
	tokens   []uint32
	ids      []int64
	buf      []byte
	raised   bool             // the row's output_length was raised to 1
	carry    map[string]int64 // delay of left-out rows, per session
	// --emit messages: the JSON array of the row's messages, and the last
	// rows' (each without its closing bracket, with where each message
	// ends in it), so that a compact row's shared messages are not
	// written anew.
	msgsBuf []byte
	msgsAt  int // where msgsBuf goes in the row's line
	msgs    cli.Recent[messageJSON]
	recent  cli.Recent[idsLine] // the last rows' ids, for shared_ids_back
	line    []byte              // the output line
	weka    *wekaWriter         // --emit weka
	written int                 // rows (or Weka traces) written
	lineNo  int                 // the input line being read
}

func (h *hasher) row(line []byte) ([]byte, error) {
	// The ids are read once the record is, by the parser, which skips the
	// part they share with the previous row's, or continues the previous
	// row's ids when the record is compact.
	h.idsAt = -1
	if err := record.ParseWith(line, &h.rec, "input_ids", h.skipIDs); err != nil {
		return nil, err
	}
	if h.idsAt < 0 && cli.UsageOnly(&h.rec) {
		return h.usageRow()
	}
	if h.idsAt < 0 {
		return nil, errors.New(`no "input_ids": trace-hash reads the records trace-tokenize writes`)
	}
	sid, _ := h.rec.Get("session_id")
	samePrev := h.sessions.Next(sid)
	shared, err := cli.SharedCount(&h.rec, "shared_ids")
	if err != nil {
		return nil, err
	}
	if shared > 0 && !samePrev {
		return nil, cli.CompactError("shared_ids", shared, 0, false)
	}
	// The line the shared ids are of: the line before, or one further back.
	cur := h.recent.Next(samePrev)
	var back *idsLine
	if shared > 0 {
		n, err := cli.SharedBack(&h.rec, "shared_ids_back")
		if err != nil {
			return nil, err
		}
		if n > 1 {
			var ok bool
			if back, ok = h.recent.Back(n); !ok {
				return nil, cli.CompactBackError("shared_ids_back", n, h.recent.Lines())
			}
			if shared > len(back.tokens) {
				return nil, cli.CompactErrorBack("shared_ids", shared, n, len(back.tokens))
			}
		}
	}
	if back == nil && shared > 0 && shared > len(h.parser.IDs()) {
		return nil, cli.CompactError("shared_ids", shared, len(h.parser.IDs()), true)
	}
	switch {
	case back != nil:
		_, err = h.parser.ParseAfterIDs(line, h.idsAt, back.tokens[:shared])
	case shared > 0:
		_, err = h.parser.ParseAfter(line, h.idsAt, shared)
	default:
		_, err = h.parser.Parse(line, h.idsAt)
	}
	if err != nil {
		return nil, fmt.Errorf("input_ids: %w", err)
	}
	h.tokens = h.parser.IDs()
	n, ok, err := h.rec.Int("input_length")
	if err != nil {
		return nil, err
	}
	if ok && n != int64(len(h.tokens)) {
		return nil, fmt.Errorf("input_length is %d but input_ids has %d ids", n, len(h.tokens))
	}
	tok, _, err := h.rec.String("tokenizer")
	if err != nil {
		return nil, err
	}
	if err := h.checkTokenizer(tok); err != nil {
		return nil, err
	}
	// A delta row (trace-tokenize --rows delta) chains from the last block
	// of its session's previous row, so ids still encode the whole
	// conversation.
	parent := int64(-1)
	if v, ok := h.rec.Get("continues"); ok && string(v) == "true" {
		if p, ok := h.last[string(sid)]; ok {
			parent = p
		}
	}
	// The whole blocks of the ids a compact row shares with the row before
	// have that row's hash ids (both rows chain from the root).
	root, kept, from := parent < 0, 0, parent
	switch {
	case root && back != nil && back.root:
		kept = min(shared/h.cmd.BlockSize, len(back.hashIDs))
		h.ids = append(h.ids[:0], back.hashIDs[:kept]...)
	case root && back == nil && h.prevRoot:
		kept = min(shared/h.cmd.BlockSize, len(h.ids))
	}
	if kept > 0 {
		from = h.ids[kept-1]
	}
	if h.ids, err = h.table.HashIDs(h.tokens[kept*h.cmd.BlockSize:], from, h.ids[:kept]); err != nil {
		return nil, err
	}
	h.prevRoot = root
	cur.tokens = append(cur.tokens[:0], h.tokens...)
	cur.hashIDs = append(cur.hashIDs[:0], h.ids...)
	cur.root = root
	if !root && len(h.tokens) == 0 {
		// A delta row that adds nothing: aiperf would make up a one-token
		// turn for it. Its session's chain stays where it was.
		// Its delay is added to the session's next row's.
		if h.cmd.Stats || !h.cmd.Quiet {
			h.st.DroppedEmpty()
		}
		if d, ok, _ := h.rec.Int("delay"); ok && d > 0 {
			if h.carry == nil {
				h.carry = map[string]int64{}
			}
			h.carry[string(sid)] += d
		}
		return nil, nil
	}
	if h.last == nil {
		h.last = map[string]int64{}
	}
	if len(h.ids) > 0 {
		h.last[string(sid)] = h.ids[len(h.ids)-1]
	} else if root {
		delete(h.last, string(sid))
	}

	if h.weka != nil {
		return nil, h.addWeka()
	}
	h.out.Reset()
	h.raised = false
	fields := leading
	if h.cmd.Emit == "messages" {
		fields = messageLeading
		if v, ok := h.rec.Get("continues"); ok && string(v) == "true" {
			return nil, errors.New("a delta row (trace-tokenize --rows delta) cannot be a message row, which holds the whole prompt: tokenize with --rows cumulative")
		}
		if err := h.readMessages(samePrev); err != nil {
			return nil, err
		}
	}
	h.setFields(fields, sid, true)
	if h.cmd.Stats || !h.cmd.Quiet {
		h.addStats()
	}
	h.line = h.out.AppendJSON(h.line[:0])
	if h.cmd.Emit == "messages" {
		// The line is written in three parts, the messages between.
		h.msgsAt = bytes.Index(h.line, []byte(`"messages":`+messagesMark))
		if h.msgsAt < 0 {
			return nil, errors.New("internal error: the messages of a row were not placed")
		}
		h.msgsAt += len(`"messages":`)
	}
	return h.line, nil
}

// messagesMark stands for a message row's messages in its line until it
// is written. The first `"messages":[]` of the line is the field's:
// session_id and agent_type, the only fields before it, are JSON strings,
// in which a quote is escaped.
const messagesMark = "[]"

// writeRow writes a row line that row returned.
func (h *hasher) writeRow(w *jsonl.Writer, line []byte) error {
	if h.cmd.Emit == "messages" {
		return w.WriteLineParts(line[:h.msgsAt], h.msgsBuf, line[h.msgsAt+len(messagesMark):])
	}
	return w.WriteLine(line)
}

// setFields sets the fields of the output row: those of fields in their
// order, then the record's others that are passed through. hashed says
// the row has ids (input_length is their count, hash_ids theirs); a
// usage-only row has neither, and keeps the record's input_length.
func (h *hasher) setFields(fields []string, sid []byte, hashed bool) {
	for _, k := range fields {
		switch k {
		case "messages":
			// A stand-in: the row's largest value is written where it
			// lies (see row), not copied into the line.
			h.out.Set(k, []byte(messagesMark))
		case "input_length":
			if hashed {
				h.out.SetInt(k, int64(len(h.tokens)))
			} else if v, ok := h.rec.Get(k); ok {
				h.out.Set(k, v)
			}
		case "hash_ids":
			if hashed {
				h.buf = record.AppendInts(h.buf[:0], h.ids)
				h.out.Set(k, h.buf)
			}
		case "delay":
			if c := h.carry[string(sid)]; c > 0 {
				delete(h.carry, string(sid))
				d, _, _ := h.rec.Int(k)
				h.out.SetInt(k, d+c)
			} else if v, ok := h.rec.Get(k); ok {
				h.out.Set(k, v)
			}
		case "output_length":
			v, ok := h.rec.Get(k)
			if !ok {
				break
			}
			if n, _, err := h.rec.Int(k); err == nil && n < 1 {
				// aiperf refuses a whole file with a row that asks for no
				// token (its Turn.max_tokens must be at least 1).
				h.out.SetInt(k, 1)
				h.raised = true
				break
			}
			h.out.Set(k, v)
		default:
			if v, ok := h.rec.Get(k); ok {
				h.out.Set(k, v)
			}
		}
	}
	for _, f := range h.rec.Fields {
		// A message row never holds input_length or hash_ids: aiperf
		// refuses them with messages.
		rowOnly := h.cmd.Emit == "messages" && (f.Key == "input_length" || f.Key == "hash_ids")
		if !slices.Contains(fields, f.Key) && !h.drop[f.Key] && !rowOnly {
			h.out.Set(f.Key, f.Value)
		}
	}
}

// usageRow writes the row of a usage-only record (no prompt text was
// traced): input_length from the reported usage and no hash_ids, so aiperf
// makes up a prompt of that length. The next row shares no block with it.
func (h *hasher) usageRow() ([]byte, error) {
	if h.cmd.Emit != "rows" {
		return nil, fmt.Errorf("a usage-only record (no prompt text was traced) cannot be a %s row: use --emit rows, or leave such calls out (trace-extract --uncaptured drop)", h.cmd.Emit)
	}
	n, ok, err := h.rec.Int("input_length")
	if err != nil || !ok || n < 1 {
		return nil, errors.New("a usage-only record needs input_length, 1 or more")
	}
	sid, _ := h.rec.Get("session_id")
	cur := h.recent.Next(h.sessions.Next(sid))
	cur.tokens, cur.hashIDs, cur.root = cur.tokens[:0], cur.hashIDs[:0], false
	h.prevRoot, h.ids, h.tokens = false, h.ids[:0], h.tokens[:0]
	h.out.Reset()
	h.raised = false
	h.setFields(leading, sid, false)
	if h.cmd.Stats || !h.cmd.Quiet {
		h.st.UsageOnly()
		h.addStatsLength(int(n))
	}
	h.line = h.out.AppendJSON(h.line[:0])
	return h.line, nil
}

// skipIDs notes where input_ids starts and skips it, for
// record.ParseWith: an array of integers ends at the first ']', a string of
// packed ids (compact records) at the first '"' after its first (the parser
// rejects anything else in them).
func (h *hasher) skipIDs(line []byte, start int) (int, error) {
	h.idsAt = start
	if start < len(line) && (line[start] == '[' || line[start] == '"') {
		closing := byte(']')
		if line[start] == '"' {
			closing = '"'
		}
		if end := bytes.IndexByte(line[start+1:], closing); end >= 0 {
			return start + 1 + end + 1, nil
		}
	}
	if _, err := h.parser.Parse(line, start); err != nil { // says what is wrong
		return 0, fmt.Errorf("input_ids: %w", err)
	}
	return 0, errors.New("input_ids: want an array of token ids")
}

// checkTokenizer makes sure every record of the run, and the table, share
// one tokenizer: ids of two vocabularies must never share prefix ids.
func (h *hasher) checkTokenizer(tok string) error {
	if len(tok) > prefix.MaxTokenizerName {
		return fmt.Errorf("tokenizer: a name of %d bytes (at most %d): is the field right?", len(tok), prefix.MaxTokenizerName)
	}
	if h.table == nil {
		h.table = prefix.New(h.cmd.BlockSize, tok)
		h.tableTok, h.seenTok = tok, true
		return nil
	}
	if !h.seenTok {
		h.seenTok = true
		if tok != h.tableTok {
			return fmt.Errorf("tokenizer %q, but the table %s was made with %q: ids of two vocabularies cannot share a prefix table; use another --table",
				tok, h.cmd.Table, h.tableTok)
		}
		return nil
	}
	if tok != h.tableTok {
		return fmt.Errorf("tokenizer %q, but earlier records were tokenized with %q: ids of two vocabularies cannot share prefix ids; tokenize them with one --tokenizer", tok, h.tableTok)
	}
	return nil
}

func (h *hasher) addStats() { h.addStatsLength(len(h.tokens)) }

// addStatsLength adds the record's row to the statistics, its input
// inputLen tokens long.
func (h *hasher) addStatsLength(inputLen int) {
	sid, _, _ := h.rec.String("session_id")
	agent, _, _ := h.rec.String("agent_type")
	prio, _, _ := h.rec.String("priority")
	outLen, _, _ := h.rec.Int("output_length")
	delay, ok, _ := h.rec.Int("delay")
	if !ok {
		delay = -1
	}
	full, ok, _ := h.rec.Int("full_length")
	if !ok {
		full = int64(inputLen)
	}
	prompt, ok, _ := h.rec.Int("prompt_tokens")
	if !ok {
		prompt = -1
	}
	parent, _, _ := h.rec.String("parent_session")
	model, _, _ := h.rec.String("model")
	_, stamped := h.rec.Get("timestamp")
	if h.raised {
		outLen = 1
		h.st.RaisedOutput()
	}
	h.st.Add(stats.Row{Session: sid, Parent: parent, InputLength: inputLen, FullLength: int(full),
		OutputLength: int(outLen), PromptTokens: prompt, HashIDs: h.ids, AgentType: agent, Priority: prio, Delay: delay,
		Model: model, Timestamp: stamped})
}

// idsLine is what trace-hash remembers of a row for the compact rows after
// it that continue its ids (shared_ids_back).
type idsLine struct {
	tokens  []uint32
	hashIDs []int64
	root    bool // its ids chain from the root
}

// messageJSON is the JSON of a row's message list without its closing
// bracket, and where each message ends in it.
type messageJSON struct {
	buf  []byte
	ends []int
}

// readMessages sets h.msgsBuf to the JSON of the record's whole message
// list: its messages, after the first shared_messages of the line before
// (or of the line shared_back lines before) when the record is compact.
func (h *hasher) readMessages(samePrev bool) error {
	cur := h.msgs.Next(samePrev)
	// A row's JSON may lie in the array of an earlier row's, which it
	// extends in place: the slot's old buffer may be a later row's prefix,
	// so it is let go, not written into.
	cur.buf, cur.ends = nil, cur.ends[:0]
	raw, ok := h.rec.Get("messages")
	if !ok {
		return errors.New(`no "messages": --emit messages needs records that keep them (trace-tokenize --messages synthetic or real)`)
	}
	shared, err := cli.SharedCount(&h.rec, "shared_messages")
	if err != nil {
		return err
	}
	if shared > 0 && !samePrev {
		return cli.CompactError("shared_messages", shared, 0, false)
	}
	if shared == 0 {
		cur.buf = append(make([]byte, 0, len(raw)+64), '[')
	} else {
		back, err := cli.SharedBack(&h.rec, "shared_back")
		if err != nil {
			return err
		}
		from, ok := h.msgs.Back(back)
		if !ok {
			return cli.CompactBackError("shared_back", back, h.msgs.Lines())
		}
		if shared > len(from.ends) {
			return cli.CompactErrorBack("shared_messages", shared, back, len(from.ends))
		}
		if back == 1 && shared == len(from.ends) {
			// The row before, whole: its bytes end the used part of their
			// array (it was the last row to append), so this row appends
			// to them where they are.
			cur.buf = from.buf
		} else {
			n := from.ends[shared-1]
			cur.buf = append(make([]byte, 0, n+len(raw)+64), from.buf[:n]...)
		}
		cur.ends = append(cur.ends, from.ends[:shared]...)
	}
	added, err := chat.Decode(raw)
	if err != nil {
		return fmt.Errorf("messages: %w", err)
	}
	for i := range added {
		if len(cur.ends) > 0 {
			cur.buf = append(cur.buf, ',')
		}
		// AppendJSON writes [{...}]: keep what is between the brackets.
		at := len(cur.buf)
		cur.buf = chat.AppendJSON(cur.buf, added[i:i+1])
		n := copy(cur.buf[at:], cur.buf[at+1:len(cur.buf)-1])
		cur.buf = cur.buf[:at+n]
		cur.ends = append(cur.ends, len(cur.buf))
	}
	if len(cur.ends) == 0 {
		return errors.New("messages is empty: aiperf needs at least one message in a row")
	}
	h.msgsBuf = append(cur.buf, ']')
	return nil
}
