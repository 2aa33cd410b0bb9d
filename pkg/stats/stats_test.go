package stats

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

// Hit rates computed by hand, with blocks of 64 tokens.
func TestHitRateAndCounts(t *testing.T) {
	s := New(64, History)
	s.Add(Row{Session: "a", InputLength: 150, OutputLength: 10, HashIDs: []int64{0, 1, 2}, Priority: "HIGH", Delay: -1})
	s.Add(Row{Session: "a", InputLength: 180, OutputLength: 20, HashIDs: []int64{0, 1, 3}, Priority: "LOW", Delay: 500})
	s.Add(Row{Session: "b", InputLength: 50, OutputLength: 30, HashIDs: []int64{4}, Priority: "HIGH", Delay: -1})
	// Row 2: blocks 0 and 1 were used by row 1; block 3 is new: 2/3 of its
	// blocks, 128 tokens.
	mean, weighted := s.HitRate()
	if math.Abs(mean-(2.0/3)/3) > 1e-12 || math.Abs(weighted-128.0/380) > 1e-12 {
		t.Errorf("hit rate %f / %f, want %f / %f", mean, weighted, (2.0/3)/3, 128.0/380)
	}
	if s.Rows() != 3 || s.Sessions() != 2 || s.UniqueBlocks() != 5 {
		t.Errorf("rows %d sessions %d unique %d", s.Rows(), s.Sessions(), s.UniqueBlocks())
	}
	var b bytes.Buffer
	s.Print(&b, Replay{File: "out.jsonl", Tokenizer: "tok"})
	for _, want := range []string{
		"Sessions: 2\n", "Turns per session: min=1, max=2, avg=1.5\n", "Total LLM calls: 3\n",
		"Priorities:\n  HIGH: 2\n  LOW: 1\n",
		"Input Length (tokens):\n  Min: 50\n  Max: 180\n  Avg: 126.7\n  p50: 150\n  p99: 179.4\n",
		"Prefix blocks (block size 64): 5 unique of 7\n",
		"hit rate: 22.2% mean per row, 33.7% of input tokens",
		"--tokenizer tok ", "--input-file out.jsonl ", "--isl-block-size 64 ", "--num-sessions 2 ",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("statistics lack %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "Agent types") {
		t.Error("agent types printed though no row has one")
	}
}

func TestEmpty(t *testing.T) {
	var b bytes.Buffer
	New(64, History).Print(&b, Replay{})
	if b.String() != "No data to report statistics on.\n" {
		t.Errorf("got %q", b.String())
	}
}

// aiperf's rule for rows with input_length, computed by hand: each turn of
// a session sends the session's earlier prompts and answers, then its own.
//
//	a1: 100                      = 100
//	a2: 100 + 10 + 50            = 160
//	b1: 70                       = 70
//	a3: 100 + 10 + 50 + 20 + 30  = 210
//	-:  40 (no session: alone)   = 40
func TestReplayHistory(t *testing.T) {
	s := New(16, History)
	rows := []Row{
		{Session: "a", InputLength: 100, FullLength: 100, OutputLength: 10},
		{Session: "a", InputLength: 50, FullLength: 160, OutputLength: 20},
		{Session: "b", InputLength: 70, FullLength: 70, OutputLength: 5},
		{Session: "a", InputLength: 30, FullLength: 215, OutputLength: 1},
		{Session: "", InputLength: 40, FullLength: 40, OutputLength: 1},
	}
	for _, r := range rows {
		r.Delay = -1
		s.Add(r)
	}
	sent, largest, recorded := s.ReplayTokens()
	if sent != 100+160+70+210+40 || largest != 210 || recorded != 100+160+70+215+40 {
		t.Errorf("sent %d largest %d recorded %d", sent, largest, recorded)
	}
	var b bytes.Buffer
	s.Print(&b, Replay{})
	if !strings.Contains(b.String(), "aiperf will send 580 prompt tokens for 585 recorded (0.99x); largest request 210 tokens") {
		t.Errorf("replay line missing:\n%s", b.String())
	}
	if strings.Contains(b.String(), "warning") {
		t.Errorf("warned at 0.99x:\n%s", b.String())
	}

	// Cumulative rows of one growing session: the history is sent again.
	s = New(16, History)
	for i, n := range []int{1000, 1200, 1500} {
		s.Add(Row{Session: "s", InputLength: n, FullLength: n, OutputLength: 100, Delay: int64(i) - 1})
	}
	sent, largest, recorded = s.ReplayTokens()
	// 1000; 1000+100+1200; 1000+100+1200+100+1500
	if sent != 1000+2300+3900 || largest != 3900 || recorded != 3700 {
		t.Errorf("cumulative: sent %d largest %d recorded %d", sent, largest, recorded)
	}
	b.Reset()
	s.Print(&b, Replay{})
	for _, want := range []string{"aiperf will send 7,200 prompt tokens for 3,700 recorded (1.95x); largest request 3,900 tokens",
		"warning: that is 1.9x the recorded prompt tokens", "replay the recorded load: --emit messages in the scripts"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("lacks %q:\n%s", want, b.String())
		}
	}

	// Message rows are sent as they are.
	s = New(16, SelfContained)
	for _, n := range []int{1000, 1200, 1500} {
		s.Add(Row{Session: "s", InputLength: n, FullLength: n, OutputLength: 100, Delay: -1, Model: "m1", Timestamp: true})
	}
	sent, largest, recorded = s.ReplayTokens()
	if sent != 3700 || largest != 1500 || recorded != 3700 {
		t.Errorf("messages: sent %d largest %d recorded %d", sent, largest, recorded)
	}
	b.Reset()
	s.Print(&b, Replay{})
	for _, bad := range []string{"--isl-block-size", "--num-sessions", "Prefix blocks"} {
		if strings.Contains(b.String(), bad) {
			t.Errorf("message rows' statistics say %q:\n%s", bad, b.String())
		}
	}
	for _, want := range []string{"--model m1 ", "--fixed-schedule"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("lacks %q:\n%s", want, b.String())
		}
	}
}

