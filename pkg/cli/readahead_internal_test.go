package cli

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
	"time"
)

// A read-ahead reader gives r's bytes as they are, however r and its
// caller cut them, then r's error.
func TestReadAheadPassesThrough(t *testing.T) {
	data := make([]byte, 3<<20+12345)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	for name, r := range map[string]func() io.Reader{
		"whole": func() io.Reader { return bytes.NewReader(data) },
		"half":  func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) },
		"short": func() io.Reader { return io.LimitReader(bytes.NewReader(data), 5) },
	} {
		for _, size := range []int{1, 7, 64 << 10, 1 << 20} {
			a := readAhead(r(), size, 3)
			got, err := io.ReadAll(iotest.HalfReader(a))
			a.Close()
			want, _ := io.ReadAll(r())
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s, buffers of %d: %d bytes, %v; want %d", name, size, len(got), err, len(want))
			}
		}
	}
	boom := errors.New("boom")
	a := readAhead(io.MultiReader(bytes.NewReader(data[:100]), iotest.ErrReader(boom)), 64, 2)
	defer a.Close()
	got, err := io.ReadAll(a)
	if !bytes.Equal(got, data[:100]) || err != boom {
		t.Fatalf("got %d bytes, %v; want 100 bytes, then %v", len(got), err, boom)
	}
}

// Close returns at once even while the goroutine waits on a reader that
// gives nothing more (a pipe whose writer is busy).
func TestReadAheadCloseDoesNotWait(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	a := readAhead(pr, 1<<10, 2)
	go pw.Write([]byte("some bytes"))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(a, buf); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() { a.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for the blocked read")
	}
}
