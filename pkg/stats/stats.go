// Package stats computes the statistics block printed after a conversion:
// the reference converters' figures (sessions, turns, lengths, hash ids per
// row, agent types, priorities) and, beyond them, percentiles, unique
// blocks, the theoretical prefix-cache hit rate and the aiperf command that
// replays the file.
package stats

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Row is what the statistics need of one output row.
type Row struct {
	Session      string
	Parent       string // parent_session (with --threads), "" when absent
	InputLength  int
	FullLength   int   // tokens of the whole prompt (= InputLength for cumulative rows)
	PromptTokens int64 // server-reported prompt tokens, -1 when absent
	OutputLength int
	HashIDs      []int64
	AgentType    string // "" when absent
	Priority     string // "" when absent
	Delay        int64  // -1 when absent
	Model        string // "" when absent
	Timestamp    bool   // the row has a timestamp
}

// Stats accumulates rows. Memory grows with the number of rows (a few ints
// each) and with the number of distinct blocks (one bit each).
type Stats struct {
	rows                    int
	sessions                map[string]int
	sessionOrder            []string
	inputs, outputs, hashes []int
	delays                  []int64
	fullTokens, inputTokens int64 // whole-prompt and row tokens (they differ for delta rows)
	promptTokens            int64 // server-reported, over the rows that have it
	promptInput             int64 // whole-prompt tokens of those rows
	parents                 map[string]map[string]bool
	agents, priorities      counter
	seen                    []uint64 // bitset of block ids used by earlier rows
	unique                  int
	hitRateSum              float64
	hitRows                 int // rows with hash ids: aiperf averages the hit rate over them
	hitTokens, totalTokens  int64
	blockSize               int
	mode                    Mode
	history                 map[string]*sent // per session, for history rows
	sent, largest           int64            // what aiperf will send, and its largest request
	raisedOutputs           int
	droppedEmpty            int
	usageOnly               int
	models                  counter
	timestamps              bool
}

// Mode says how aiperf turns the rows of a file into requests, which decides
// what a replay sends (aiperf's dataset/loader/mooncake_trace.py and
// workers/session_manager.py).
type Mode int

const (
	// History is aiperf's mode for rows with input_length (and hash_ids):
	// rows are grouped by session_id, and each turn sends every earlier turn
	// of its session plus the live answers to them, then its own prompt
	// (ConversationContextMode.DELTAS_WITHOUT_RESPONSES).
	History Mode = iota
	// SelfContained is the mode of rows with messages: each is sent as it
	// is (MESSAGE_ARRAY_WITH_RESPONSES).
	SelfContained
	// Weka is the mode of Weka traces (aiperf's weka_trace loader): each
	// request's prompt is made from its hash ids, in tokens, as recorded;
	// sub-agents run as child sessions.
	Weka
)

// sent is what aiperf has accumulated for one session in History mode.
type sent struct{ in, out int64 }

type counter struct {
	n     map[string]int
	order []string
}

func (c *counter) add(k string) {
	if c.n == nil {
		c.n = map[string]int{}
	}
	if c.n[k] == 0 {
		c.order = append(c.order, k)
	}
	c.n[k]++
}

// mostCommon returns the keys by count, descending, ties in first-seen order
// (Python's Counter.most_common).
func (c *counter) mostCommon() []string {
	keys := slices.Clone(c.order)
	slices.SortStableFunc(keys, func(a, b string) int { return cmp.Compare(c.n[b], c.n[a]) })
	return keys
}

// New returns an empty Stats for rows hashed with blocks of blockSize that
// aiperf replays in the given mode.
func New(blockSize int, mode Mode) *Stats {
	return &Stats{sessions: map[string]int{}, blockSize: blockSize, mode: mode, history: map[string]*sent{}}
}

// RaisedOutput counts a row whose output_length was below 1 and was written
// as 1 (aiperf refuses a whole file with a row that asks for no token).
func (s *Stats) RaisedOutput() { s.raisedOutputs++ }

// DroppedEmpty counts a delta row with no new token that was left out
// (aiperf would send a made-up one-token turn in its place).
func (s *Stats) DroppedEmpty() { s.droppedEmpty++ }

