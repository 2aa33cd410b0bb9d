package cli_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/agent-trace/agent-trace/pkg/cli"
	"github.com/agent-trace/agent-trace/pkg/cli/classifycmd"
	"github.com/agent-trace/agent-trace/pkg/cli/extractcmd"
	"github.com/agent-trace/agent-trace/pkg/cli/hashcmd"
	"github.com/agent-trace/agent-trace/pkg/cli/tokenizecmd"
	"github.com/agent-trace/agent-trace/pkg/synth"
)

var (
	natOnce sync.Once
	natFile string
)

// benchNAT returns a synthetic 132 MB NAT trace (200 requests of 20 growing
// calls), written once into the user's cache folder and reused by later
// runs (its bytes depend only on the seed).
func benchNAT(b *testing.B) string {
	natOnce.Do(func() {
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		dir = filepath.Join(dir, "agenttrace")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		natFile = filepath.Join(dir, "bench-nat-v1.json")
		if st, err := os.Stat(natFile); err == nil && st.Size() > 100<<20 {
			return
		}
		f, err := os.CreateTemp(dir, "bench-nat-*.tmp")
		if err != nil {
			b.Fatal(err)
		}
		if err := synth.Write(f, synth.Options{Requests: 200, CallsPerReq: 20, TurnBytes: 2400, Seed: 7, NewTokenSpam: 20}); err != nil {
			b.Fatal(err)
		}
		f.Close()
		if err := os.Rename(f.Name(), natFile); err != nil {
			b.Fatal(err)
		}
	})
	return natFile
}

// BenchmarkExtractNAT measures trace-extract on a ~100 MB NAT trace, output
// discarded. Throughput is MB/s of input.
func BenchmarkExtractNAT(b *testing.B) {
	path := benchNAT(b)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	for b.Loop() {
		var stderr bytes.Buffer
		if code := extractcmd.Run([]string{"-q", path}, cli.Streams{nil, io.Discard, &stderr}); code != 0 {
			b.Fatalf("exit %d: %s", code, stderr.String())
		}
	}
}

var (
	recsOnce sync.Once
	recs     []byte
)

// benchRecords is trace-extract's output for the benchmark trace.
func benchRecords(b *testing.B) []byte {
	path := benchNAT(b)
	recsOnce.Do(func() {
		var out, stderr bytes.Buffer
		if code := extractcmd.Run([]string{"-q", path}, cli.Streams{nil, &out, &stderr}); code != 0 {
			b.Fatalf("exit %d: %s", code, stderr.String())
		}
		recs = out.Bytes()
	})
	return recs
}

// BenchmarkClassify: trace-classify on ~130 MB of records (MB/s of records).
func BenchmarkClassify(b *testing.B) {
	in := benchRecords(b)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		var stderr bytes.Buffer
		if code := classifycmd.Run([]string{"-q"}, cli.Streams{bytes.NewReader(in), io.Discard, &stderr}); code != 0 {
			b.Fatalf("exit %d: %s", code, stderr.String())
		}
	}
}

// BenchmarkTokenize: trace-tokenize -j 1 on the same records.
func BenchmarkTokenize(b *testing.B) {
	in := benchRecords(b)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		var stderr bytes.Buffer
		if code := tokenizecmd.Run([]string{"-q", "-j", "1"}, cli.Streams{bytes.NewReader(in), io.Discard, &stderr}); code != 0 {
			b.Fatalf("exit %d: %s", code, stderr.String())
		}
	}
}

var (
	tokOnce sync.Once
	toks    []byte
)

// BenchmarkHash: trace-hash on trace-tokenize's output for the benchmark
// trace (MB/s of its input; rows repeat their session's earlier ids).
func BenchmarkHash(b *testing.B) {
	in := benchRecords(b)
	tokOnce.Do(func() {
		var out, stderr bytes.Buffer
		if code := tokenizecmd.Run([]string{"-q"}, cli.Streams{bytes.NewReader(in), &out, &stderr}); code != 0 {
			b.Fatalf("exit %d: %s", code, stderr.String())
		}
		toks = out.Bytes()
	})
	b.SetBytes(int64(len(toks)))
	for b.Loop() {
		var stderr bytes.Buffer
		if code := hashcmd.Run([]string{"-q", "--block-size", "128"}, cli.Streams{bytes.NewReader(toks), io.Discard, &stderr}); code != 0 {
			b.Fatalf("exit %d: %s", code, stderr.String())
		}
	}
}
