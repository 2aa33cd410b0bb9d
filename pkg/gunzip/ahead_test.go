package gunzip

import (
	"bytes"
	"io"
	"strconv"
	"testing"
	"testing/iotest"
	"time"
)

// readAllAhead reads gz through Ahead, its caller reading as wrap cuts.
func readAllAhead(gz []byte, wrap func(io.Reader) io.Reader, ahead int) ([]byte, error) {
	z, err := NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	a := z.Ahead(ahead)
	defer a.Close()
	return io.ReadAll(wrap(a))
}

// Ahead gives what Read gives: the same bytes, then the same error, over
// streams of several chunks (members of every compressor, one after the
// other), whole, cut, and with a byte flipped here and there.
func TestAheadEqualsRead(t *testing.T) {
	var gz []byte
	n := 0
	for n < 5*chunkSize {
		for name, text := range texts(t) {
			for cname, c := range compressors {
				if name == "random" && cname != "std6" {
					continue
				}
				gz = append(gz, compress(t, c, text)...)
				n += len(text)
			}
		}
	}
	streams := map[string][]byte{"whole": gz}
	for _, at := range []int{10, len(gz) / 3, len(gz) / 2, len(gz) - 5} {
		streams["cut at "+strconv.Itoa(at)] = gz[:at]
		flipped := append([]byte{}, gz...)
		flipped[at] ^= 0x10
		streams["flip at "+strconv.Itoa(at)] = flipped
	}
	for name, s := range streams {
		want, wantErr := readAll(s, same)
		for _, ahead := range []int{1, 4} {
			for wname, wrap := range map[string]func(io.Reader) io.Reader{"whole": same, "half": iotest.HalfReader} {
				got, err := readAllAhead(s, wrap, ahead)
				if err != wantErr || !bytes.Equal(got, want) {
					t.Errorf("%s, ahead %d, %s reads: %d bytes, %v; Read: %d bytes, %v", name, ahead, wname, len(got), err, len(want), wantErr)
				}
			}
		}
	}
}

// Close returns at once even while the goroutine waits on a source that
// gives nothing more (a pipe whose writer is busy).
func TestAheadCloseDoesNotWait(t *testing.T) {
	gz := compress(t, compressors["std6"], bytes.Repeat([]byte("some bytes "), 1000))
	pr, pw := io.Pipe()
	defer pw.Close()
	go pw.Write(gz[:len(gz)/2])
	z, err := NewReader(pr)
	if err != nil {
		t.Fatal(err)
	}
	a := z.Ahead(2)
	closed := make(chan struct{})
	go func() { a.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for the blocked read")
	}
}
