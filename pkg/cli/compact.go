package cli

import (
	"bytes"
	"fmt"

	"agenttrace/pkg/record"
)

// Compact records (trace-extract --compact, trace-tokenize --compact) leave
// out what a record repeats of the line before it, which agent traces do at
// every call: a record with shared_messages: K has only the messages after
// the first K, which are those of the line before it; one with shared_ids: K
// has only the input_ids after the first K, likewise. The line before must
// be of the same session_id. Every stage reads compact records; they are
// meant for piping the stages straight into each other.

// CompactHelp explains --compact in the commands' help.
const CompactHelp = `--compact writes each record relative to the line before it: when that
line is of the same session, the messages (trace-tokenize: input_ids) the
record starts with that the line before also starts with are left out and
counted in shared_messages (shared_ids). Every trace-* stage reads such
records, as long as lines stay in order and none is dropped (compact
records are for piping stages into each other, not for filtering with jq).`

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
