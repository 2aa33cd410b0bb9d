package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/agent-trace/agent-trace/pkg/cli"
	"github.com/agent-trace/agent-trace/pkg/cli/classifycmd"
	"github.com/agent-trace/agent-trace/pkg/cli/extractcmd"
	"github.com/agent-trace/agent-trace/pkg/cli/hashcmd"
	"github.com/agent-trace/agent-trace/pkg/cli/tokenizecmd"
	"github.com/agent-trace/agent-trace/pkg/prefix"
)

// badCase is one entry of testdata/bad/cases.yaml.
type badCase struct {
	Name   string   `yaml:"name"`
	Cmd    string   `yaml:"cmd"`
	Args   []string `yaml:"args"`
	In     string   `yaml:"in"`
	Rules  string   `yaml:"rules"`
	Table  string   `yaml:"table"`
	Stdout string   `yaml:"stdout"`
	Exit   int      `yaml:"exit"`
	Stderr string   `yaml:"stderr"`
	Out    string   `yaml:"out"`
}

var commands = map[string]cli.Command{
	"trace-extract":  extractcmd.Run,
	"trace-classify": classifycmd.Run,
	"trace-tokenize": tokenizecmd.Run,
	"trace-hash":     hashcmd.Run,
}

// TestBadInputs runs the battery of bad inputs in testdata/bad: each gets
// its exit status and a message naming the input, never a panic, and a
// failed run leaves the prefix table as it was.
func TestBadInputs(t *testing.T) {
	data, err := os.ReadFile("../../testdata/bad/cases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cases []badCase
	if err := yaml.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 40 {
		t.Fatalf("%d cases, want at least 40", len(cases))
	}
	t.Setenv("HF_HUB_OFFLINE", "1")
	gen := t.TempDir()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			cmd := commands[c.Cmd]
			if cmd == nil {
				t.Fatalf("unknown command %q", c.Cmd)
			}
			dir := t.TempDir()
			in := filepath.Join("../../testdata/bad", c.In)
			if name, ok := strings.CutPrefix(c.In, "gen:"); ok {
				in = generated(t, gen, name)
			}
			table := filepath.Join(dir, "table.bin")
			var before []byte
			if c.Table != "" {
				before = makeTable(t, table, c.Table)
			}
			args := make([]string, len(c.Args))
			for i, a := range c.Args {
				switch a {
				case "IN":
					a = in
				case "TABLE":
					a = table
				case "RULES":
					a = filepath.Join("../../testdata/bad", c.Rules)
				}
				args[i] = a
			}
			var stdout, stderr bytes.Buffer
			s := cli.Streams{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr}
			if c.Stdout != "" {
				f, err := os.OpenFile(c.Stdout, os.O_WRONLY, 0)
				if err != nil {
					t.Skipf("%s: %v", c.Stdout, err)
				}
				defer f.Close()
				s.Stdout = f
			}
			code := cmd(args, s)
			msg := stderr.String()
			if code != c.Exit {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, c.Exit, msg)
			}
			if c.Stderr != "" && !regexp.MustCompile(c.Stderr).MatchString(msg) {
				t.Errorf("stderr does not match %q:\n%s", c.Stderr, msg)
			}
			if c.Out != "" && !regexp.MustCompile(c.Out).MatchString(stdout.String()) {
				t.Errorf("stdout does not match %q:\n%.400s", c.Out, stdout.String())
			}
			if strings.Contains(msg, "panic:") || strings.Contains(msg, "goroutine ") {
				t.Errorf("stack trace on stderr:\n%s", msg)
			}
			// A bad-data message names the input (or the table) it is about.
			if code == cli.ExitData && !strings.Contains(msg, filepath.Base(in)) && (c.Table == "" || !strings.Contains(msg, table)) {
				t.Errorf("the message names neither the input %s nor the table:\n%s", filepath.Base(in), msg)
			}
			if before != nil && code != 0 {
				after, _ := os.ReadFile(table)
				if !bytes.Equal(before, after) {
					t.Error("a failed run changed the prefix table")
				}
				if _, err := os.Stat(table + ".tmp"); err == nil {
					t.Error("a failed run left a temporary table file")
				}
			}
		})
	}
}

// makeTable writes a prefix table of the given kind at path and returns its
// bytes.
func makeTable(t *testing.T, path, kind string) []byte {
	t.Helper()
	tok := "t"
	if kind == "other-tokenizer" {
		tok = "other"
	}
	tab := prefix.New(4, tok)
	if _, err := tab.HashIDs([]uint32{1, 2, 3, 4, 5, 6, 7, 8, 9}, -1, nil); err != nil {
		t.Fatal(err)
	}
	if err := tab.Save(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	switch kind {
	case "empty":
		data = nil
	case "truncated":
		data = data[:len(data)-5]
	case "bitflip":
		data[len(data)/2] ^= 0x04
	case "foreign":
		data = []byte("session_id,input_length\ns,3\n")
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return data
}

// generated writes (once) the big inputs that are not committed.
func generated(t *testing.T, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); err == nil {
		return path
	}
	var b bytes.Buffer
	switch name {
	case "long-line": // one telemetry line of 100 MB
		b.WriteString(`{"event_type":"llm_call","session_id":"s","request_payload":{"messages":[{"role":"user","content":"`)
		b.Write(bytes.Repeat([]byte("agent trace "), 100<<20/12))
		b.WriteString(`"}]}}` + "\n")
	case "deep-nat": // JSON nested 100,000 deep inside a request
		b.WriteString(`[{"request_number":0,"intermediate_steps":[`)
		b.WriteString(strings.Repeat("[", 100000) + strings.Repeat("]", 100000))
		b.WriteString(`]}]`)
	case "deep-telemetry":
		b.WriteString(`{"event_type":"llm_call","session_id":"s","request_payload":{"messages":[`)
		b.WriteString(strings.Repeat("[", 100000) + strings.Repeat("]", 100000))
		b.WriteString("]}}\n")
	default:
		t.Fatalf("unknown generated input %q", name)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
