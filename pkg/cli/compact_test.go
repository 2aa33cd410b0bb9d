package cli_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/agent-trace/agent-trace/pkg/cli/classifycmd"
	"github.com/agent-trace/agent-trace/pkg/cli/hashcmd"
	"github.com/agent-trace/agent-trace/pkg/cli/tokenizecmd"
)

// compactMessages writes records as compact ones, independently of
// trace-extract: a record whose line before is of the same session leaves
// out the messages both start with and counts them in shared_messages
// (written last, after messages: readers must not depend on the order).
func compactMessages(t *testing.T, in string) (string, int) {
	t.Helper()
	var out strings.Builder
	var prevSession string
	var prev []json.RawMessage
	compacted := 0
	for _, line := range strings.Split(strings.TrimSpace(in), "\n") {
		var rec map[string]json.RawMessage
		var msgs []json.RawMessage
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(rec["messages"], &msgs); err != nil {
			t.Fatal(err)
		}
		n := 0
		if string(rec["session_id"]) == prevSession {
			for n < min(len(prev), len(msgs)) && bytes.Equal(prev[n], msgs[n]) {
				n++
			}
		}
		prevSession, prev = string(rec["session_id"]), msgs
		if n > 0 {
			compacted++
			rec["shared_messages"], _ = json.Marshal(n)
			rec["messages"], _ = json.Marshal(msgs[n:])
		}
		b, _ := json.Marshal(rec)
		out.Write(append(b, '\n'))
	}
	return out.String(), compacted
}

// expandIDs decodes trace-tokenize's output, giving compact rows (shared_ids)
// the ids of the line before them (or of the line shared_ids_back lines
// before) that they leave out, independently of trace-hash.
// unpackIDs decodes packed ids (a compact record's input_ids string) as
// the README says they are written: 3-byte big-endian integers in
// base64url without padding; as JSON numbers, as arrays decode.
func unpackIDs(t *testing.T, packed string) []any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(packed)
	if err != nil || len(b)%3 != 0 {
		t.Fatalf("packed ids %.40q: %v, %d bytes", packed, err, len(b))
	}
	ids := make([]any, 0, len(b)/3)
	for i := 0; i < len(b); i += 3 {
		ids = append(ids, float64(int(b[i])<<16|int(b[i+1])<<8|int(b[i+2])))
	}
	return ids
}

// arrayIDs rewrites the packed ids of out's records as arrays.
func arrayIDs(t *testing.T, out string) string {
	t.Helper()
	var b strings.Builder
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		packed, ok := rec["input_ids"].(string)
		if !ok {
			t.Fatalf("input_ids not packed: %.200s", line)
		}
		rec["input_ids"] = unpackIDs(t, packed)
		j, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

func expandIDs(t *testing.T, out string) (rows []map[string]any, compacted int) {
	t.Helper()
	var prevSession any
	var hist [][]any // the ids of the session's lines so far, the last last
	for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if rec["session_id"] != prevSession {
			hist = nil
		}
		ids, _ := rec["input_ids"].([]any)
		if packed, ok := rec["input_ids"].(string); ok {
			ids = unpackIDs(t, packed)
			rec["input_ids"] = ids
		}
		if n, ok := rec["shared_ids"].(float64); ok {
			back := 1
			if b, ok := rec["shared_ids_back"].(float64); ok {
				back = int(b)
			}
			if back > len(hist) || int(n) > len(hist[len(hist)-back]) || n < 1 {
				t.Fatalf("line %d: shared_ids %v, %d back, after %d lines of session %v", i+1, n, back, len(hist), prevSession)
			}
			ids = append(append([]any{}, hist[len(hist)-back][:int(n)]...), ids...)
			rec["input_ids"] = ids
			delete(rec, "shared_ids")
			delete(rec, "shared_ids_back")
			compacted++
		}
		prevSession = rec["session_id"]
		hist = append(hist, ids)
		rows = append(rows, rec)
	}
	return rows, compacted
}

// compactMessagesBack writes whole records as compact ones that may reach
// back (shared_back), independently of trace-extract: each record continues
// one of the last 8 lines of its session run that share first messages with
// it, chosen at random (readers must not assume the nearest or the best).
// It returns how many records reach back further than the line before.
func compactMessagesBack(t *testing.T, in string, rng *rand.Rand) (string, int) {
	t.Helper()
	var out strings.Builder
	var prevSession string
	var hist [][]json.RawMessage
	backs := 0
	for _, line := range strings.Split(strings.TrimSpace(in), "\n") {
		var rec map[string]json.RawMessage
		var msgs []json.RawMessage
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(rec["messages"], &msgs); err != nil {
			t.Fatal(err)
		}
		if string(rec["session_id"]) != prevSession {
			hist = nil
		}
		type choice struct{ back, n int }
		var choices []choice
		for back := 1; back <= min(8, len(hist)); back++ {
			prev := hist[len(hist)-back]
			n := 0
			for n < min(len(prev), len(msgs)) && bytes.Equal(prev[n], msgs[n]) {
				n++
			}
			if n > 0 {
				choices = append(choices, choice{back, n})
			}
		}
		prevSession = string(rec["session_id"])
		hist = append(hist, msgs)
		if len(choices) > 0 {
			c := choices[rng.IntN(len(choices))]
			rec["shared_messages"], _ = json.Marshal(c.n)
			if c.back > 1 {
				rec["shared_back"], _ = json.Marshal(c.back)
				backs++
			}
			rec["messages"], _ = json.Marshal(msgs[c.n:])
		}
		b, _ := json.Marshal(rec)
		out.Write(append(b, '\n'))
	}
	return out.String(), backs
}

