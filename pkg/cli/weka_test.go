package cli_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/agent-trace/agent-trace/pkg/cli/classifycmd"
	"github.com/agent-trace/agent-trace/pkg/cli/extractcmd"
	"github.com/agent-trace/agent-trace/pkg/cli/hashcmd"
	"github.com/agent-trace/agent-trace/pkg/cli/tokenizecmd"
)

type wekaRequest struct {
	T         float64       `json:"t"`
	Type      string        `json:"type"`
	Model     string        `json:"model"`
	In        int           `json:"in"`
	Out       int           `json:"out"`
	HashIDs   []int64       `json:"hash_ids"`
	APITime   float64       `json:"api_time"`
	ThinkTime float64       `json:"think_time"`
	AgentID   string        `json:"agent_id"`
	Requests  []wekaRequest `json:"requests"`
}

type wekaTrace struct {
	ID        string        `json:"id"`
	BlockSize int           `json:"block_size"`
	Scope     string        `json:"hash_id_scope"`
	Requests  []wekaRequest `json:"requests"`
}

// extractedRow is a hash row with the fields a Weka request is made of.
type extractedRow struct {
	Session string  `json:"session_id"`
	Parent  string  `json:"parent_session"`
	Model   string  `json:"model"`
	In      int     `json:"input_length"`
	Out     int     `json:"output_length"`
	HashIDs []int64 `json:"hash_ids"`
	StartMs float64 `json:"start_ms"`
	EndMs   float64 `json:"end_ms"`
}

// Weka traces hold the rows of the same run, session by session: each
// request is the row of its call (tokens, hash ids, model, output of at
// least 1), at the time the call started from the session's first call,
// for the time it took; each thread but the session's first is a
// sub-agent whose requests are its rows, timed from its start. The
// folder written with --out-dir holds the same traces, one file each.
func TestWekaTraces(t *testing.T) {
	inputs := []string{"../../testdata/telemetry/sessions.jsonl", "../../testdata/telemetry/research.jsonl", "../../testdata/nat/multi.json"}
	var records string
	for _, in := range inputs {
		records += run(t, extractcmd.Run, "", "-q", "--threads", in)
	}
	records = run(t, classifycmd.Run, records, "-q")
	toks := run(t, tokenizecmd.Run, records, "-q", "--tokenizer", "meta-llama/Llama-3.3-70B-Instruct")
	var hashRows []extractedRow
	for _, line := range strings.Split(strings.TrimSpace(run(t, hashcmd.Run, toks, "-q", "--block-size", "16",
		"--keep", "model,start_ms,end_ms")), "\n") {
		var r extractedRow
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		hashRows = append(hashRows, r)
	}
	out := run(t, hashcmd.Run, toks, "-q", "--block-size", "16", "--emit", "weka")

	// The rows of each session, in order, and its threads.
	bySession := map[string][]extractedRow{}
	var order []string
	for _, r := range hashRows {
		s := r.Parent
		if s == "" {
			s = r.Session
		}
		if bySession[s] == nil {
			order = append(order, s)
		}
		bySession[s] = append(bySession[s], r)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(order) {
		t.Fatalf("%d traces for %d sessions", len(lines), len(order))
	}
	subagents := 0
	for i, line := range lines {
		var tr wekaTrace
		if err := json.Unmarshal([]byte(line), &tr); err != nil {
			t.Fatal(err)
		}
		rows := bySession[order[i]]
		if tr.ID != order[i] || tr.BlockSize != 16 || tr.Scope != "local" {
			t.Fatalf("trace %d: id %q block %d scope %q, want %q", i, tr.ID, tr.BlockSize, tr.Scope, order[i])
		}
		origin := math.Inf(1)
		threads := map[string]bool{}
		for _, r := range rows {
			origin = min(origin, r.StartMs)
			threads[r.Session] = true
		}
		// Every request is matched with its row, in the row's thread.
		got := map[string][]wekaRequest{} // per thread, with absolute t
		parentT := -1.0
		for _, r := range tr.Requests {
			if r.Type == "subagent" {
				if parentT < 0 {
					t.Fatalf("%s: sub-agent before the parent's first request", tr.ID)
				}
				subagents++
				for _, q := range r.Requests {
					q.T = math.Round((q.T+r.T)*1000) / 1000
					got[r.AgentID] = append(got[r.AgentID], q)
				}
				continue
			}
			parentT = r.T
			got[rows[0].Session] = append(got[rows[0].Session], r)
		}
		if len(got) != len(threads) {
			t.Fatalf("%s: %d agents for %d threads", tr.ID, len(got), len(threads))
		}
		next := map[string]int{}
		for _, row := range rows {
			reqs := got[row.Session]
			k := next[row.Session]
			next[row.Session]++
			if k >= len(reqs) {
				t.Fatalf("%s: thread %s has %d requests, fewer than its rows", tr.ID, row.Session, len(reqs))
			}
			q := reqs[k]
			wantT := math.Round(row.StartMs-origin) / 1000
			wantAPI := math.Round(row.EndMs-row.StartMs) / 1000
			if q.Type != "n" || q.In != row.In || q.Out != max(1, row.Out) || q.Model != row.Model ||
				!slices.Equal(q.HashIDs, row.HashIDs) || q.T != wantT || q.APITime != wantAPI {
				t.Fatalf("%s: thread %s request %d: %+v\nrow %+v (want t %v api %v)", tr.ID, row.Session, k, q, row, wantT, wantAPI)
			}
		}
	}
	if subagents == 0 {
		t.Fatal("no sub-agents: the inputs should have interleaved threads")
	}

	dir := filepath.Join(t.TempDir(), "traces")
	run(t, hashcmd.Run, toks, "-q", "--block-size", "16", "--emit", "weka", "--out-dir", dir)
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(lines) {
		t.Fatalf("%d files for %d traces", len(files), len(lines))
	}
	for _, line := range lines {
		var tr wekaTrace
		json.Unmarshal([]byte(line), &tr)
		b, err := os.ReadFile(filepath.Join(dir, strings.ReplaceAll(tr.ID, "/", "_")+".json"))
		if err != nil || string(b) != line+"\n" {
			t.Fatalf("file of %s: %v\n%.200s", tr.ID, err, b)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Fatalf("left beside the folder: %v", entries)
	}
}
