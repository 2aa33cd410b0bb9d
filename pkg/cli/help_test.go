package cli

import (
	"bytes"
	"strings"
	"syscall"
	"testing"
)

// closedPipe is stdout after the reader (head) has gone.
type closedPipe struct{}

func (closedPipe) Write([]byte) (int, error) { return 0, syscall.EPIPE }

// `trace-x --help | head -2`: the help cannot all be written, which is no
// error of anyone's.
func TestHelpIntoClosedPipe(t *testing.T) {
	for name, cmd := range map[string]Command{"extract": Extract, "classify": Classify, "tokenize": Tokenize, "hash": Hash} {
		var stderr bytes.Buffer
		if code := cmd([]string{"--help"}, Streams{strings.NewReader(""), closedPipe{}, &stderr}); code != ExitOK || stderr.Len() > 0 {
			t.Errorf("%s --help into a closed pipe: exit %d, stderr %q; want 0 and nothing", name, code, stderr.String())
		}
	}
}
