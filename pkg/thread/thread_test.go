package thread

import (
	"testing"

	"github.com/agent-trace/agent-trace/pkg/chat"
)

func msgs(pairs ...string) []chat.Message {
	var out []chat.Message
	for i := 0; i+1 < len(pairs); i += 2 {
		c := pairs[i+1]
		out = append(out, chat.Message{Role: pairs[i], Content: &c})
	}
	return out
}

func TestInterleavedAgents(t *testing.T) {
	var s Splitter
	for i, tc := range []struct {
		m         []chat.Message
		n         int
		continues bool
	}{
		{msgs("system", "C", "user", "q"), 0, false},
		{msgs("system", "W", "user", "a"), 1, false},
		{msgs("system", "C", "user", "q", "assistant", "plan", "tool", "r"), 0, true},
		{msgs("system", "W", "user", "b"), 2, false}, // same system, other task: a new worker
		{msgs("system", "W", "user", "a", "assistant", "x"), 1, true},
		{msgs("system", "C", "user", "q"), 3, false}, // a retry of the first call: not a continuation of 0's longer history
		{msgs("system", "C", "user", "q", "assistant", "plan", "tool", "r", "user", "go"), 0, true},
		{nil, 4, false},
	} {
		n, cont := s.Add(tc.m)
		if n != tc.n || cont != tc.continues {
			t.Errorf("call %d: thread %d continues=%v, want %d %v", i, n, cont, tc.n, tc.continues)
		}
	}
	if s.Threads() != 5 {
		t.Errorf("%d threads", s.Threads())
	}
}

// When two threads fit, the one with the longer last call wins.
func TestMostSpecificThread(t *testing.T) {
	var s Splitter
	s.Add(msgs("system", "S"))
	s.Add(msgs("system", "S", "user", "u")) // continues 0
	s.Add(msgs("system", "T"))
	n, _ := s.Add(msgs("system", "S", "user", "u", "assistant", "a"))
	if n != 0 {
		t.Errorf("thread %d, want 0", n)
	}
}
