package cli_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/agent-trace/agent-trace/pkg/cli/classifycmd"
	"github.com/agent-trace/agent-trace/pkg/cli/extractcmd"
	"github.com/agent-trace/agent-trace/pkg/cli/hashcmd"
	"github.com/agent-trace/agent-trace/pkg/cli/tokenizecmd"
)

// gz and zst compress b.
func gz(t *testing.T, b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func zst(t *testing.T, b []byte) []byte {
	w, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	return w.EncodeAll(b, nil)
}

// gzip and zstd input, as files and on stdin, of both trace formats and of
// records, gives what the uncompressed input gives, in every command.
func TestCompressedInput(t *testing.T) {
	dir := t.TempDir()
	for _, trace := range []string{"../../testdata/nat/multi.json", "../../testdata/telemetry/sessions.jsonl"} {
		plain, err := os.ReadFile(trace)
		if err != nil {
			t.Fatal(err)
		}
		want := run(t, extractcmd.Run, "", "-q", trace)
		for name, comp := range map[string]func(*testing.T, []byte) []byte{"gz": gz, "zst": zst} {
			data := comp(t, plain)
			path := filepath.Join(dir, filepath.Base(trace)+"."+name)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			if got := run(t, extractcmd.Run, "", "-q", path); got != want {
				t.Errorf("%s file: records differ", path)
			}
			if got := run(t, extractcmd.Run, string(data), "-q"); got != want {
				t.Errorf("%s on stdin: records differ", path)
			}
			// Records compressed, for the record readers.
			recs := comp(t, []byte(want))
			if got, w := run(t, classifycmd.Run, string(recs), "-q"), run(t, classifycmd.Run, want, "-q"); got != w {
				t.Errorf("%s records: trace-classify differs", name)
			}
			toks := run(t, tokenizecmd.Run, want, "-q", "--tokenizer", "cl100k_base")
			if got := run(t, tokenizecmd.Run, string(recs), "-q", "--tokenizer", "cl100k_base"); got != toks {
				t.Errorf("%s records: trace-tokenize differs", name)
			}
			if got, w := run(t, hashcmd.Run, string(comp(t, []byte(toks))), "-q"), run(t, hashcmd.Run, toks, "-q"); got != w {
				t.Errorf("%s records: trace-hash differs", name)
			}
		}
	}
}