// Compact records carry the same information as whole ones: every stage
// given compact input (and trace-tokenize writing compact output) gives
// what it gives on whole records, whatever the interleaving of sessions.
func TestCompactEqualsWhole(t *testing.T) {
	in := interleaved(rand.New(rand.NewPCG(21, 22)))
	comp, n := compactMessages(t, in)
	if n == 0 {
		t.Fatal("no record was made compact")
	}
	const tok = "meta-llama/Llama-3.3-70B-Instruct"
	for _, jobs := range []string{"1", "2"} {
		whole := run(t, tokenizecmd.Run, in, "-q", "-j", jobs, "--tokenizer", tok)
		want, _ := expandIDs(t, whole)
		for _, args := range [][]string{{}, {"--compact"}} {
			got := run(t, tokenizecmd.Run, comp, append([]string{"-q", "-j", jobs, "--tokenizer", tok}, args...)...)
			rows, compacted := expandIDs(t, got)
			if len(args) > 0 && compacted == 0 {
				t.Fatalf("-j %s %v: no row has shared_ids", jobs, args)
			}
			if len(rows) != len(want) {
				t.Fatalf("-j %s %v: %d rows, want %d", jobs, args, len(rows), len(want))
			}
			for i := range rows {
				if !reflect.DeepEqual(rows[i], want[i]) {
					t.Fatalf("-j %s %v: row %d differs:\n got %.300v\nwant %.300v", jobs, args, i+1, rows[i], want[i])
				}
			}
			// trace-hash on compact ids writes what it writes on whole ones.
			if h, w := run(t, hashcmd.Run, got, "-q", "--block-size", "16"), run(t, hashcmd.Run, whole, "-q", "--block-size", "16"); h != w {
				t.Fatalf("-j %s %v: trace-hash output differs", jobs, args)
			}
		}
	}
	// The other readers of messages: --rows delta, --keep-messages, and
	// trace-classify (which writes compact records as it reads them).
	for _, args := range [][]string{{"--rows", "delta"}, {"--keep-messages", "--compact"}} {
		a := run(t, hashcmd.Run, run(t, tokenizecmd.Run, comp, append([]string{"-q", "--tokenizer", tok}, args...)...), "-q", "--block-size", "8")
		b := run(t, hashcmd.Run, run(t, tokenizecmd.Run, in, append([]string{"-q", "--tokenizer", tok}, args...)...), "-q", "--block-size", "8")
		if a != b {
			t.Fatalf("%v: compact and whole input give different rows", args)
		}
	}
	got := decodeLines(t, run(t, classifycmd.Run, comp, "-q"))
	again, _ := compactMessages(t, run(t, classifycmd.Run, in, "-q"))
	if want := decodeLines(t, again); !reflect.DeepEqual(got, want) {
		t.Fatal("trace-classify: compact input gives other records than whole input")
	}
}

func decodeLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		out = append(out, rec)
	}
	return out
}

// trace-hash gives compact rows the hash ids of whole ones, for any count
// of shared ids up to the true common prefix, at several block sizes.
func TestHashCompactRows(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	var whole, comp strings.Builder
	var prev []int
	for row := range 400 {
		session := fmt.Sprintf("s%d", row/20)
		ids := slices.Clone(prev[:r.IntN(len(prev)+1)])
		if row%20 == 0 {
			ids = nil
		}
		for range r.IntN(60) {
			ids = append(ids, r.IntN(50))
		}
		common := 0
		for common < min(len(ids), len(prev)) && ids[common] == prev[common] {
			common++
		}
		shared := 0
		if row%20 != 0 {
			shared = r.IntN(common + 1)
		}
		line := func(shared int, ids []int) string {
			b, _ := json.Marshal(ids)
			extra := ""
			if shared > 0 {
				extra = fmt.Sprintf(`"shared_ids":%d,`, shared)
			}
			return fmt.Sprintf(`{"session_id":%q,"tokenizer":"t",%s"input_ids":%s}`+"\n", session, extra, b)
		}
		whole.WriteString(line(0, ids))
		comp.WriteString(line(shared, ids[shared:]))
		prev = ids
	}
	for _, b := range []string{"1", "3", "8", "64"} {
		if got, want := run(t, hashcmd.Run, comp.String(), "-q", "--block-size", b), run(t, hashcmd.Run, whole.String(), "-q", "--block-size", b); got != want {
			t.Fatalf("block size %s: compact rows hash differently", b)
		}
	}
}
