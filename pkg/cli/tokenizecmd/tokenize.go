package tokenizecmd

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/agent-trace/agent-trace/pkg/chat"
	"github.com/agent-trace/agent-trace/pkg/cli"
	"github.com/agent-trace/agent-trace/pkg/idarray"
	"github.com/agent-trace/agent-trace/pkg/jsonl"
	"github.com/agent-trace/agent-trace/pkg/record"
	"github.com/agent-trace/agent-trace/pkg/synthtext"
	"github.com/agent-trace/agent-trace/pkg/tokenize"
	"github.com/agent-trace/agent-trace/pkg/tokenize/llama3"
	"github.com/agent-trace/agent-trace/pkg/tokenize/resolve"

	"github.com/zeebo/xxh3"
)

const tokenizeHelp = `Add the token ids of each record's prompt to it.

The prompt text is the record's non-null messages[].content joined with "\n"
(see trace-extract); it is encoded exactly as the Hugging Face tokenizer does
with add_special_tokens=False. Each record gains input_length, tokenizer and
input_ids; messages and tools are dropped unless --messages keeps them.

--messages synthetic keeps the messages with each content replaced by a
stand-in that this tokenizer encodes to exactly as many tokens as the
recorded content: words of a fixed list, drawn from a hash of the recorded
ids, so that two contents share a stand-in prefix exactly as far as their
recorded ids (and the messages before them) do, to the block of
--synthetic-block ids. Tool calls keep their ids and names, their arguments
become a JSON object of as many tokens; the tools list keeps its names and
schemas, each description a stand-in of as many tokens. Nothing of the
recorded text is kept; the same input gives the same bytes on every run. For trace-hash --emit messages (rows aiperf
sends as they are). --messages real keeps the recorded text.

--tokenizer auto (the default) decides once, from the model of the records of
the first 5 requests (or sessions), as the reference converter does: the
first model name that maps to a tokenizer decides, so reading stops there
(and after 64 MB of records at most); the choice and its reason go to stderr. A NAME is, in order: a built-in tokenizer
(Llama 3 / 3.1 / 3.2 / 3.3, DeepSeek-R1-Distill-Llama, OpenAI's cl100k_base and
o200k_base; embedded, offline),
a tokenizer.json file or a folder holding one, a model in the Hugging Face
cache ($HF_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub), or a download
from $HF_ENDPOINT (with $HF_TOKEN) unless HF_HUB_OFFLINE=1. A tokenizer.json
is compiled once into a cache ($AGENTTRACE_CACHE_DIR, else
$XDG_CACHE_HOME/agent-trace, else ~/.cache/agent-trace; keyed by its
SHA-256; AGENTTRACE_CACHE_DIR=off turns it off): later runs load it in
milliseconds instead of a few hundred.

Records of one session are encoded incrementally: the tokens of the part a
prompt shares with the session's previous prompt are reused. Output order is
input order. Each call is encoded after the closest of the last 8 prompts
of its session (agents of one session interleave), reusing what they
share. Memory holds those prompts of the 8 sessions each worker saw
last (trace-extract writes sessions one after another), the prompts and
ids of the last 8 records (for compact records, which may continue one of
them: shared_back, shared_ids_back), the records in
flight (about 6 per worker plus 16, each its line and its output), and with
--rows delta 16 bytes for every session: it is bounded by the largest
records, not the input.

--rows delta writes delta rows: when a call's messages start with its
session's previous call's messages, its input_ids are those of the messages
added since, minus the first one if it is the assistant's response to the
previous call (aiperf inserts the live response itself); such records get
continues: true (trace-hash then chains their blocks from the previous row's
last block) and full_length, the token count of the whole prompt. Other calls
get the whole prompt. Use --threads in trace-extract when agents interleave.

` + cli.CompactHelp + ` Rows of --full and
--rows delta are written whole.`

