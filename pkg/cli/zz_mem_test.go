package cli_test

import (
	"bytes"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"agenttrace/pkg/cli"
	"agenttrace/pkg/cli/tokenizecmd"
)

func TestZZMem(t *testing.T) {
	in, err := os.Open("/tmp/long1.jsonl")
	if err != nil {
		t.Skip()
	}
	go func() {
		time.Sleep(1500 * time.Millisecond)
		runtime.GC()
		f, _ := os.Create("/tmp/heap.prof")
		pprof.WriteHeapProfile(f)
		f.Close()
	}()
	var errb bytes.Buffer
	tokenizecmd.Run([]string{"-q", "-j", "1"}, cli.Streams{in, io.Discard, &errb})
}