// UsageOnly counts a usage-only row: no prompt text was traced, so it has
// input_length and no hash_ids.
func (s *Stats) UsageOnly() { s.usageOnly++ }

// Add adds a row.
func (s *Stats) Add(r Row) {
	s.rows++
	if s.sessions[r.Session] == 0 {
		s.sessionOrder = append(s.sessionOrder, r.Session)
	}
	s.sessions[r.Session]++
	s.inputs = append(s.inputs, r.InputLength)
	s.outputs = append(s.outputs, r.OutputLength)
	s.hashes = append(s.hashes, len(r.HashIDs))
	if r.Delay >= 0 {
		s.delays = append(s.delays, r.Delay)
	}
	s.fullTokens += int64(r.FullLength)
	s.inputTokens += int64(r.InputLength)
	if r.PromptTokens >= 0 {
		s.promptTokens += r.PromptTokens
		s.promptInput += int64(r.FullLength)
	}
	if r.Parent != "" {
		if s.parents == nil {
			s.parents = map[string]map[string]bool{}
		}
		if s.parents[r.Parent] == nil {
			s.parents[r.Parent] = map[string]bool{}
		}
		s.parents[r.Parent][r.Session] = true
	}
	if r.AgentType != "" {
		s.agents.add(r.AgentType)
	}
	if r.Priority != "" {
		s.priorities.add(r.Priority)
	}
	// aiperf analyze-trace: the row's hit is the index of its first block
	// that no earlier row used, over its block count.
	first := len(r.HashIDs)
	for i, id := range r.HashIDs {
		if !s.isSeen(id) {
			first = i
			break
		}
	}
	if len(r.HashIDs) > 0 {
		s.hitRateSum += float64(first) / float64(len(r.HashIDs))
		s.hitRows++
	}
	s.hitTokens += int64(min(first*s.blockSize, r.InputLength))
	s.totalTokens += int64(r.InputLength)
	for _, id := range r.HashIDs {
		if !s.isSeen(id) {
			s.unique++
			s.markSeen(id)
		}
	}
	if r.Model != "" {
		s.models.add(r.Model)
	}
	s.timestamps = s.timestamps || r.Timestamp
	s.addReplay(r)
}

// addReplay adds what aiperf sends for the row: in History mode its
// session's earlier turns and their answers (answers of output_length
// tokens, as a server that answers in full gives) plus the row's prompt; a
// row without a session is a session of its own. In SelfContained mode the
// row's prompt.
func (s *Stats) addReplay(r Row) {
	n := int64(r.InputLength)
	if s.mode == History && r.Session != "" { // SelfContained, Weka: as is
		h := s.history[r.Session]
		if h == nil {
			h = &sent{}
			s.history[r.Session] = h
		}
		n += h.in + h.out
		h.in += int64(r.InputLength)
		h.out += int64(r.OutputLength)
	}
	s.sent += n
	s.largest = max(s.largest, n)
}

// ReplayTokens returns the prompt tokens aiperf will send for the rows
// added (chat template tokens aside), the largest single request, and the
// prompt tokens the trace recorded for the same calls.
func (s *Stats) ReplayTokens() (sent, largest, recorded int64) {
	return s.sent, s.largest, s.fullTokens
}

func (s *Stats) isSeen(id int64) bool {
	w := id / 64
	return w < int64(len(s.seen)) && s.seen[w]&(1<<(id%64)) != 0
}

func (s *Stats) markSeen(id int64) {
	w := int(id / 64)
	for w >= len(s.seen) {
		s.seen = append(s.seen, 0)
	}
	s.seen[w] |= 1 << (id % 64)
}

// Rows returns the number of rows added.
func (s *Stats) Rows() int { return s.rows }

// Sessions returns the number of distinct sessions.
func (s *Stats) Sessions() int { return len(s.sessions) }

// UniqueBlocks returns the number of distinct hash ids over all rows.
func (s *Stats) UniqueBlocks() int { return s.unique }

// HitRate returns the mean per-row theoretical prefix-cache hit rate and the
// token-weighted one.
func (s *Stats) HitRate() (mean, weighted float64) {
	if s.hitRows > 0 {
		mean = s.hitRateSum / float64(s.hitRows)
	}
	if s.totalTokens > 0 {
		weighted = float64(s.hitTokens) / float64(s.totalTokens)
	}
	return
}

