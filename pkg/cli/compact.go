package cli

import (
	"bytes"
	"fmt"

	"github.com/agent-trace/agent-trace/pkg/record"
)

// Compact records (trace-extract --compact, trace-tokenize --compact) leave
// out what a record repeats of an earlier line, which agent traces do at
// every call: a record with shared_messages: K has only the messages after
// the first K, which are those of the line before it; one with shared_ids: K
// has only the input_ids after the first K, likewise. With shared_back: B
// (2 to CompactWindow) the shared messages are those of the line B lines
// before instead: sessions that interleave agents continue each agent's
// conversation a few lines further back. The lines back to it must be of
// the same session_id. shared_ids_back does the same for shared_ids.
// Every stage reads compact records; they are meant for piping the stages
// straight into each other.

// CompactWindow is how many lines back a compact record may refer to: more
// than the agents a session of a research pipeline interleaves.
const CompactWindow = 8

// CompactHelp explains --compact in the commands' help.
const CompactHelp = `--compact writes each record relative to an earlier line of its session:
the messages (trace-tokenize: input_ids) the record starts with that that
line also starts with are left out and counted in shared_messages
(shared_ids). That line is the line before, or, when the session
interleaves agents, the line of the conversation the record continues, up
to 8 lines back: shared_back (shared_ids_back) says how many. Every trace-*
stage reads such records, as long as lines stay in order and none is
dropped (compact records are for piping stages into each other, not for
filtering with jq).`

// SharedCount returns the shared_messages or shared_ids count of a record:
// 0 when absent.
func SharedCount(rec *record.Record, key string) (int, error) {
	n, ok, err := rec.Int(key)
	switch {
	case err != nil:
		return 0, err
	case ok && n < 0:
		return 0, fmt.Errorf("field %q: want a count, got %d", key, n)
	}
	return int(n), nil
}

// SharedBack returns the shared_back (key) of a record: how many lines
// back the line is that its shared_messages count from (1 when absent).
// With key shared_ids_back, likewise for shared_ids.
func SharedBack(rec *record.Record, key string) (int, error) {
	n, ok, err := rec.Int(key)
	switch {
	case err != nil:
		return 0, err
	case !ok:
		return 1, nil
	case n < 1 || n > CompactWindow:
		return 0, fmt.Errorf("field %q: want 1 to %d lines back, got %d", key, CompactWindow, n)
	}
	return int(n), nil
}

// CompactBackError explains a compact record whose shared_back line is not
// remembered: fewer lines of its session came before it.
func CompactBackError(key string, back, lines int) error {
	return fmt.Errorf("%s: %d, but only %d lines of the same session come just before: compact records (--compact) must be read in the order they were written, with no line dropped", key, back, lines)
}

// CompactError explains a compact record that does not follow the line it
// was written after: its count n of key (shared_messages or shared_ids) is
// more than the prev of the line before, or that line is of another
// session.
func CompactError(key string, n, prev int, sameSession bool) error {
	if !sameSession {
		return fmt.Errorf("%s: %d, but the line before is not of the same session: compact records (--compact) must be read in the order they were written, with no line dropped", key, n)
	}
	return fmt.Errorf("%s: %d, but the line before has %d: compact records (--compact) must be read in the order they were written, with no line dropped", key, n, prev)
}

// CompactErrorBack is CompactError for a record that continues the line
// back lines before it (shared_back, shared_ids_back), of its session.
func CompactErrorBack(key string, n, back, prev int) error {
	if back <= 1 {
		return CompactError(key, n, prev, true)
	}
	return fmt.Errorf("%s: %d, but the line %d before has %d: compact records (--compact) must be read in the order they were written, with no line dropped", key, n, back, prev)
}

// SessionTracker remembers the session_id of the line before. The zero
// value is ready to use.
type SessionTracker struct {
	prev []byte
	have bool
}

// Next records the raw session_id of the current line and reports whether
// the line before had the same one.
func (t *SessionTracker) Next(sid []byte) bool {
	same := t.have && sid != nil && bytes.Equal(sid, t.prev)
	t.prev, t.have = append(t.prev[:0], sid...), sid != nil
	return same
}

// Recent remembers a stage's state for the last lines of the current
// session, for compact records that refer back to them (shared_back). The
// zero value is ready to use.
type Recent[T any] struct {
	slots [CompactWindow + 1]T
	at    int // the current line's slot
	n     int // earlier lines remembered
}

// Next moves on to a new line, forgetting the lines before it unless same
// says it is of their session, and returns the new line's slot to fill. The
// slot holds what a line CompactWindow+1 lines back left (its storage to
// reuse), never one that Back can return.
func (r *Recent[T]) Next(same bool) *T {
	switch {
	case !same:
		r.n = 0
	case r.n < CompactWindow:
		r.n++
	}
	r.at = (r.at + 1) % len(r.slots)
	return &r.slots[r.at]
}

// Back returns the slot of the line k lines before the current one (1: the
// line before), and whether that line is of the current session.
func (r *Recent[T]) Back(k int) (*T, bool) {
	if k < 1 || k > r.n {
		return nil, false
	}
	return &r.slots[(r.at-k+len(r.slots))%len(r.slots)], true
}

// Lines returns how many lines of the current session before the current
// one are remembered.
func (r *Recent[T]) Lines() int { return r.n }
