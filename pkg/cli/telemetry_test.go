package cli_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/agent-trace/agent-trace/pkg/chat"
	"github.com/agent-trace/agent-trace/pkg/cli/classifycmd"
	"github.com/agent-trace/agent-trace/pkg/cli/extractcmd"
	"github.com/agent-trace/agent-trace/pkg/cli/hashcmd"
	"github.com/agent-trace/agent-trace/pkg/cli/tokenizecmd"
	"github.com/agent-trace/agent-trace/pkg/synth"
	"github.com/agent-trace/agent-trace/pkg/telemetry"
)

// trace-extract's two passes over telemetry (order first, then the calls
// read back a session at a time) give what parsing every line and sorting
// the calls in memory gives: same sessions, order, prompts and counts, from
// a file and from standard input, on generated research sessions whose
// agents interleave.
func TestTelemetryTwoPassEqualsInMemory(t *testing.T) {
	var buf bytes.Buffer
	if err := synth.WriteTelemetry(&buf, synth.TelemetryOptions{Sessions: 30, Workers: 3, Calls: 5, TurnBytes: 400, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	// The oracle: every line parsed, llm_calls sorted stably by
	// (session_id, timestamp).
	var events []*telemetry.Event
	for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		ev, err := telemetry.Parse(line)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Type == "llm_call" {
			events = append(events, ev)
		}
	}
	slices.SortStableFunc(events, func(a, b *telemetry.Event) int {
		if c := strings.Compare(a.SessionID, b.SessionID); c != 0 {
			return c
		}
		return strings.Compare(a.Timestamp, b.Timestamp)
	})
	var want []string
	for _, ev := range events {
		want = append(want, ev.SessionID+"|"+strconv.FormatInt(ev.CompletionTokens, 10)+"|"+chat.PromptText(ev.Messages))
	}

	path := filepath.Join(t.TempDir(), "telemetry.jsonl")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	fromFile := run(t, extractcmd.Run, "", "-q", path)
	fromStdin := run(t, extractcmd.Run, buf.String(), "-q")
	if fromFile != fromStdin {
		t.Fatal("records from the file and from stdin differ")
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(fromFile), "\n") {
		var r struct {
			Session  string         `json:"session_id"`
			Output   int64          `json:"output_length"`
			Messages []chat.Message `json:"messages"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		got = append(got, r.Session+"|"+strconv.FormatInt(r.Output, 10)+"|"+chat.PromptText(r.Messages))
	}
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("record %d:\n got %.200s\nwant %.200s", i, got[i], want[i])
		}
	}
}

// Within a session whose agents interleave, each call is encoded after
// the closest earlier prompt of the session (one of its last few), and the
// ids are those of a full encoding: whole and compact records, one and two
// workers.
func TestInterleavedAgentsReuseEqualsFull(t *testing.T) {
	var buf bytes.Buffer
	if err := synth.WriteTelemetry(&buf, synth.TelemetryOptions{Sessions: 12, Workers: 5, Calls: 6, TurnBytes: 500, Seed: 9}); err != nil {
		t.Fatal(err)
	}
	const tok = "meta-llama/Llama-3.3-70B-Instruct"
	whole := run(t, extractcmd.Run, buf.String(), "-q")
	compact := run(t, extractcmd.Run, buf.String(), "-q", "--compact")
	want := run(t, hashcmd.Run, run(t, tokenizecmd.Run, whole, "-q", "--full", "--tokenizer", tok), "-q")
	for _, c := range []struct {
		in   string
		args []string
	}{
		{whole, []string{"-j", "1"}}, {whole, []string{"-j", "2"}},
		{compact, []string{"-j", "1", "--compact"}}, {compact, []string{"-j", "2", "--compact"}},
	} {
		got := run(t, hashcmd.Run, run(t, tokenizecmd.Run, c.in, append([]string{"-q", "--tokenizer", tok}, c.args...)...), "-q")
		if got != want {
			t.Fatalf("%v: rows differ from a full encoding", c.args)
		}
	}
}

// Compact records that reach back (shared_back, shared_ids_back: sessions
// whose agents interleave) give what whole records give in every stage and
// mode: as trace-extract writes them, and as an independent writer does
// with random choices among the lines they could continue.
func TestCompactBackEqualsWhole(t *testing.T) {
	var buf bytes.Buffer
	if err := synth.WriteTelemetry(&buf, synth.TelemetryOptions{Sessions: 6, Workers: 5, Calls: 7, TurnBytes: 400, Seed: 4}); err != nil {
		t.Fatal(err)
	}
	const tok = "meta-llama/Llama-3.3-70B-Instruct"
	whole := run(t, extractcmd.Run, buf.String(), "-q")
	extracted := run(t, extractcmd.Run, buf.String(), "-q", "--compact")
	if !strings.Contains(extracted, `"shared_back":`) {
		t.Fatal("trace-extract --compact wrote no shared_back on interleaved agents")
	}
	random, backs := compactMessagesBack(t, whole, rand.New(rand.NewPCG(4, 4)))
	if backs == 0 {
		t.Fatal("the test's writer made no record that reaches back")
	}
	wholeIDs := run(t, tokenizecmd.Run, whole, "-q", "--tokenizer", tok)
	want, _ := expandIDs(t, wholeIDs)
	wantRows := run(t, hashcmd.Run, wholeIDs, "-q", "--block-size", "16")
	pipeline := func(in string, tokArgs []string, hashArgs ...string) string {
		classified := run(t, classifycmd.Run, in, "-q")
		return run(t, hashcmd.Run, run(t, tokenizecmd.Run, classified, append([]string{"-q", "--tokenizer", tok}, tokArgs...)...), append([]string{"-q", "--block-size", "16"}, hashArgs...)...)
	}
	for name, in := range map[string]string{"trace-extract": extracted, "random": random} {
		for _, jobs := range []string{"1", "2"} {
			got := run(t, tokenizecmd.Run, in, "-q", "-j", jobs, "--compact", "--tokenizer", tok)
			if !strings.Contains(got, `"shared_ids_back":`) {
				t.Fatalf("%s -j %s: trace-tokenize --compact wrote no shared_ids_back", name, jobs)
			}
			rows, _ := expandIDs(t, got)
			if len(rows) != len(want) {
				t.Fatalf("%s -j %s: %d rows, want %d", name, jobs, len(rows), len(want))
			}
			for i := range rows {
				if !reflect.DeepEqual(rows[i], want[i]) {
					t.Fatalf("%s -j %s: row %d differs:\n got %.300v\nwant %.300v", name, jobs, i+1, rows[i], want[i])
				}
			}
			if h := run(t, hashcmd.Run, got, "-q", "--block-size", "16"); h != wantRows {
				t.Fatalf("%s -j %s: trace-hash rows differ from whole records'", name, jobs)
			}
			// Compact records with their ids in arrays (another writer's,
			// or written before ids were packed) give the same rows.
			if h := run(t, hashcmd.Run, arrayIDs(t, got), "-q", "--block-size", "16"); h != wantRows {
				t.Fatalf("%s -j %s: trace-hash rows of array ids differ from whole records'", name, jobs)
			}
		}
		for _, c := range []struct {
			tok, hash []string
		}{
			{[]string{"--compact"}, nil},
			{[]string{"--rows", "delta"}, nil},
			{[]string{"--compact", "--messages", "synthetic"}, []string{"--emit", "messages"}},
			{[]string{"--compact", "--messages", "real"}, []string{"--emit", "messages"}},
		} {
			if got, want := pipeline(in, c.tok, c.hash...), pipeline(whole, c.tok, c.hash...); got != want {
				t.Fatalf("%s, trace-tokenize %v | trace-hash %v: other rows than whole records give", name, c.tok, c.hash)
			}
		}
	}
}
