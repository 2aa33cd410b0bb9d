package stats

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

// Hit rates computed by hand, with blocks of 64 tokens.
func TestHitRateAndCounts(t *testing.T) {
	s := New(64)
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
		"Input Length (tokens):\n  Min: 50\n  Max: 180\n  Avg: 126.7\n  p50: 150\n  p99: 180\n",
		"Prefix blocks (block size 64): 5 unique of 7\n",
		"hit rate: 22.2% mean per row, 33.7% of input tokens",
		"--tokenizer tok ", "--input-file out.jsonl ", "--isl-block-size 64 ",
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
	New(64).Print(&b, Replay{})
	if b.String() != "No data to report statistics on.\n" {
		t.Errorf("got %q", b.String())
	}
}
