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
