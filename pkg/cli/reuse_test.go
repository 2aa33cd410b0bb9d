package cli_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/agent-trace/agent-trace/pkg/cli/hashcmd"
	"github.com/agent-trace/agent-trace/pkg/cli/tokenizecmd"
	"github.com/agent-trace/agent-trace/pkg/prefix"
)

// The reuse of the previous prompt (its text, tokens and the text of its
// ids) must never show: interleaved sessions, more of them than a worker
// remembers, calls that cut a conversation back or edit an earlier message
// all give what encoding every prompt from scratch gives.
func TestReuseEqualsFull(t *testing.T) {
	in := interleaved(rand.New(rand.NewPCG(11, 12)))
	const tok = "meta-llama/Llama-3.3-70B-Instruct"
	for _, jobs := range []string{"1", "2"} {
		reuse := run(t, tokenizecmd.Run, in, "-q", "-j", jobs, "--tokenizer", tok)
		full := run(t, tokenizecmd.Run, in, "-q", "-j", jobs, "--tokenizer", tok, "--full")
		if reuse != full {
			a, b := strings.Split(reuse, "\n"), strings.Split(full, "\n")
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("-j %s: line %d differs:\nreuse %.300s\nfull  %.300s", jobs, i+1, a[i], b[i])
				}
			}
		}
		// trace-hash reads ids reusing the previous row's: its hash ids
		// are those of the ids as encoding/json reads them.
		table := prefix.New(16, tok)
		hashed := strings.Split(strings.TrimSpace(run(t, hashcmd.Run, reuse, "-q", "--block-size", "16")), "\n")
		for i, line := range strings.Split(strings.TrimSpace(reuse), "\n") {
			var in struct {
				InputIDs []uint32 `json:"input_ids"`
			}
			var out struct {
				HashIDs []int64 `json:"hash_ids"`
			}
			if err := json.Unmarshal([]byte(line), &in); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(hashed[i]), &out); err != nil {
				t.Fatal(err)
			}
			want, err := table.HashIDs(in.InputIDs, -1, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(out.HashIDs, want) {
				t.Fatalf("row %d: hash ids %v, want %v", i+1, out.HashIDs, want)
			}
		}
	}
}

// workerMemory is how many sessions a trace-tokenize worker remembers
// (tokenizecmd's memoLimit; its --help says it).
const workerMemory = 8

// interleaved returns the records of more sessions than a tokenize worker
// remembers, interleaved at random, some of them editing an earlier message
// or cutting the conversation back.
func interleaved(rng *rand.Rand) string {
	var sessions [][]string
	for s := range 2*workerMemory + 5 {
		recs, _ := growingSession(rng, fmt.Sprintf("s%d", s), 1+rng.IntN(6))
		sessions = append(sessions, recs)
	}
	var in strings.Builder
	k := 0
	for len(sessions) > 0 {
		if k >= len(sessions) || rng.IntN(2) == 0 { // else the same session again
			k = rng.IntN(len(sessions))
		}
		rec := sessions[k][0]
		switch rng.IntN(8) {
		case 0: // edit an earlier message
			rec = strings.Replace(rec, "token", "tokens", 1)
		case 1: // cut the conversation back to its first message
			if i := strings.Index(rec, `},{"role"`); i > 0 {
				rec = rec[:i] + "}]}"
			}
		}
		in.WriteString(rec + "\n")
		if sessions[k] = sessions[k][1:]; len(sessions[k]) == 0 {
			sessions = append(sessions[:k], sessions[k+1:]...)
		}
	}
	return in.String()
}