// Percentiles as numpy (and aiperf analyze-trace) computes them; the hit
// rate is a mean over the rows that have hash ids, as aiperf's.
func TestPercentileAndHitRows(t *testing.T) {
	for _, c := range []struct {
		v    []int
		p    float64
		want float64
	}{
		{[]int{1, 2, 3, 4}, 50, 2.5},
		{[]int{10}, 99, 10},
		{[]int{1, 2, 3, 4, 5}, 50, 3},
		{[]int{0, 100}, 90, 90},
		{[]int{1, 2, 3, 4}, 99, 3.97},
	} {
		if got := percentile(c.v, c.p); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("percentile(%v, %g) = %g, want %g", c.v, c.p, got, c.want)
		}
	}
	s := New(4, History)
	s.Add(Row{Session: "a", InputLength: 8, OutputLength: 1, HashIDs: []int64{0, 1}, Delay: -1})
	s.Add(Row{Session: "a", InputLength: 0, OutputLength: 1, Delay: -1})
	s.Add(Row{Session: "b", InputLength: 8, OutputLength: 1, HashIDs: []int64{0, 2}, Delay: -1})
	// Rows with hash ids: 0/2 and 1/2, so 25%; the row without is not counted.
	if m, _ := s.HitRate(); math.Abs(m-0.25) > 1e-12 {
		t.Errorf("mean hit rate %g, want 0.25", m)
	}
	// Two identical 10-token rows at block size 4: the second hits all
	// three blocks, but only its 10 tokens count: 10 of 20.
	s = New(4, History)
	for range 2 {
		s.Add(Row{Session: "a", InputLength: 10, OutputLength: 1, HashIDs: []int64{0, 1, 2}, Delay: -1})
	}
	if _, w := s.HitRate(); math.Abs(w-0.5) > 1e-12 {
		t.Errorf("token hit rate %g, want 0.5", w)
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// A row whose blocks were all seen before hits its whole input, not more:
// two identical 10-token rows at block size 4 (three blocks, the last
// partial) hit 10 of 20 tokens, 50.0%, and the second row hits all its
// blocks.
func TestHitTokensCapped(t *testing.T) {
	s := New(4, History)
	s.Add(Row{Session: "a", InputLength: 10, FullLength: 10, OutputLength: 1, HashIDs: []int64{0, 1, 2}, Delay: -1})
	s.Add(Row{Session: "b", InputLength: 10, FullLength: 10, OutputLength: 1, HashIDs: []int64{0, 1, 2}, Delay: -1})
	mean, weighted := s.HitRate()
	if mean != 0.5 || weighted != 0.5 {
		t.Fatalf("hit rate %v mean, %v of tokens; want 0.5 and 0.5", mean, weighted)
	}
}
