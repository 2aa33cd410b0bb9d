package extractcmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agent-trace/agent-trace/pkg/cli"
	"github.com/agent-trace/agent-trace/pkg/synth"
)

// The first pass over a telemetry file read as two halves at once gives
// what reading it line by line gives: the same records, and the same error
// (input, line, message, status) for a bad line or timestamps of both
// kinds, whichever half they are in.
func TestHalvesEqualLines(t *testing.T) {
	var buf bytes.Buffer
	if err := synth.WriteTelemetry(&buf, synth.TelemetryOptions{Sessions: 8, Workers: 3, Calls: 5, TurnBytes: 300, Seed: 11}); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	lines := bytes.SplitAfter(good, []byte("\n"))
	late := len(lines) * 3 / 4 // a line in the second half
	with := func(i int, line string) []byte {
		out := bytes.Join(lines[:i], nil)
		out = append(out, line...)
		return append(out, bytes.Join(lines[i:], nil)...)
	}
	numberTime := `{"event_type":"llm_call","session_id":"zz","timestamp":1717236000.5,"request_payload":{"messages":[{"role":"user","content":"x"}]}}` + "\n"
	cases := []struct {
		name string
		in   []byte
		args []string
	}{
		{"whole", good, nil},
		{"compact", good, []string{"--compact"}},
		{"bad line late", with(late, "{not json\n"), nil},
		{"bad line late, skipped", with(late, "{not json\n"), []string{"--skip-invalid"}},
		{"bad line early", with(3, `{"event_type":"llm_call"}`+"\n"), nil},
		{"timestamps of both kinds", with(late, numberTime), nil},
		{"blank lines", with(late, "\n\n  \n"), []string{"--compact"}},
		{"bad payload late", with(late, `{"event_type":"llm_call","session_id":"s","request_payload":5}`+"\n"), nil},
	}
	dir := t.TempDir()
	for _, c := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".jsonl")
		if err := os.WriteFile(path, c.in, 0o644); err != nil {
			t.Fatal(err)
		}
		runWith := func(from int64) (string, string, int) {
			halvesFrom = from
			defer func() { halvesFrom = 32 << 20 }()
			var out, errb bytes.Buffer
			code := Run(append([]string{"-q", path}, c.args...), cli.Streams{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb})
			return out.String(), errb.String(), code
		}
		o1, e1, c1 := runWith(1 << 62)
		o2, e2, c2 := runWith(0)
		if o1 != o2 || e1 != e2 || c1 != c2 {
			t.Errorf("%s: halves give exit %d, %d bytes, stderr %q; lines give exit %d, %d bytes, stderr %q", c.name, c2, len(o2), e2, c1, len(o1), e1)
		}
		if c.name == "whole" && (c1 != 0 || strings.Count(o1, "\n") < 50) {
			t.Fatalf("whole: exit %d, %d records", c1, strings.Count(o1, "\n"))
		}
	}
}