// TokenizeCmd is the grammar of trace-tokenize.
type TokenizeCmd struct {
	Files        []string `arg:"" optional:"" name:"FILE" help:"Record files to read (default: standard input)."`
	Tokenizer    string   `default:"auto" placeholder:"auto|NAME|PATH" complete:"auto,meta-llama/Llama-3.3-70B-Instruct,meta-llama/Llama-3.1-8B-Instruct,meta-llama/Meta-Llama-3-8B-Instruct,deepseek-ai/DeepSeek-R1-Distill-Llama-8B,deepseek-ai/DeepSeek-R1-Distill-Llama-70B,cl100k_base,o200k_base" help:"Tokenizer: auto, a Hugging Face model name, or a tokenizer.json path."`
	Messages     string   `enum:"drop,real,synthetic" default:"drop" help:"What to do with the messages field once tokenized: drop it, keep it (real), or keep it with token-exact synthetic contents (synthetic)."`
	KeepMessages bool     `help:"Same as --messages real."`
	SynthBlock   int      `name:"synthetic-block" default:"16" placeholder:"N" help:"Recorded ids per stand-in block (--messages synthetic): stand-ins share prefixes to this many tokens."`
	Jobs         int      `short:"j" placeholder:"N" help:"Worker goroutines, and CPUs used (default: the number of CPUs minus one, at least one)."`
	Full         bool     `help:"Encode every prompt from scratch instead of reusing the previous prompt's tokens (slower; the ids are the same)."`
	Rows         string   `enum:"cumulative,delta" default:"cumulative" help:"cumulative: the whole prompt, as the reference; delta: a call that extends its session's previous call gets only the new messages (minus the previous response), for aiperf multi-turn replay."`
	Compact      bool     `help:"Leave out the input_ids a record shares with an earlier line of its session (shared_ids, shared_ids_back), and pack the others into a string (4 base64url characters an id); for piping into trace-hash."`
	AllowEmpty   bool     `help:"Exit 0 when no record is written (by default an empty result is an error, exit 1)."`
	Quiet        bool     `short:"q" help:"Print no summary on stderr."`
}

// Run runs trace-tokenize with args.
func Run(args []string, s cli.Streams) int {
	return cli.Run("trace-tokenize", tokenizeHelp, &TokenizeCmd{}, args, s)
}

// inferWindow is how many requests (sessions) --tokenizer auto looks at.
const inferWindow = 5

// tokJob is one record on its way through the workers.
type tokJob struct {
	seq  int
	line []byte
	pos  string // "file:line" for errors
	// samePrev: the line before is of the same session (for compact records)
	samePrev bool
	out      []byte
	err      error
	ntok     int
	done     chan struct{}
}

