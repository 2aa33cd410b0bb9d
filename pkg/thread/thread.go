// Package thread splits the LLM calls of one session into conversation
// threads. A session of an agent workload often holds several agents (a
// coordinator, planners, workers) whose conversations interleave; each
// thread is one agent's growing conversation.
//
// A call continues a thread when its messages start with that thread's
// last call's messages (the last call's response may follow them as an
// assistant message, and new messages after it); otherwise it starts a new
// thread. When several threads fit, the one whose last call had the most
// messages wins, and among those the most recent.
package thread

import "github.com/agent-trace/agent-trace/pkg/chat"

// Splitter assigns the calls of one session to threads, in call order.
type Splitter struct {
	last []lastCall // per thread, its last call
	n    int        // calls seen
}

type lastCall struct {
	msgs []chat.Message
	seq  int
}

// Add assigns a call to a thread and returns the thread's number, from 0 in
// order of each thread's first call, and whether the call continues the
// thread (false for a thread's first call).
func (s *Splitter) Add(msgs []chat.Message) (n int, continues bool) {
	best := -1
	for i, t := range s.last {
		if !isPrefix(t.msgs, msgs) {
			continue
		}
		if best < 0 || len(t.msgs) > len(s.last[best].msgs) ||
			len(t.msgs) == len(s.last[best].msgs) && t.seq > s.last[best].seq {
			best = i
		}
	}
	s.n++
	if best < 0 {
		s.last = append(s.last, lastCall{msgs, s.n})
		return len(s.last) - 1, false
	}
	s.last[best] = lastCall{msgs, s.n}
	return best, true
}

// Threads returns the number of threads so far.
func (s *Splitter) Threads() int { return len(s.last) }

// isPrefix reports whether a is a prefix of b (equal messages).
// An empty a is a prefix of nothing: a call without messages starts a thread.
func isPrefix(a, b []chat.Message) bool {
	if len(a) == 0 || len(a) > len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}
