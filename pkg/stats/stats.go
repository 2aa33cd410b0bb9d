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
	hitTokens, totalTokens  int64
	blockSize               int
}

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

// New returns an empty Stats for rows hashed with blocks of blockSize.
func New(blockSize int) *Stats {
	return &Stats{sessions: map[string]int{}, blockSize: blockSize}
}

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
	}
	s.hitTokens += int64(min(first*s.blockSize, r.InputLength))
	s.totalTokens += int64(r.InputLength)
	for _, id := range r.HashIDs {
		if !s.isSeen(id) {
			s.unique++
			s.markSeen(id)
		}
	}
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
	if s.rows > 0 {
		mean = s.hitRateSum / float64(s.rows)
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
	dist(w, "Input Length (tokens)", s.inputs)
	dist(w, "Output Length (tokens)", s.outputs)
	dist(w, "Hash IDs per entry", s.hashes)
	if len(s.delays) > 0 {
		d := make([]int, len(s.delays))
		for i, v := range s.delays {
			d[i] = int(v)
		}
		dist(w, "Delay (ms)", d)
		sorted := slices.Sorted(slices.Values(d))
		fmt.Fprintf(w, "  p90: %d\n", percentile(sorted, 90))
	}
	if s.fullTokens != s.inputTokens && s.inputTokens > 0 {
		fmt.Fprintf(w, "\nHistory duplication factor: %.2f (cumulative input tokens / delta input tokens)\n",
			float64(s.fullTokens)/float64(s.inputTokens))
	}
	if s.promptInput > 0 {
		fmt.Fprintf(w, "Server prompt_tokens / tokenized input: %.2f (chat template and tool schemas count in the former)\n",
			float64(s.promptTokens)/float64(s.promptInput))
	}
	m, wt := s.HitRate()
	fmt.Fprintf(w, "\nPrefix blocks (block size %d): %d unique of %d\n", s.blockSize, s.unique, sum(s.hashes))
	fmt.Fprintf(w, "Theoretical prefix-cache hit rate: %.1f%% mean per row, %.1f%% of input tokens\n", 100*m, 100*wt)
	fmt.Fprintln(w, line)
	file := rp.File
	if file == "" {
		file = "<output.jsonl>"
	}
	tok := rp.Tokenizer
	if tok == "" {
		tok = "<tokenizer>"
	}
	fmt.Fprintf(w, "\nReplay with aiperf:\n  aiperf profile --model <model> --tokenizer %s --endpoint-type chat --streaming \\\n"+
		"    --url http://localhost:8000 --input-file %s --custom-dataset-type mooncake_trace \\\n"+
		"    --isl-block-size %d --concurrency 10\n", tok, file, s.blockSize)
}

func dist(w io.Writer, title string, v []int) {
	if len(v) == 0 {
		return
	}
	sorted := slices.Sorted(slices.Values(v))
	fmt.Fprintf(w, "\n%s:\n  Min: %d\n  Max: %d\n  Avg: %.1f\n  p50: %d\n  p99: %d\n",
		title, sorted[0], sorted[len(sorted)-1], mean(v), percentile(sorted, 50), percentile(sorted, 99))
}

// percentile returns the nearest-rank percentile of sorted values.
func percentile(sorted []int, p float64) int {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[max(rank-1, 0)]
}

func mean(v []int) float64 { return float64(sum(v)) / float64(len(v)) }

func sum(v []int) int {
	t := 0
	for _, x := range v {
		t += x
	}
	return t
}