// Exec runs trace-tokenize once its flags are parsed.
func (cmd *TokenizeCmd) Exec(s cli.Streams) error {
	if err := cli.StdoutNotInput(cmd.Files, s.Stdout); err != nil {
		return err
	}
	if cmd.KeepMessages && cmd.Messages == "drop" {
		cmd.Messages = "real"
	}
	if cmd.Jobs <= 0 {
		// In a pipeline the stage before needs a CPU of its own; and with
		// one worker, one CPU: handing records between goroutines on two
		// CPUs made threads sleep and wake for every record (on the
		// compact bench records: 0.37 CPU-seconds on two, 0.21 on one).
		cmd.Jobs = max(1, runtime.NumCPU()-1)
	}
	if most := 4 * runtime.NumCPU(); cmd.Jobs > most {
		return cli.UsageError(fmt.Errorf("-j %d: at most %d workers (4 per CPU; more only add memory and threads)", cmd.Jobs, most))
	}
	cli.UseCPUs(cmd.Jobs)
	lines := make(chan *tokJob, 8)
	free := make(buffers, 32)
	readErr := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		defer close(lines)
		seq := 0
		readErr <- cli.EachLine(cmd.Files, s.Stdin, func(line []byte, r *jsonl.Reader) error {
			j := &tokJob{seq: seq, line: append(free.get(), line...), pos: r.Name() + ":" + strconv.Itoa(r.Line()), done: make(chan struct{})}
			seq++
			select {
			case lines <- j:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()

	// auto and the Llama 3 names resolve to the built-in BPE: build it
	// while the first records are read.
	if _, ok := llama3.Lookup(cmd.Tokenizer); ok || cmd.Tokenizer == "auto" {
		llama3.Preload()
	}

	// Buffer the records of the first requests when the tokenizer is auto.
	var head []*tokJob
	name := cmd.Tokenizer
	if name == "auto" {
		var models []string
		sessions := map[string]bool{}
		buffered := 0
		for j := range lines {
			var rec record.Record
			if err := record.Parse(j.line, &rec); err != nil {
				if hint := cli.RecordHint(j.line); hint != "" && strings.HasSuffix(j.pos, ":1") {
					err = errors.New(hint)
				}
				return cli.DataError(fmt.Errorf("%s: %w", j.pos, err))
			}
			key, _ := rec.Get("request")
			if key == nil {
				key, _ = rec.Get("session_id")
			}
			if !sessions[string(key)] && len(sessions) == inferWindow {
				head = append(head, j)
				break
			}
			sessions[string(key)] = true
			head = append(head, j)
			buffered += len(j.line)
			if m, ok, _ := rec.String("model"); ok {
				models = append(models, m)
				// The first model that names a known tokenizer decides
				// (resolve.Infer): no later record can change it.
				if _, known := resolve.Known(m); known {
					break
				}
			}
			if buffered > inferBytes {
				break // bounded memory: decide with what was read
			}
		}
		var reason string
		name, reason = resolve.Infer(models)
		if !cmd.Quiet {
			cli.Notef(s.Stderr, "trace-tokenize: tokenizer %s (auto: %s)\n", name, reason)
		}
	}
	tok, src, err := resolve.Resolve(ctx, name, resolve.Options{})
	if err != nil {
		// Not found, not a tokenizer.json, or one of a kind the toolkit
		// does not encode: the environment lacks a usable tokenizer.
		return cli.IOError(err)
	}
	if !cmd.Quiet && cmd.Tokenizer != "auto" {
		cli.Notef(s.Stderr, "trace-tokenize: tokenizer %s (%s)\n", name, src)
	}
	var gen *synthtext.Generator
	if cmd.Messages == "synthetic" {
		if gen, err = synthtext.New(tok, cmd.SynthBlock); err != nil {
			return cli.UsageError(err)
		}
	}

	// Workers: records of one session go to one worker, which keeps the
	// session's last prompt; results are written in input order.
	workers := make([]chan *tokJob, cmd.Jobs)
	var wg sync.WaitGroup
	seed := maphash.MakeSeed()
	for i := range workers {
		workers[i] = make(chan *tokJob, 4)
		wg.Add(1)
		go func(in <-chan *tokJob) {
			defer wg.Done()
			w := newTokWorker(tok, cmd, free, gen)
			for j := range in {
				j.out, j.ntok, j.err = w.process(j)
				if j.err != nil && strings.HasSuffix(j.pos, ":1") {
					if hint := cli.RecordHint(j.line); hint != "" {
						j.err = errors.New(hint)
					}
				}
				close(j.done)
			}
		}(workers[i])
	}
	order := make(chan *tokJob, 2*cmd.Jobs+8) // bounds the records in flight (memory: their lines and output)
	go func() {
		defer func() {
			for _, w := range workers {
				close(w)
			}
			close(order)
		}()
		var prev cli.SessionTracker
		dispatch := func(j *tokJob) bool {
			select {
			case order <- j:
			case <-ctx.Done():
				return false
			}
			key := sessionKey(j.line)
			j.samePrev = prev.Next(key)
			workers[maphash.Bytes(seed, key)%uint64(len(workers))] <- j
			return true
		}
		for _, j := range head {
			if !dispatch(j) {
				return
			}
		}
		for j := range lines {
			if !dispatch(j) {
				return
			}
		}
	}()

	w := jsonl.NewWriter(s.Stdout)
	var records, tokens int
	var werr error
	for j := range order {
		<-j.done
		if j.err != nil {
			werr = cli.DataError(fmt.Errorf("%s: %w", j.pos, j.err))
			break
		}
		if err := w.WriteLine(j.out); err != nil {
			werr = cli.WriteError(err)
			break
		}
		free.put(j.line)
		free.put(j.out)
		records++
		tokens += j.ntok
	}
	cancel()
	go func() { // let the feeders finish
		for j := range order {
			<-j.done
		}
	}()
	if ferr := w.Flush(); werr == nil && ferr != nil {
		werr = cli.WriteError(ferr)
	}
	if werr != nil {
		return werr
	}
	wg.Wait()
	if err := <-readErr; err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	if !cmd.Quiet {
		cli.Notef(s.Stderr, "trace-tokenize: %d records, %d tokens\n", records, tokens)
	}
	if records == 0 && !cmd.AllowEmpty {
		return cli.NoRecords("the input holds no record")
	}
	return nil
}

// buffers recycles the line and output buffers of records, which are large
// (a whole conversation each) and come one after another.
type buffers chan []byte

// get returns an empty buffer, recycled when one is free.
func (b buffers) get() []byte {
	select {
	case buf := <-b:
		return buf[:0]
	default:
		return nil
	}
}

// put gives buf back for reuse.
func (b buffers) put(buf []byte) {
	if cap(buf) == 0 {
		return
	}
	select {
	case b <- buf:
	default:
	}
}

// tokWorker encodes records, remembering each session's last prompt.
type tokWorker struct {
	free     buffers
	enc      *tokenize.Encoder
	name     []byte
	keep     bool
	full     bool
	delta    bool
	compact  bool
	memos    map[string]*sessionMemo
	clock    int
	rec      record.Record
	scratch  []byte
	synthBuf []byte                  // --messages synthetic: a stand-in being made
	part     chat.Prompt             // the messages field, as read
	spare    chat.Prompt             // the next prompt is built here
	convs    map[string]conversation // --rows delta: every session's last call
	hash     *xxh3.Hasher
	gen      *synthtext.Generator    // --messages synthetic
	stand    []byte                  // the stand-in messages, as JSON
	tools    map[xxh3.Uint128][]byte // --messages synthetic: stand-in tools lists by the recorded list's hash
	msgIDs   []int                   // --messages synthetic: a message's ids
	places   [][2]int                // --messages synthetic: contents in the prompt text
	recent   cli.Recent[recentLine]  // the last lines of the session, for shared_back
	whole    chat.Prompt             // a prompt built from a line further back
}

// recentLine is what a worker remembers of a line for the compact records
// after it that refer back to it (shared_back).
type recentLine struct {
	prompt chat.Prompt    // its whole prompt
	msgs   []chat.Message // --rows delta: its whole message list
	synth  []standIn      // --messages synthetic: its stand-ins
	ids    []int          // --compact: its ids
}

// commonPrefix returns how many first elements a and b share.
func commonPrefix(a, b []int) int {
	n := min(len(a), len(b))
	i := 0
	// 32 ids at a time, compared as arrays (one memequal call); then one
	// at a time.
	for i+32 <= n && *(*[32]int)(a[i:]) == *(*[32]int)(b[i:]) {
		i += 32
	}
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

// inferBytes bounds the records --tokenizer auto holds while it looks for a
// model name it knows (tokenizeHelp states it).
const inferBytes = 64 << 20

// branch is one conversation of a session: its last prompt, encoded.
type branch struct {
	memo   *tokenize.Memo
	ids    idarray.Formatter // the text of memo's ids
	prompt chat.Prompt       // memo's text (for --rows delta: unused)
	text   string            // memo's text, to choose a branch by
	used   int
}

// branchLimit bounds the conversations remembered of a session: as many as
// the agents a compact record may reach back to.
const branchLimit = cli.CompactWindow

// pick returns the branch a whole prompt text continues: the one whose
// last prompt it shares the longest prefix with, when that is at least
// half of it; else a new branch, or the least recently used one (its memo
// is then given what it shares with text, usually the system prompt of
// another session, or nothing).
func (sm *sessionMemo) pick(text string, clock int) *branch {
	if sm.inherited {
		sm.inherited = false
		b := sm.branches[0]
		b.used = clock
		return b
	}
	var best *branch
	bestCommon := -1
	for _, b := range sm.branches {
		c := tokenize.CommonPrefix(b.text, text)
		if c > bestCommon || c == bestCommon && b.used > best.used {
			best, bestCommon = b, c
		}
	}
	switch {
	case best != nil && 2*bestCommon >= len(best.text):
	case len(sm.branches) < branchLimit:
		best = &branch{}
		sm.branches = append(sm.branches, best)
	default:
		best = sm.branches[0]
		for _, b := range sm.branches {
			if b.used < best.used {
				best = b
			}
		}
	}
	best.used = clock
	return best
}

// memoLimit bounds the sessions a worker remembers (the least recently
// used is forgotten first). trace-extract writes sessions one after
// another (threads of one session interleave), so a small number keeps
// nearly every reuse while memory stays bounded: a remembered session
// costs its last prompt, its ids and their text. tokenizeHelp states it.
const memoLimit = 8

// sessionMemo is what a worker remembers of a session: the last prompts
// of its conversations (branches: the agents of a session interleave, so
// the call before is often another agent's), and what the last record
// needs.
type sessionMemo struct {
	branches  []*branch
	cur       *branch // the branch of the session's last record
	inherited bool    // branches[0] is a forgotten session's, for the first prompt to take over

	msgs []chat.Message // for compact records with --rows delta
	used int            // when last used, for eviction
	// --messages synthetic: the previous record's messages, each with a
	// hash of its role and content, the key after it, and its stand-in.
	synth []standIn
}

// standIn is a message and its synthetic stand-in.
type standIn struct {
	sum     xxh3.Uint128 // role, recorded content and tool calls
	key     synthtext.Key
	content []byte // the stand-in content
	null    bool   // the content is null
	role    string
	calls   []chat.ToolCall // the tool calls, with stand-in arguments
	callID  string
}

// conversation identifies the messages of a session's last call, for
// --rows delta: their number and a hash of them. Unlike a memo it is never
// forgotten, so that whether a row continues does not depend on which
// sessions a worker had to forget; it costs 16 bytes a session.
type conversation struct {
	n   int
	sum uint64
}

func newTokWorker(tok *tokenize.Tokenizer, cmd *TokenizeCmd, free buffers, gen *synthtext.Generator) *tokWorker {
	return &tokWorker{
		free:    free,
		gen:     gen,
		enc:     tok.NewEncoder(),
		name:    record.AppendString(nil, tok.Name()),
		keep:    cmd.Messages != "drop",
		full:    cmd.Full,
		delta:   cmd.Rows == "delta",
		compact: cmd.Compact,
		hash:    xxh3.New(),
		memos:   map[string]*sessionMemo{},
	}
}

func (w *tokWorker) process(j *tokJob) ([]byte, int, error) {
	// The prompt text is read while the record is parsed (the session's
	// memo holds the previous text).
	var msgs []chat.Message
	var err error
	if w.delta {
		err = record.Parse(j.line, &w.rec)
	} else {
		w.part.Reset()
		err = record.ParseWith(j.line, &w.rec, "messages", w.readPrompt)
	}
	if err != nil {
		return nil, 0, err
	}
	line := w.recent.Next(j.samePrev)
	raw, ok := w.rec.Get("messages")
	if !ok && cli.UsageOnly(&w.rec) {
		// No text to tokenize: the record goes on as it is, and the next
		// records of its session share no ids with it.
		session, _ := w.rec.Get("session_id")
		w.session(string(session)).cur = nil
		line.prompt.Reset()
		line.msgs, line.synth, line.ids = nil, nil, line.ids[:0]
		return w.rec.AppendJSON(w.free.get()), 0, nil
	}
	if !ok {
		return nil, 0, errors.New(`no "messages" field: trace-tokenize reads the records trace-extract writes`)
	}
	shared, err := cli.SharedCount(&w.rec, "shared_messages")
	if err != nil {
		return nil, 0, err
	}
	if shared > 0 && !j.samePrev {
		return nil, 0, cli.CompactError("shared_messages", shared, 0, false)
	}
	// The line the shared messages are of: the line before, or one further
	// back (shared_back).
	back := 1
	var from *recentLine
	if shared > 0 {
		if back, err = cli.SharedBack(&w.rec, "shared_back"); err != nil {
			return nil, 0, err
		}
		var ok bool
		if from, ok = w.recent.Back(back); !ok {
			return nil, 0, cli.CompactBackError("shared_back", back, w.recent.Lines())
		}
	}
	session, _ := w.rec.Get("session_id")
	sm := w.session(string(session))
	prev := sm.cur // the branch of the line before, when it is of this session
	var b *branch
	var text string
	common := -1 // how much text the previous prompt shares, when known
	if w.delta {
		if msgs, err = chat.Decode(raw); err != nil {
			return nil, 0, err
		}
		if shared > 0 {
			if shared > len(from.msgs) {
				return nil, 0, cli.CompactErrorBack("shared_messages", shared, back, len(from.msgs))
			}
			msgs = append(from.msgs[:shared:shared], msgs...)
		}
		text = chat.PromptText(msgs)
		b = sm.pick(text, w.clock)
	} else {
		whole := shared == 0
		if back > 1 {
			// The prompt of a line further back, cut to the shared
			// messages, then the record's: a whole prompt.
			if shared > from.prompt.Messages() {
				return nil, 0, cli.CompactErrorBack("shared_messages", shared, back, from.prompt.Messages())
			}
			w.whole.SetPrefix(&from.prompt, shared)
			w.whole.Append(&w.part)
			w.part, w.whole = w.whole, w.part
			whole = true
		}
		switch {
		case whole:
			// The branch's memo takes the new prompt; its old one becomes
			// the spare once EncodeAfter has compared the new text with it.
			t := w.part.Text()
			b = sm.pick(unsafe.String(unsafe.SliceData(t), len(t)), w.clock)
			w.part, b.prompt, w.spare = w.spare, w.part, b.prompt
		case prev == nil || shared > prev.prompt.Messages():
			n := 0
			if prev != nil {
				n = prev.prompt.Messages()
			}
			return nil, 0, cli.CompactError("shared_messages", shared, n, true)
		default:
			// The first messages are the previous prompt's: keep them where
			// they are and append the others; the texts need no comparing.
			b = prev
			b.used = w.clock
			common = b.prompt.Keep(shared)
			b.prompt.Append(&w.part)
		}
		t := b.prompt.Text()
		text = unsafe.String(unsafe.SliceData(t), len(t))
	}
	var ids []int
	switch {
	case w.full:
		ids = w.enc.Encode(text)
	case common >= 0:
		ids, b.memo = w.enc.EncodeAfterPrefix(b.memo, text, common)
	default:
		ids, b.memo = w.enc.EncodeAfter(b.memo, text)
	}
	b.text = text
	sm.cur = b
	if w.delta {
		line.msgs = msgs
		sm.msgs = msgs
		if added, ok := w.newMessages(string(session), msgs); ok {
			w.rec.SetInt("full_length", int64(len(ids)))
			w.rec.Set("continues", []byte("true"))
			ids = w.enc.Encode(chat.PromptText(added))
		} else {
			w.rec.Delete("continues")
		}
	}
	if !w.keep {
		w.rec.Delete("messages")
		w.rec.Delete("shared_messages")
		w.rec.Delete("shared_back")
		w.rec.Delete("tools")
	}
	if !w.delta {
		line.prompt.SetPrefix(&b.prompt, b.prompt.Messages())
	}
	if w.gen != nil {
		var whole *tokenize.Memo // the prompt's encoding, when it is b's memo
		if !w.full {
			whole = b.memo
		}
		var before []standIn // the stand-ins of the line the record follows
		if from != nil {
			before = from.synth
		} else {
			before = sm.synth
		}
		if err := w.standIns(sm, raw, shared, before, whole); err != nil {
			return nil, 0, err
		}
		line.synth = sm.synth
		w.rec.Set("messages", w.stand)
		if raw, ok := w.rec.Get("tools"); ok {
			tools, err := w.standInTools(raw)
			if err != nil {
				return nil, 0, fmt.Errorf("tools: %w", err)
			}
			w.rec.Set("tools", tools)
		}
	}
	w.rec.SetInt("input_length", int64(len(ids)))
	w.rec.Set("tokenizer", w.name)
	w.rec.Delete("shared_ids") // a record tokenized again
	w.rec.Delete("shared_ids_back")
	switch {
	case w.full || w.delta:
		w.scratch = record.AppendInts(w.scratch[:0], ids)
		w.rec.Set("input_ids", w.scratch)
	case w.compact:
		// The reused ids are the first ones of the line before, when it is
		// of this session.
		kept, idsBack := 0, 1
		if j.samePrev && b == prev && !w.full {
			kept = b.memo.Reused()
		}
		// A record whose messages continue a line further back shares
		// its ids with that line's.
		if from != nil && back > 1 {
			if n := commonPrefix(ids, from.ids); n > kept {
				kept, idsBack = n, back
			}
		}
		if kept > 0 {
			w.rec.SetInt("shared_ids", int64(kept))
		}
		if idsBack > 1 {
			w.rec.SetInt("shared_ids_back", int64(idsBack))
		}
		line.ids = append(line.ids[:0], ids...)
		var ok bool
		if w.scratch, ok = idarray.AppendPacked(w.scratch[:0], ids[kept:]); !ok {
			w.scratch = record.AppendInts(w.scratch[:0], ids[kept:])
		}
		w.rec.Set("input_ids", w.scratch)
	default: // the ids reused from the previous prompt keep their text too
		w.rec.Set("input_ids", b.ids.Format(ids, b.memo.Reused()))
	}
	return w.rec.AppendJSON(w.free.get()), len(ids), nil
}

// sessionKey returns the raw session_id of a record line, which decides the
// worker of the record. trace-extract writes it first, so it is found
// without parsing the line; otherwise the line is parsed. A line without
// one (or not a record) gets nil: its worker reports what is wrong.
func sessionKey(line []byte) []byte {
	const lead = `{"session_id":"`
	if bytes.HasPrefix(line, []byte(lead)) {
		rest := line[len(lead)-1:]
		if end := bytes.IndexByte(rest[1:], '"'); end >= 0 && bytes.IndexByte(rest[1:end+1], '\\') < 0 {
			return rest[:end+2]
		}
	}
	var rec record.Record
	if record.Parse(line, &rec) != nil {
		return nil
	}
	key, _ := rec.Get("session_id")
	return key
}

// readPrompt reads the prompt text of the messages field into w.part, for
// record.ParseWith.
func (w *tokWorker) readPrompt(line []byte, start int) (end int, err error) {
	w.part.Reset() // a repeated field: the last one counts
	return w.part.Read(line, start)
}

// session returns what the worker remembers of a session, making room by
// forgetting the least recently used one.
func (w *tokWorker) session(key string) *sessionMemo {
	w.clock++
	if sm, ok := w.memos[key]; ok {
		sm.used = w.clock
		return sm
	}
	sm := &sessionMemo{}
	if len(w.memos) >= memoLimit {
		oldest, at := "", w.clock
		for k, sm := range w.memos {
			if sm.used < at {
				oldest, at = k, sm.used
			}
		}
		// The new session takes over the forgotten one's memo and storage:
		// EncodeAfter gives exact ids whatever text the memo holds (and
		// reuses a system prompt the two share), and no buffer grows from
		// nothing again. Delta rows compare with the same session only.
		sm = w.memos[oldest]
		delete(w.memos, oldest)
		sm.msgs = nil
		sm.synth = sm.synth[:0]
		// One branch goes on, for the new session's first prompt to take
		// over (its prompt may share a system prompt with it); the others
		// would only hold memory.
		if sm.cur != nil {
			sm.branches = append(sm.branches[:0], sm.cur)
		}
		sm.inherited = len(sm.branches) > 0
		sm.cur = nil // the line before is another session's
	}
	sm.used = w.clock
	w.memos[key] = sm
	return sm
}

// newMessages returns the messages of cur added since the session's
// previous call, when cur starts with that call's (non-empty) messages,
// without the first added message if it is an assistant message (the
// response to the previous call, which aiperf inserts itself); and
// remembers cur as the session's last call.
func (w *tokWorker) newMessages(session string, cur []chat.Message) ([]chat.Message, bool) {
	prev, had := w.convs[session]
	w.hash.Reset()
	starts := false
	var buf [8]byte
	for i, m := range cur {
		if had && i == prev.n && w.hash.Sum64() == prev.sum {
			starts = true
		}
		w.hash.Write(binary.LittleEndian.AppendUint64(buf[:0], uint64(len(m.Role))))
		w.hash.WriteString(m.Role)
		if m.Content == nil {
			w.hash.Write([]byte{0})
		} else {
			w.hash.Write([]byte{1})
			w.hash.Write(binary.LittleEndian.AppendUint64(buf[:0], uint64(len(*m.Content))))
			w.hash.WriteString(*m.Content)
		}
	}
	if had && len(cur) == prev.n && w.hash.Sum64() == prev.sum {
		starts = true
	}
	if w.convs == nil {
		w.convs = map[string]conversation{}
	}
	w.convs[session] = conversation{len(cur), w.hash.Sum64()}
	if !starts || prev.n == 0 {
		return nil, false
	}
	added := cur[prev.n:]
	if len(added) > 0 && added[0].Role == "assistant" {
		added = added[1:]
	}
	return added, true
}

// contentPlaces appends to places where each message's content lies in
// text, which should end with the contents of msgs joined by new lines:
// {from, to} byte offsets, or {0, 0} when not found there (no content, or
// the text differs).
func contentPlaces(places [][2]int, msgs []chat.Message, text string) [][2]int {
	places = slices.Grow(places[:0], len(msgs))[:len(msgs)]
	end := len(text)
	for i := len(msgs) - 1; i >= 0; i-- {
		places[i] = [2]int{}
		c := msgs[i].Content
		if c == nil || end < 0 {
			continue
		}
		from := end - len(*c)
		if from < 0 || text[from:end] != *c || (from > 0 && text[from-1] != '\n') {
			end = -1 // the text is not what these messages make
			continue
		}
		places[i] = [2]int{from, end}
		end = from - 1
	}
	return places
}

// standInTools returns the tools list raw with stand-in descriptions. The
// calls of a session repeat one list, so each list is made once (a worker
// remembers up to 64).
func (w *tokWorker) standInTools(raw []byte) ([]byte, error) {
	sum := xxh3.Hash128(raw)
	if out, ok := w.tools[sum]; ok {
		return out, nil
	}
	out, err := w.gen.AppendTools(nil, raw, w.enc.Encode)
	if err != nil {
		return nil, err
	}
	if w.tools == nil || len(w.tools) >= 64 {
		w.tools = map[xxh3.Uint128][]byte{}
	}
	w.tools[sum] = out
	return out, nil
}

// standIns sets w.stand to the JSON of the record's messages with synthetic
// contents: the messages of raw, which follow the first shared messages of
// the session's previous record. A message equal to the previous record's
// at its place, after equal ones, keeps its stand-in; the others are
// tokenized one by one (the recorded token count of a message is that of
// its content alone), from the prompt's ids in whole where a content is
// found at its place in the prompt text (the contents joined by new lines,
// these messages last).
func (w *tokWorker) standIns(sm *sessionMemo, raw []byte, shared int, prev []standIn, whole *tokenize.Memo) error {
	msgs, err := chat.Decode(raw)
	if err != nil {
		return err
	}
	w.places = w.places[:0]
	if whole != nil {
		w.places = contentPlaces(w.places, msgs, whole.Text())
	}
	if shared > len(prev) {
		return cli.CompactError("shared_messages", shared, len(prev), true)
	}
	same := shared == 0 // whole records: compare with the previous one's
	next := make([]standIn, shared, shared+len(msgs))
	copy(next, prev[:shared])
	for i, m := range msgs {
		at := shared + i
		w.hash.Reset()
		w.hash.WriteString(m.Role)
		if m.Content == nil {
			w.hash.Write([]byte{0})
		} else {
			w.hash.Write([]byte{1})
			w.hash.WriteString(*m.Content)
		}
		for _, c := range m.ToolCalls {
			w.hash.Write([]byte{2})
			w.hash.WriteString(c.ID)
			w.hash.Write([]byte{0})
			w.hash.WriteString(c.Name)
			w.hash.Write([]byte{0})
			w.hash.WriteString(c.Arguments)
		}
		w.hash.Write([]byte{3})
		w.hash.WriteString(m.ToolCallID)
		sum := w.hash.Sum128()
		if same && at < len(prev) && prev[at].sum == sum {
			next = append(next, prev[at])
			continue
		}
		same = false
		before := synthtext.Root
		if at > 0 {
			before = next[at-1].key
		}
		s := standIn{sum: sum, role: m.Role, null: m.Content == nil, callID: m.ToolCallID}
		start := synthtext.Start(before, m.Role)
		s.key = start
		if m.Content != nil {
			if len(w.places) > 0 && w.places[i][1] > 0 {
				w.msgIDs = w.enc.AppendPart(w.msgIDs[:0], whole, w.places[i][0], w.places[i][1])
			} else {
				w.msgIDs = w.enc.Append(w.msgIDs[:0], *m.Content)
			}
			// Made in a reused buffer, kept at its size: stand-ins stay
			// while their session lasts.
			w.synthBuf, s.key = w.gen.Append(w.synthBuf[:0], start, w.msgIDs)
			s.content = slices.Clone(w.synthBuf)
		}
		// Tool calls keep their ids and function names; their arguments
		// become stand-ins of as many tokens.
		for _, c := range m.ToolCalls {
			w.msgIDs = w.enc.Append(w.msgIDs[:0], c.Arguments)
			var args []byte
			args, s.key = w.gen.AppendArguments(make([]byte, 0, 8*len(w.msgIDs)+16), synthtext.Start(s.key, "tool_call:"+c.Name), w.msgIDs)
			s.calls = append(s.calls, chat.ToolCall{ID: c.ID, Name: c.Name, Arguments: string(args)})
		}
		next = append(next, s)
	}
	sm.synth = next
	// The messages field holds what the record held: the ones after the
	// shared ones.
	out := make([]chat.Message, 0, len(msgs))
	for _, s := range next[shared:] {
		m := chat.Message{Role: s.role, ToolCalls: s.calls, ToolCallID: s.callID}
		if !s.null {
			c := unsafe.String(unsafe.SliceData(s.content), len(s.content))
			m.Content = &c
		}
		out = append(out, m)
	}
	w.stand = chat.AppendJSON(w.stand[:0], out)
	return nil
}
