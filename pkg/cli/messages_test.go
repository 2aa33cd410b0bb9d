package cli_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/agent-trace/agent-trace/pkg/cli/hashcmd"
	"github.com/agent-trace/agent-trace/pkg/cli/tokenizecmd"
	"github.com/agent-trace/agent-trace/pkg/tokenize/resolve"
)

type message struct {
	Role      string  `json:"role"`
	Content   *string `json:"content"`
	ToolCalls []struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		Function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	} `json:"tool_calls"`
	ToolCallID string `json:"tool_call_id"`
}

// messageRows decodes rows of trace-hash --emit messages (and records of
// trace-extract), checking each has the fields of its kind.
func messageRows(t *testing.T, s string, isRow bool) (sessions []string, msgs [][]message) {
	t.Helper()
	for i, line := range strings.Split(strings.TrimSpace(s), "\n") {
		var rec map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if isRow {
			for _, bad := range []string{"input_length", "hash_ids", "input_ids", "shared_messages", "tokenizer"} {
				if _, ok := rec[bad]; ok {
					t.Fatalf("row %d has %s: %s", i+1, bad, line)
				}
			}
			var out int
			if err := json.Unmarshal(rec["output_length"], &out); err != nil || out < 1 {
				t.Fatalf("row %d: output_length %s", i+1, rec["output_length"])
			}
		}
		var sid string
		var m []message
		if err := json.Unmarshal(rec["session_id"], &sid); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(rec["messages"], &m); err != nil || len(m) == 0 {
			t.Fatalf("row %d: messages %.100s: %v", i+1, rec["messages"], err)
		}
		sessions, msgs = append(sessions, sid), append(msgs, m)
	}
	return sessions, msgs
}

// Message rows with synthetic text are the recorded prompts, message by
// message, in tokens: each stand-in encodes to the recorded content's
// token count, roles and order are kept, two rows share stand-in messages
// exactly as far as they share recorded ones, no recorded word is left,
// and compact input, -j and a second run change nothing.
func TestSyntheticMessageRows(t *testing.T) {
	const secret = "Zorblaxian"
	in := strings.ReplaceAll(interleaved(rand.New(rand.NewPCG(31, 32))), "token", secret)
	comp, n := compactMessages(t, in)
	if n == 0 {
		t.Fatal("no record was made compact")
	}
	const tokName = "meta-llama/Llama-3.3-70B-Instruct"
	tok, _, err := resolve.Resolve(context.Background(), tokName, resolve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	enc := tok.NewEncoder()
	count := func(c *string) int {
		if c == nil {
			return -1
		}
		return len(enc.Encode(*c))
	}

	convert := func(input string, tokArgs ...string) string {
		recs := run(t, tokenizecmd.Run, input, append([]string{"-q", "--tokenizer", tokName, "--messages", "synthetic"}, tokArgs...)...)
		return run(t, hashcmd.Run, recs, "-q", "--emit", "messages")
	}
	want := convert(in, "-j", "1")
	if strings.Contains(want, secret) {
		t.Fatal("a recorded word is in the output")
	}
	for _, c := range []struct {
		in   string
		args []string
	}{{in, []string{"-j", "2"}}, {comp, []string{"-j", "1"}}, {comp, []string{"-j", "2", "--compact"}}, {in, []string{"--full"}}} {
		if got := convert(c.in, c.args...); got != want {
			t.Fatalf("%v (compact input %v): other rows than whole input with -j 1", c.args, c.in == comp)
		}
	}

	toolCalls := 0
	recSessions, recorded := messageRows(t, in, false)
	sessions, rows := messageRows(t, want, true)
	if !reflect.DeepEqual(sessions, recSessions) {
		t.Fatal("sessions or their order differ")
	}
	for i := range rows {
		if len(rows[i]) != len(recorded[i]) {
			t.Fatalf("row %d: %d messages, recorded %d", i+1, len(rows[i]), len(recorded[i]))
		}
		for j, m := range rows[i] {
			r := recorded[i][j]
			if m.Role != r.Role || count(m.Content) != count(r.Content) {
				t.Fatalf("row %d message %d: %s with %d tokens, recorded %s with %d", i+1, j, m.Role, count(m.Content), r.Role, count(r.Content))
			}
			// Tool calls keep their ids and names; their arguments are
			// JSON objects of as many tokens (when longer than the object
			// around the stand-in words, 6 tokens here), else {}.
			if m.ToolCallID != r.ToolCallID || len(m.ToolCalls) != len(r.ToolCalls) {
				t.Fatalf("row %d message %d: tool calls %+v, recorded %+v", i+1, j, m, r)
			}
			for k, c := range m.ToolCalls {
				rc := r.ToolCalls[k]
				var obj map[string]any
				got, want := count(&c.Function.Arguments), count(&rc.Function.Arguments)
				if c.ID != rc.ID || c.Type != "function" || c.Function.Name != rc.Function.Name ||
					json.Unmarshal([]byte(c.Function.Arguments), &obj) != nil || (got != want && c.Function.Arguments != "{}") {
					t.Fatalf("row %d message %d call %d: %+v (%d tokens), recorded %+v (%d tokens)", i+1, j, k, c, got, rc, want)
				}
				if got == want {
					toolCalls++
				}
				if strings.Contains(c.Function.Arguments, secret) {
					t.Fatal("recorded arguments in the output")
				}
			}
		}
	}
	// Shared prefixes, over every pair of rows (of any sessions): the
	// messages two recorded prompts start with in common have equal
	// stand-ins, and the first recorded message that differs (with
	// content of at least 4 tokens) has another stand-in.
	pairs, differing, later := 0, 0, 0
	for a := range rows {
		for b := a + 1; b < len(rows); b++ {
			k := 0
			for k < min(len(rows[a]), len(rows[b])) && reflect.DeepEqual(recorded[a][k], recorded[b][k]) {
				if !reflect.DeepEqual(rows[a][k], rows[b][k]) {
					t.Fatalf("rows %d and %d: recorded message %d equal, stand-ins differ", a+1, b+1, k)
				}
				k++
			}
			pairs++
			if k < min(len(rows[a]), len(rows[b])) && count(recorded[a][k].Content) >= 4 && count(recorded[b][k].Content) >= 4 {
				differing++
				if reflect.DeepEqual(rows[a][k], rows[b][k]) {
					t.Fatalf("rows %d and %d: recorded message %d differs, stand-ins are equal", a+1, b+1, k)
				}
			}
			// After it, equal recorded messages follow different prefixes,
			// so their stand-ins differ too.
			for j := k + 1; j < min(len(rows[a]), len(rows[b])); j++ {
				if reflect.DeepEqual(recorded[a][j], recorded[b][j]) && count(recorded[a][j].Content) >= 4 {
					later++
					if reflect.DeepEqual(rows[a][j], rows[b][j]) {
						t.Fatalf("rows %d and %d: message %d after differing ones has the same stand-in", a+1, b+1, j)
					}
				}
			}
		}
	}
	if differing == 0 || pairs == differing || later == 0 || toolCalls == 0 {
		t.Fatalf("the input does not test every case: %d pairs, %d differing, %d equal after differing, %d tool calls", pairs, differing, later, toolCalls)
	}

	// --messages real keeps the recorded messages, whole.
	real := run(t, hashcmd.Run, run(t, tokenizecmd.Run, comp, "-q", "--compact", "--tokenizer", tokName, "--messages", "real"), "-q", "--emit", "messages")
	if _, got := messageRows(t, real, true); !reflect.DeepEqual(got, recorded) {
		t.Fatal("--messages real: the rows' messages are not the recorded ones")
	}
}
