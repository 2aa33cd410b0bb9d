package tokenizecmd

import (
	"fmt"
	"strings"
	"testing"
)

// sessionKey finds the raw session_id with or without parsing the line.
func TestSessionKey(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{`{"session_id":"conv_1","messages":[]}`, `"conv_1"`},
		{`{"session_id":"a\"b","messages":[]}`, `"a\"b"`},
		{`{"session_id":"a\\","x":1}`, `"a\\"`},
		{`{"messages":[],"session_id":"late"}`, `"late"`},
		{`{"session_id": 7}`, `7`},
		{`{"messages":[]}`, ``},
		{`{"session_id":"broken`, ``},
		{`[1]`, ``},
	} {
		if got := string(sessionKey([]byte(tc.line))); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.line, got, tc.want)
		}
	}
}

// --help states how many sessions a worker remembers, and how many prompts
// of each (the tests of pkg/cli interleave more than twice as many).
func TestHelpStatesMemory(t *testing.T) {
	for _, want := range []string{
		fmt.Sprintf("those prompts of the %d sessions", memoLimit),
		fmt.Sprintf("the last %d prompts\nof its session", branchLimit),
	} {
		if !strings.Contains(tokenizeHelp, want) {
			t.Fatalf("help does not say %q", want)
		}
	}
}

// commonPrefix gives the first index where two id slices differ (or the
// shorter's length), wherever that falls against its 32-id steps.
func TestCommonPrefix(t *testing.T) {
	for n := range 100 {
		a := make([]int, n)
		for i := range a {
			a[i] = i * 7
		}
		for m := range n + 2 {
			b := append([]int{}, a[:min(m, n)]...)
			if m > n {
				b = append(b, 1) // longer than a
			}
			want := min(m, n)
			if got := commonPrefix(a, b); got != want {
				t.Fatalf("len %d, prefix of %d: got %d, want %d", n, m, got, want)
			}
			for d := range min(m, n) {
				c := append([]int{}, b...)
				c[d]++
				if got := commonPrefix(a, c); got != d {
					t.Fatalf("len %d, prefix of %d, differing at %d: got %d", n, m, d, got)
				}
			}
		}
	}
}
