package hashcmd

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/agent-trace/agent-trace/pkg/cli"
	"github.com/agent-trace/agent-trace/pkg/jsonl"
	"github.com/agent-trace/agent-trace/pkg/weka"
)

// wekaWriter gathers the calls of one session at a time and writes each
// session as a Weka trace (--emit weka): a JSON line on standard output,
// or a file DIR/<session>.json with --out-dir, written into a temporary
// folder that becomes DIR when the run succeeds.
type wekaWriter struct {
	out    *jsonl.Writer // standard output, without --out-dir
	dir    string        // the folder being written, with --out-dir
	tmp    string        // the same, for an interrupt (set once)
	final  string        // the folder asked for
	names  map[string]bool
	done   map[string]int // sessions written, and the line of their last record
	cur    weka.Trace
	line   int // the line of the current session's last record
	buf    []byte
	traces int
}

// newWekaWriter checks --out-dir and makes its temporary folder beside it.
func newWekaWriter(out *jsonl.Writer, dir string, blockSize int) (*wekaWriter, error) {
	w := &wekaWriter{out: out, final: dir, done: map[string]int{}, names: map[string]bool{}}
	w.cur.BlockSize = blockSize
	if dir == "" {
		return w, nil
	}
	switch entries, err := os.ReadDir(dir); {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, cli.UsageError(fmt.Errorf("--out-dir %s: %w", dir, err))
	case len(entries) > 0:
		return nil, cli.UsageError(fmt.Errorf("--out-dir %s is not empty: give a new or empty folder (nothing in it is replaced)", dir))
	}
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(dir)), "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return nil, cli.IOError(err)
	}
	w.dir, w.tmp = tmp, tmp
	return w, nil
}

// add adds a call of session id, read from the given line.
func (w *wekaWriter) add(id string, line int, c weka.Call) error {
	if len(w.cur.Calls) > 0 && id != w.cur.ID {
		if err := w.flush(); err != nil {
			return err
		}
	}
	if len(w.cur.Calls) == 0 {
		if last, ok := w.done[id]; ok {
			return fmt.Errorf("session %q comes again after other sessions (its records end on line %d): a Weka trace holds a whole session, so keep each session's records together (sort them by session, e.g. jq -s -c 'group_by(.session_id)[][]')", id, last)
		}
		w.cur.ID = id
	}
	w.cur.Calls = append(w.cur.Calls, c)
	w.line = line
	return nil
}

// flush writes the current session.
func (w *wekaWriter) flush() error {
	if len(w.cur.Calls) == 0 {
		return nil
	}
	w.buf = w.cur.AppendJSON(w.buf[:0])
	w.done[w.cur.ID] = w.line
	w.traces++
	if w.dir == "" {
		if err := w.out.WriteLine(w.buf); err != nil {
			return cli.WriteError(err)
		}
	} else {
		name := w.fileName(w.cur.ID)
		w.buf = append(w.buf, '\n')
		if err := os.WriteFile(filepath.Join(w.dir, name), w.buf, 0o666); err != nil {
			return cli.IOError(err)
		}
	}
	w.cur.Calls = w.cur.Calls[:0]
	return nil
}

// fileName is the session id made safe as a file name, unique in the
// folder even where names differ only in case.
func (w *wekaWriter) fileName(id string) string {
	var b strings.Builder
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	base := strings.TrimLeft(b.String(), ".")
	if base == "" {
		base = "session"
	}
	base = base[:min(len(base), 200)]
	name := base + ".json"
	for n := 2; w.names[strings.ToLower(name)]; n++ {
		name = base + "~" + strconv.Itoa(n) + ".json"
	}
	w.names[strings.ToLower(name)] = true
	return name
}

// finish writes the last session; with --out-dir, commit then puts the
// folder in place, and abort removes what was written.
func (w *wekaWriter) finish() error {
	if err := w.flush(); err != nil {
		return err
	}
	return nil
}

// commit renames the folder written to the one asked for (--out-dir).
func (w *wekaWriter) commit() error {
	if w.dir == "" {
		return nil
	}
	// An empty folder asked for is replaced by the new one; one that has
	// gained files since the start is left alone.
	if fi, err := os.Lstat(w.final); err == nil {
		if !fi.IsDir() {
			return cli.IOError(fmt.Errorf("--out-dir %s: a file of that name appeared during the run; the traces were not written", w.final))
		}
		if err := os.Remove(w.final); err != nil {
			return cli.IOError(fmt.Errorf("--out-dir %s: %w; the traces were not written", w.final, err))
		}
	}
	if err := os.Rename(w.dir, w.final); err != nil {
		return cli.IOError(err)
	}
	w.dir = ""
	return nil
}

// removeTemp removes the temporary folder, if it is still there, from the
// goroutine that handles an interrupt: a file being written meanwhile may
// need a second pass.
func (w *wekaWriter) removeTemp() {
	if w.tmp != "" {
		os.RemoveAll(w.tmp)
		os.RemoveAll(w.tmp)
	}
}

func (w *wekaWriter) abort() {
	if w != nil && w.dir != "" {
		os.RemoveAll(w.dir)
		w.dir = ""
	}
}

// wekaCall makes the weka.Call of the current record.
func (h *hasher) wekaCall(outLen int64) weka.Call {
	agent, _, _ := h.rec.String("session_id")
	kind, _, _ := h.rec.String("agent_type")
	model, _, _ := h.rec.String("model")
	return weka.Call{Agent: agent, AgentType: kind, Model: model, In: len(h.tokens), Out: int(outLen),
		HashIDs: slices.Clone(h.ids), StartMs: h.ms("start_ms"), EndMs: h.ms("end_ms")}
}

// ms reads a time field of the record, NaN when absent or not a number.
func (h *hasher) ms(key string) float64 {
	v, ok := h.rec.Get(key)
	if !ok {
		return math.NaN()
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

// addWeka adds the current record to its session's trace: the session is
// the record's parent_session (trace-extract --threads) or its session_id.
func (h *hasher) addWeka() error {
	if v, ok := h.rec.Get("continues"); ok && string(v) == "true" {
		return errors.New("a delta row (trace-tokenize --rows delta) cannot be a Weka request, which gives the whole prompt: tokenize with --rows cumulative")
	}
	outLen, _, err := h.rec.Int("output_length")
	if err != nil {
		return err
	}
	h.raised = outLen < 1
	if h.raised {
		outLen = 1 // aiperf's max_tokens must be at least 1
	}
	session, ok, err := h.rec.String("parent_session")
	if err != nil {
		return err
	}
	if !ok {
		session, _, err = h.rec.String("session_id")
		if err != nil {
			return err
		}
	}
	if h.cmd.Stats || !h.cmd.Quiet {
		h.addStats()
	}
	return h.weka.add(session, h.lineNo, h.wekaCall(outLen))
}
