package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/agent-trace/agent-trace/pkg/cli"
	"github.com/agent-trace/agent-trace/pkg/cli/classifycmd"
	"github.com/agent-trace/agent-trace/pkg/cli/extractcmd"
	"github.com/agent-trace/agent-trace/pkg/cli/hashcmd"
	"github.com/agent-trace/agent-trace/pkg/cli/tokenizecmd"
	"github.com/agent-trace/agent-trace/pkg/synth"
)

// TestMain makes the commands available to the scripts as executables, so
// scripts can also run them in shell pipelines (exec sh -c '... | head').
func TestMain(m *testing.M) {
	// The tests never write the user's tokenizer cache.
	if os.Getenv("AGENTTRACE_CACHE_DIR") == "" {
		os.Setenv("AGENTTRACE_CACHE_DIR", "off")
	}
	testscript.Main(m, map[string]func(){
		"trace-extract":  func() { cli.Main(extractcmd.Run) },
		"trace-tokenize": func() { cli.MainParallel(tokenizecmd.Run) },
		"trace-hash":     func() { cli.Main(hashcmd.Run) },
		"trace-classify": func() { cli.Main(classifycmd.Run) },
		// gen-nat REQUESTS CALLS TURN_BYTES writes a synthetic NAT trace to stdout.
		"gen-nat": func() {
			n := func(i int) int { v, _ := strconv.Atoi(os.Args[i]); return v }
			if err := synth.Write(os.Stdout, synth.Options{Requests: n(1), CallsPerReq: n(2), TurnBytes: n(3), Seed: 1}); err != nil {
				os.Exit(3)
			}
		},
	})
}

// TestScripts runs the end-to-end scripts in testdata/script. $TESTDATA is
// the repository's testdata folder, $SCRIPTS its scripts folder.
func TestScripts(t *testing.T) {
	// The scripts run pipelines with bash and check them with jq: without
	// one a check could pass that should not (README: Tests).
	for _, tool := range []string{"bash", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the end-to-end tests need %s on PATH (Debian: apt-get install %s)", tool, tool)
		}
	}
	td, err := filepath.Abs("../../testdata")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join(td, "script"),
		RequireExplicitExec: true,
		UpdateScripts:       os.Getenv("UPDATE_SCRIPTS") == "1", // rewrite cmp files from the output (review the diff)
		Setup: func(e *testscript.Env) error {
			e.Setenv("TESTDATA", td)
			e.Setenv("SCRIPTS", filepath.Join(td, "..", "scripts"))
			// Never touch the user's Hugging Face cache or the network.
			e.Setenv("HF_HUB_CACHE", filepath.Join(e.WorkDir, ".hf-cache"))
			e.Setenv("HF_HUB_OFFLINE", "1")
			e.Setenv("AGENTTRACE_CACHE_DIR", filepath.Join(e.WorkDir, ".agent-trace-cache"))
			return nil
		},
	})
}