// Replay describes the aiperf command printed at the end.
type Replay struct {
	File      string // the output file ("" when unknown)
	Tokenizer string // the tokenizer the rows were made with
}

// Print writes the statistics block, in the reference's layout first.
func (s *Stats) Print(w io.Writer, rp Replay) {
	if s.rows == 0 {
		fmt.Fprintln(w, "No data to report statistics on.")
		return
	}
	line := strings.Repeat("=", 60)
	fmt.Fprintf(w, "\n%s\nCONVERSION STATISTICS\n%s\n", line, line)
	turns := make([]int, 0, len(s.sessions))
	for _, k := range s.sessionOrder {
		turns = append(turns, s.sessions[k])
	}
	fmt.Fprintf(w, "\nSessions: %d\n", len(s.sessions))
	fmt.Fprintf(w, "Turns per session: min=%d, max=%d, avg=%.1f\n", slices.Min(turns), slices.Max(turns), mean(turns))
	fmt.Fprintf(w, "Total LLM calls: %d\n", s.rows)
	if len(s.parents) > 0 {
		fmt.Fprintf(w, "Threads: %d in %d original sessions, rows per thread avg %.1f\n",
			len(s.sessions), len(s.parents), float64(s.rows)/float64(len(s.sessions)))
	}
	if len(s.agents.order) > 0 {
		fmt.Fprintln(w, "\nAgent types:")
		for _, k := range s.agents.mostCommon() {
			fmt.Fprintf(w, "  %s: %d\n", k, s.agents.n[k])
		}
	}
	if len(s.priorities.order) > 0 {
		fmt.Fprintln(w, "\nPriorities:")
		for _, k := range s.priorities.mostCommon() {
			fmt.Fprintf(w, "  %s: %d\n", k, s.priorities.n[k])
		}
	}
	dist(w, "Input Length (tokens)", s.inputs, 50, 99)
	dist(w, "Output Length (tokens)", s.outputs, 50, 99)
	if s.mode != SelfContained {
		dist(w, "Hash IDs per entry", s.hashes, 50, 99)
	}
	if len(s.delays) > 0 {
		d := make([]int, len(s.delays))
		for i, v := range s.delays {
			d[i] = int(v)
		}
		dist(w, "Delay (ms)", d, 50, 90, 99)
	}
	if s.fullTokens != s.inputTokens && s.inputTokens > 0 {
		fmt.Fprintf(w, "\nHistory duplication factor: %.2f (cumulative input tokens / delta input tokens)\n",
			float64(s.fullTokens)/float64(s.inputTokens))
	}
	if s.promptInput > 0 {
		fmt.Fprintf(w, "Server prompt_tokens / tokenized input: %.2f (chat template and tool schemas count in the former)\n",
			float64(s.promptTokens)/float64(s.promptInput))
	}
	if s.raisedOutputs > 0 {
		fmt.Fprintf(w, "Rows with output_length 0 written as 1: %d (aiperf refuses a file with a row that asks for no token)\n", s.raisedOutputs)
	}
	if s.usageOnly > 0 {
		fmt.Fprintf(w, "Usage-only rows (no prompt text traced): %d, with input_length and no hash_ids: aiperf makes up their prompts, with no prefix reuse\n", s.usageOnly)
	}
	if s.droppedEmpty > 0 {
		fmt.Fprintf(w, "Delta rows with no new token left out: %d (aiperf would send a made-up one-token turn)\n", s.droppedEmpty)
	}
	if s.mode != SelfContained {
		m, wt := s.HitRate()
		fmt.Fprintf(w, "\nPrefix blocks (block size %d): %d unique of %d\n", s.blockSize, s.unique, sum(s.hashes))
		fmt.Fprintf(w, "Theoretical prefix-cache hit rate: %.1f%% mean per row, %.1f%% of input tokens\n", 100*m, 100*wt)
	}
	s.printReplay(w)
	fmt.Fprintln(w, line)
	s.printCommand(w, rp)
}

