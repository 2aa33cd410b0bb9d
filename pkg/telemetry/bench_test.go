package telemetry

import (
	"bytes"
	"testing"

	"github.com/agent-trace/agent-trace/pkg/synth"
)

// benchLines returns the lines of a generated telemetry trace (research
// sessions whose agents interleave, as scripts/bench's).
func benchLines(b *testing.B) [][]byte {
	var buf bytes.Buffer
	if err := synth.WriteTelemetry(&buf, synth.TelemetryOptions{Sessions: 30, Workers: 3, Calls: 12, TurnBytes: 1500, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	return bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
}

// BenchmarkParseHead: trace-extract's first pass over telemetry (every
// line checked, its type, session and timestamp read).
func BenchmarkParseHead(b *testing.B) {
	lines := benchLines(b)
	for b.Loop() {
		for _, l := range lines {
			if _, err := ParseHead(l); err != nil {
				b.Fatal(err)
			}
		}
	}
}
