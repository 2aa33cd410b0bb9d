package cli_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/agent-trace/agent-trace/pkg/chat"
	"github.com/agent-trace/agent-trace/pkg/cli"
	"github.com/agent-trace/agent-trace/pkg/cli/hashcmd"
	"github.com/agent-trace/agent-trace/pkg/cli/tokenizecmd"
)

// run runs a command in-process on stdin and returns its stdout.
func run(t *testing.T, cmd cli.Command, stdin string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := cmd(args, cli.Streams{strings.NewReader(stdin), &out, &errb}); code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, errb.String())
	}
	return out.String()
}

type row struct {
	Session     string  `json:"session_id"`
	InputLength int     `json:"input_length"`
	FullLength  int     `json:"full_length"`
	Continues   bool    `json:"continues"`
	HashIDs     []int64 `json:"hash_ids"`
}

func rows(t *testing.T, jsonl string) []row {
	t.Helper()
	var out []row
	for _, line := range strings.Split(strings.TrimSpace(jsonl), "\n") {
		var r row
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		out = append(out, r)
	}
	return out
}

// growingSession returns extract-style records of one agent conversation:
// each call repeats the previous one's messages, the assistant's response,
// and adds new messages (tool results, user turns).
func growingSession(rng *rand.Rand, id string, calls int) (recs []string, responses []string) {
	word := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteString([]string{"cache ", "token ", "é ", "東京 ", "42 ", "\n", "agent ", "end. ", "f(x) "}[rng.IntN(9)])
		}
		return b.String()
	}
	msgs := []chat.Message{{Role: "system", Content: ptr(word(30))}, {Role: "user", Content: ptr(word(10))}}
	for c := 0; c < calls; c++ {
		if c > 0 {
			resp := word(1 + rng.IntN(20))
			responses = append(responses, resp)
			answer := chat.Message{Role: "assistant", Content: ptr(resp)}
			if rng.IntN(2) == 0 { // a call of a tool, answered by tool messages
				answer.ToolCalls = []chat.ToolCall{{ID: fmt.Sprintf("call_%d", c), Name: "search",
					Arguments: fmt.Sprintf(`{"q": %q}`, word(rng.IntN(30)))}}
			}
			msgs = append(msgs, answer)
			for k := rng.IntN(3); k >= 0; k-- {
				m := chat.Message{Role: []string{"tool", "user"}[rng.IntN(2)], Content: ptr(word(rng.IntN(15)))}
				if m.Role == "tool" && answer.ToolCalls != nil {
					m.ToolCallID = answer.ToolCalls[0].ID
				}
				msgs = append(msgs, m)
			}
		}
		recs = append(recs, fmt.Sprintf(`{"session_id":%q,"model":"m","output_length":1,"source":"nat","messages":%s}`,
			id, chat.AppendJSON(nil, msgs)))
	}
	return recs, responses
}

func ptr(s string) *string { return &s }

// With a byte tokenizer token counts add up across joins, so delta rows
// re-accumulated must give the cumulative counts minus the responses (and
// the "\n" joins); and every row must satisfy aiperf's block condition.
func TestDeltaRowsReaccumulate(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	var all []string
	resp := map[string][]string{}
	for s := 0; s < 8; s++ {
		id := fmt.Sprintf("s%d", s)
		recs, r := growingSession(rng, id, 2+rng.IntN(8))
		all = append(all, recs...)
		resp[id] = r
	}
	in := strings.Join(all, "\n") + "\n"
	const bs = 4
	delta := rows(t, run(t, tokenizecmd.Run, in, "-q", "--tokenizer", "../../testdata/tokenizers/bytes", "--rows", "delta"))
	cumul := rows(t, run(t, tokenizecmd.Run, in, "-q", "--tokenizer", "../../testdata/tokenizers/bytes"))
	if len(delta) != len(cumul) {
		t.Fatalf("%d delta rows, %d cumulative", len(delta), len(cumul))
	}
	k := map[string]int{}
	for i := range delta {
		d, c := delta[i], cumul[i]
		n := k[d.Session]
		k[d.Session]++
		if n == 0 {
			if d.Continues || d.InputLength != c.InputLength {
				t.Fatalf("row %d: a session's first row must be whole: %+v vs %+v", i, d, c)
			}
			continue
		}
		if !d.Continues || d.FullLength != c.InputLength {
			t.Fatalf("row %d: %+v, want a delta row of a %d-token prompt", i, d, c.InputLength)
		}
		// previous prompt + "\n" + response + "\n" + new messages
		want := cumul[i].InputLength - cumul[i-1].InputLength - 1 - len(resp[d.Session][n-1]) - 1
		if d.InputLength != want {
			t.Fatalf("row %d: %d delta tokens, want %d", i, d.InputLength, want)
		}
	}
	hashed := rows(t, run(t, hashcmd.Run, run(t, tokenizecmd.Run, in, "-q", "--tokenizer", "../../testdata/tokenizers/bytes", "--rows", "delta"), "-q", "--block-size", fmt.Sprint(bs)))
	for i, r := range hashed {
		if len(r.HashIDs) != (r.InputLength+bs-1)/bs {
			t.Fatalf("row %d: %d hash ids for %d tokens", i, len(r.HashIDs), r.InputLength)
		}
	}
}

// A call that does not extend its session's previous call (another agent,
// a retry) gets its whole prompt, chained from the root.
func TestDeltaFallsBackToWholePrompt(t *testing.T) {
	in := `{"session_id":"s","messages":[{"role":"system","content":"A"},{"role":"user","content":"x"}]}
{"session_id":"s","messages":[{"role":"system","content":"B"},{"role":"user","content":"y"}]}
{"session_id":"s","messages":[{"role":"system","content":"B"},{"role":"user","content":"y"},{"role":"assistant","content":"r"},{"role":"user","content":"z"}]}
`
	got := rows(t, run(t, tokenizecmd.Run, in, "-q", "--tokenizer", "../../testdata/tokenizers/bytes", "--rows", "delta"))
	if got[1].Continues || got[1].InputLength != 3 || !got[2].Continues || got[2].InputLength != 1 || got[2].FullLength != 7 {
		t.Fatalf("got %+v", got)
	}
}

// Whether a row continues its session does not depend on the workers: a
// worker forgets sessions' prompts (more sessions than it remembers
// interleave here), never whether a call extends the session's last one.
func TestDeltaRowsIndependentOfWorkers(t *testing.T) {
	in := interleaved(rand.New(rand.NewPCG(21, 22)))
	const tok = "meta-llama/Llama-3.3-70B-Instruct"
	one := run(t, tokenizecmd.Run, in, "-q", "-j", "1", "--rows", "delta", "--tokenizer", tok)
	if !strings.Contains(one, `"continues":true`) {
		t.Fatal("no delta row")
	}
	for range 5 {
		if two := run(t, tokenizecmd.Run, in, "-q", "-j", "2", "--rows", "delta", "--tokenizer", tok); two != one {
			t.Fatal("-j 2 gives other delta rows than -j 1")
		}
	}
}
