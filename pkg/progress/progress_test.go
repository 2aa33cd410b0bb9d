package progress

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
)

// Off a terminal the bar draws nothing and passes data through unchanged.
func TestSilentOffTerminal(t *testing.T) {
	var buf bytes.Buffer
	b := Start(&buf, "x", 10)
	if b != nil {
		t.Fatal("a bar on a buffer")
	}
	data, err := io.ReadAll(b.Reader(strings.NewReader("abc")))
	if err != nil || string(data) != "abc" {
		t.Fatalf("%q %v", data, err)
	}
	b.Record()
	b.Stop()
	if buf.Len() != 0 {
		t.Errorf("wrote %q", buf.String())
	}
	f, err := os.CreateTemp(t.TempDir(), "f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Error("a regular file is not a terminal")
	}
}

// The line reports records, bytes, percentage and rate.
func TestDraw(t *testing.T) {
	var buf bytes.Buffer
	b := &Bar{w: &buf, label: "trace-extract in.json", total: 4_000_000}
	b.start = b.start.Add(-1e9)
	io.ReadAll(b.Reader(strings.NewReader(strings.Repeat("x", 1_000_000))))
	b.Record()
	b.draw()
	got := buf.String()
	for _, want := range []string{"trace-extract in.json: 1 records, 1.0 MB of 4.0 MB (25%)", "MB/s"} {
		if !strings.Contains(got, want) {
			t.Errorf("line %q lacks %q", got, want)
		}
	}
}
