package cli_test

import (
	"bufio"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/agent-trace/agent-trace/pkg/cli"
	"github.com/agent-trace/agent-trace/pkg/cli/tokenizecmd"
)

// trace-tokenize --tokenizer auto streams: once a record names a model it
// knows, records come out while the input is still open (it once held the
// whole input of a session of fewer than 5 requests in memory).
func TestAutoTokenizerStreams(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- tokenizecmd.Run([]string{"-q"}, cli.Streams{Stdin: inR, Stdout: outW, Stderr: io.Discard})
		outW.Close()
	}()
	rec := `{"session_id":"s","model":"meta/llama-3.3-70b-instruct","output_length":1,"messages":[{"role":"user","content":"hello"}]}` + "\n"
	go func() {
		for range 5000 { // more than the output buffer holds
			inW.Write([]byte(rec))
		}
		// The input stays open until the test has read a record.
	}()
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(outR).ReadString('\n')
		line <- s
	}()
	select {
	case s := <-line:
		if !strings.Contains(s, `"input_ids":`) {
			t.Fatalf("record %q", s)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no record came out while the input was open")
	}
	inW.Close()
	go io.Copy(io.Discard, outR)
	if code := <-done; code != 0 {
		t.Fatalf("exit %d", code)
	}
}
