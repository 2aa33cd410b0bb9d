package cli_test

import (
	"bytes"
	"strings"
	"syscall"
	"testing"

	"github.com/agent-trace/agent-trace/pkg/cli"
	"github.com/agent-trace/agent-trace/pkg/cli/classifycmd"
	"github.com/agent-trace/agent-trace/pkg/cli/extractcmd"
	"github.com/agent-trace/agent-trace/pkg/cli/hashcmd"
	"github.com/agent-trace/agent-trace/pkg/cli/tokenizecmd"
)

// closedPipe is stdout after the reader (head) has gone.
type closedPipe struct{}

func (closedPipe) Write([]byte) (int, error) { return 0, syscall.EPIPE }

// `trace-x --help | head -2`: the help cannot all be written, which is no
// error of anyone's.
func TestHelpIntoClosedPipe(t *testing.T) {
	for name, cmd := range map[string]cli.Command{"extract": extractcmd.Run, "classify": classifycmd.Run, "tokenize": tokenizecmd.Run, "hash": hashcmd.Run} {
		var stderr bytes.Buffer
		if code := cmd([]string{"--help"}, cli.Streams{strings.NewReader(""), closedPipe{}, &stderr}); code != cli.ExitOK || stderr.Len() > 0 {
			t.Errorf("%s --help into a closed pipe: exit %d, stderr %q; want 0 and nothing", name, code, stderr.String())
		}
	}
}