// printReplay says what aiperf will send for the file, next to what was
// recorded, and warns when it is much more.
func (s *Stats) printReplay(w io.Writer) {
	sent, largest, recorded := s.ReplayTokens()
	how := "rows with messages are sent as they are"
	switch s.mode {
	case History:
		how = "each turn re-sends its session's earlier turns and their answers"
	case Weka:
		how = "each request's prompt is built from its hash ids, as recorded"
	}
	fmt.Fprintf(w, "\nReplay (%s):\n", how)
	factor := 0.0
	if recorded > 0 {
		factor = float64(sent) / float64(recorded)
	}
	fmt.Fprintf(w, "  aiperf will send %s prompt tokens for %s recorded (%.2fx); largest request %s tokens\n",
		thousands(sent), thousands(recorded), factor, thousands(largest))
	if factor > 1.1 {
		fmt.Fprintf(w, "  warning: that is %.1fx the recorded prompt tokens: agent prompts already carry their\n"+
			"  history. Message rows replay the recorded load: --emit messages in the scripts, or\n"+
			"  trace-tokenize --messages synthetic | trace-hash --emit messages in a pipeline\n", factor)
	}
}

// printCommand prints the aiperf command that replays the whole file.
func (s *Stats) printCommand(w io.Writer, rp Replay) {
	file := rp.File
	if file == "" {
		file = "<output.jsonl>"
	}
	tok := rp.Tokenizer
	if tok == "" {
		tok = "<tokenizer>"
	}
	model := "<model>"
	if m := s.models.mostCommon(); len(m) > 0 {
		model = m[0]
	}
	if s.mode == Weka {
		if rp.File == "" {
			file = "<folder of traces>"
		}
		fmt.Fprintf(w, "\nReplay with aiperf (0.13 or later; sub-agents run as child sessions the parent waits for):\n"+
			"  aiperf profile --model %s --tokenizer %s --endpoint-type chat --streaming \\\n"+
			"    --url http://localhost:8000 --input-file %s --custom-dataset-type weka_trace --fixed-schedule\n", model, tok, file)
		return
	}
	fmt.Fprintf(w, "\nReplay with aiperf:\n  aiperf profile --model %s --tokenizer %s --endpoint-type chat --streaming \\\n"+
		"    --url http://localhost:8000 --input-file %s --custom-dataset-type mooncake_trace \\\n    ", model, tok, file)
	if s.mode == History {
		fmt.Fprintf(w, "--isl-block-size %d ", s.blockSize)
	}
	if s.timestamps {
		fmt.Fprintln(w, "--fixed-schedule")
	} else {
		fmt.Fprintf(w, "--num-sessions %d --concurrency %d\n", len(s.sessions), min(10, len(s.sessions)))
	}
	if s.mode == History {
		fmt.Fprintf(w, "  (aiperf 0.11 refuses --isl-block-size with --input-file and assumes %d-token blocks: there,\n"+
			"  convert with --block-size 512 or write message rows; later versions pass it to the trace loader)\n", 512)
	}
}

// dist prints the distribution of v: min, max, mean and the percentiles ps,
// interpolated as numpy's percentile (and so aiperf) does.
func dist(w io.Writer, title string, v []int, ps ...float64) {
	if len(v) == 0 {
		return
	}
	sorted := slices.Sorted(slices.Values(v))
	fmt.Fprintf(w, "\n%s:\n  Min: %d\n  Max: %d\n  Avg: %.1f\n", title, sorted[0], sorted[len(sorted)-1], mean(v))
	for _, p := range ps {
		fmt.Fprintf(w, "  p%g: %s\n", p, number(percentile(sorted, p)))
	}
}

// percentile returns the p-th percentile of sorted values with linear
// interpolation between the closest ranks (numpy's default method).
func percentile(sorted []int, p float64) float64 {
	pos := p / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	if lo >= len(sorted)-1 {
		return float64(sorted[len(sorted)-1])
	}
	return float64(sorted[lo]) + (pos-float64(lo))*float64(sorted[lo+1]-sorted[lo])
}

// number formats v as an integer when it is one, else with one decimal.
func number(v float64) string {
	if v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// thousands formats n with commas between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func mean(v []int) float64 { return float64(sum(v)) / float64(len(v)) }

func sum(v []int) int {
	t := 0
	for _, x := range v {
		t += x
	}
	return t
}
