package gunzip

import (
	"bytes"
	stdflate "compress/flate"
	stdgzip "compress/gzip"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	kflate "github.com/klauspost/compress/flate"
	kgzip "github.com/klauspost/compress/gzip"
)

// texts are inputs of every shape a DEFLATE stream takes: empty, tiny,
// incompressible (stored and literal-only blocks), long runs (distance 1),
// short periods (distances 2-7), text with far and near matches, and the
// project's own traces.
func texts(t testing.TB) map[string][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 300<<10)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	words := strings.Fields("the quick brown fox jumps over a lazy dog agent tool call prompt token cache")
	var text bytes.Buffer
	for text.Len() < 1<<20 {
		text.WriteString(words[r.IntN(len(words))])
		if r.IntN(9) == 0 {
			text.WriteString(".\n")
		} else {
			text.WriteByte(' ')
		}
	}
	var periods bytes.Buffer
	for p := 1; p <= 9; p++ {
		for range 2000 {
			periods.Write([]byte("abcdefghi")[:p])
		}
		periods.Write(random[:p*37])
	}
	m := map[string][]byte{
		"empty":   nil,
		"one":     {'x'},
		"random":  random,
		"zeros":   make([]byte, 700<<10),
		"text":    text.Bytes(),
		"periods": periods.Bytes(),
		"mixed":   append(append(append([]byte{}, random[:70<<10]...), text.Bytes()[:400<<10]...), random[:70<<10]...),
	}
	files, _ := filepath.Glob("../../testdata/*/*.json*")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err == nil && len(b) > 0 {
			m[filepath.Base(f)] = b
		}
	}
	return m
}

// compressors are the writers whose output is read: Go's at every level
// (huffman-only, stored, fast, best) and klauspost's (other block choices).
var compressors = map[string]func(w io.Writer) io.WriteCloser{
	"std-2": func(w io.Writer) io.WriteCloser { z, _ := stdgzip.NewWriterLevel(w, stdgzip.HuffmanOnly); return z },
	"std0":  func(w io.Writer) io.WriteCloser { z, _ := stdgzip.NewWriterLevel(w, 0); return z },
	"std1":  func(w io.Writer) io.WriteCloser { z, _ := stdgzip.NewWriterLevel(w, 1); return z },
	"std6":  func(w io.Writer) io.WriteCloser { return stdgzip.NewWriter(w) },
	"std9":  func(w io.Writer) io.WriteCloser { z, _ := stdgzip.NewWriterLevel(w, 9); return z },
	"k1":    func(w io.Writer) io.WriteCloser { z, _ := kgzip.NewWriterLevel(w, 1); return z },
	"k5":    func(w io.Writer) io.WriteCloser { z, _ := kgzip.NewWriterLevel(w, 5); return z },
	"k9":    func(w io.Writer) io.WriteCloser { z, _ := kgzip.NewWriterLevel(w, 9); return z },
	"kstat": func(w io.Writer) io.WriteCloser {
		z, _ := kgzip.NewWriterLevel(w, kflate.ConstantCompression)
		return z
	},
}

func compress(t testing.TB, c func(io.Writer) io.WriteCloser, b []byte) []byte {
	var buf bytes.Buffer
	w := c(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readAll reads gz with our Reader; wrap wraps the input and the reader
// (one byte at a time, halves).
func readAll(gz []byte, wrap func(io.Reader) io.Reader) ([]byte, error) {
	z, err := NewReader(wrap(bytes.NewReader(gz)))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(wrap(z))
}

func stdReadAll(gz []byte) ([]byte, error) {
	z, err := stdgzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(z)
}

func same(r io.Reader) io.Reader { return r }

// Every text through every compressor comes back as it was, however the
// input arrives and however the output is read.
func TestRoundTrip(t *testing.T) {
	for name, text := range texts(t) {
		for cname, c := range compressors {
			gz := compress(t, c, text)
			for wname, wrap := range map[string]func(io.Reader) io.Reader{
				"whole": same, "half": iotest.HalfReader, "onebyte": iotest.OneByteReader, "dataerr": iotest.DataErrReader,
			} {
				if wname == "onebyte" && len(text) > 100<<10 {
					continue
				}
				got, err := readAll(gz, wrap)
				if err != nil {
					t.Fatalf("%s/%s/%s: %v", name, cname, wname, err)
				}
				if !bytes.Equal(got, text) {
					t.Fatalf("%s/%s/%s: %d bytes differ from the %d written", name, cname, wname, len(got), len(text))
				}
			}
		}
	}
}

// Members written one after another read as one stream; header fields
// (name, comment, extra, header CRC) are skipped and checked.
func TestMembersAndHeaders(t *testing.T) {
	var gz bytes.Buffer
	var want []byte
	for i, s := range []string{"first member\n", "", strings.Repeat("second ", 5000)} {
		w := stdgzip.NewWriter(&gz)
		w.Name = strings.Repeat("n", i*100)
		w.Comment = "comment"
		w.Extra = []byte{'A', 'B', 2, 0, 1, 2}
		w.Write([]byte(s))
		w.Close()
		want = append(want, s...)
	}
	gz.Write(withHeaderCRC(t, compress(t, compressors["std6"], []byte("third, with a header CRC"))))
	want = append(want, "third, with a header CRC"...)
	got, err := readAll(gz.Bytes(), same)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("got %q, %v", got, err)
	}
	std, err := stdReadAll(gz.Bytes())
	if err != nil || !bytes.Equal(std, want) {
		t.Fatalf("compress/gzip: %q, %v", std, err)
	}
}

// Members longer than the window, one after another: each one's matches
// reach back into its own output only, across the window's slides.
func TestLongMembers(t *testing.T) {
	text := texts(t)["text"]
	var gz []byte
	for _, c := range []string{"std6", "k1", "std9"} {
		gz = append(gz, compress(t, compressors[c], text[:len(text)-len(c)])...)
	}
	got, err := readAll(gz, same)
	if err != nil {
		t.Fatal(err)
	}
	want, err := stdReadAll(gz)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%d bytes, compress/gzip %d (%v)", len(got), len(want), err)
	}
}

// withHeaderCRC sets FHCRC in a member's header (as gzip --header-crc
// does; Go's writer cannot).
func withHeaderCRC(t testing.TB, gz []byte) []byte {
	if gz[3] != 0 {
		t.Fatal("member has flags")
	}
	h := append([]byte{}, gz[:10]...)
	h[3] = 0x02
	sum := crc32.ChecksumIEEE(h)
	return append(append(h, byte(sum), byte(sum>>8)), gz[10:]...)
}

// The errors are compress/gzip's, for the same streams.
func TestErrors(t *testing.T) {
	good := compress(t, compressors["std6"], []byte(strings.Repeat("hello, world ", 1000)))
	badCRC := append([]byte{}, good...)
	badCRC[len(badCRC)-8] ^= 1
	badSize := append([]byte{}, good...)
	badSize[len(badSize)-1] ^= 1
	badHCRC := withHeaderCRC(t, good)
	badHCRC[10] ^= 1
	for name, c := range map[string]struct {
		in   []byte
		want error
	}{
		"empty":          {nil, io.EOF},
		"not gzip":       {[]byte("hello, world"), stdgzip.ErrHeader},
		"short header":   {good[:5], io.ErrUnexpectedEOF},
		"crc":            {badCRC, stdgzip.ErrChecksum},
		"size":           {badSize, stdgzip.ErrChecksum},
		"header crc":     {badHCRC, stdgzip.ErrHeader},
		"no trailer":     {good[:len(good)-8], io.ErrUnexpectedEOF},
		"cut trailer":    {good[:len(good)-3], io.ErrUnexpectedEOF},
		"cut data":       {good[:len(good)/2], io.ErrUnexpectedEOF},
		"garbage after":  {append(append([]byte{}, good...), "junk that is not gzip"...), stdgzip.ErrHeader},
		"half a member":  {append(append([]byte{}, good...), good[:6]...), io.ErrUnexpectedEOF},
		"block type 3":   {append(append([]byte{}, good[:10]...), 0x07, 0, 0, 0, 0, 0, 0, 0, 0), nil},
		"long name":      {append(append([]byte{0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 0}, bytes.Repeat([]byte{'n'}, 600)...), 0), stdgzip.ErrHeader},
		"stored nlen":    {append(append([]byte{}, good[:10]...), 0x01, 5, 0, 5, 0, 'h', 'e', 'l', 'l', 'o'), nil},
		"distance first": {asMember(matchFirst()), nil},
	} {
		_, err := readAll(c.in, same)
		_, stdErr := stdReadAll(c.in)
		if err == nil || stdErr == nil {
			t.Errorf("%s: got %v, compress/gzip %v; want errors", name, err, stdErr)
			continue
		}
		want := c.want
		if want == nil { // a flate.CorruptInputError, offset aside
			var ce stdflate.CorruptInputError
			if !errors.As(err, &ce) || !errors.As(stdErr, &ce) {
				t.Errorf("%s: got %v, compress/gzip %v; want corrupt input errors", name, err, stdErr)
			}
			continue
		}
		if err != want || stdErr != want {
			t.Errorf("%s: got %v, compress/gzip %v; want %v", name, err, stdErr, want)
		}
	}
}

// Every cut of a stream is an error, as in compress/gzip (the empty input
// being io.EOF); so is every single flipped byte that compress/gzip
// refuses, and every one it reads gives its bytes.
func TestCutsAndFlips(t *testing.T) {
	text := texts(t)["periods"][:6000]
	for cname, c := range compressors {
		gz := compress(t, c, text)
		for n := range len(gz) {
			if _, err := readAll(gz[:n], same); err == nil {
				t.Fatalf("%s: cut at %d of %d: no error", cname, n, len(gz))
			}
		}
		for i := range len(gz) {
			for _, bit := range []byte{1, 0x10, 0x80} {
				b := append([]byte{}, gz...)
				b[i] ^= bit
				compare(t, b)
			}
		}
	}
}

// compare fails t unless our Reader and compress/gzip agree on gz: the
// same bytes, or both an error.
func compare(t *testing.T, gz []byte) {
	t.Helper()
	want, wantErr := stdReadAll(gz)
	got, err := readAll(gz, same)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("%x: error %v, compress/gzip %v", gz, err, wantErr)
	}
	if err == nil && !bytes.Equal(got, want) {
		t.Fatalf("%x: %d bytes, compress/gzip %d, and they differ", gz, len(got), len(want))
	}
}

// bitWriter writes DEFLATE's bit stream: values least significant bit
// first, Huffman codes most significant bit first.
type bitWriter struct {
	out    []byte
	acc, n uint
}

func (w *bitWriter) put(v, bits uint) {
	w.acc |= v << w.n
	for w.n += bits; w.n >= 8; w.n -= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
	}
}

func (w *bitWriter) code(c, bits uint) {
	for i := int(bits) - 1; i >= 0; i-- {
		w.put(c>>uint(i)&1, 1)
	}
}

// bytes returns what was written, the last byte padded with zeros.
func (w *bitWriter) bytes() []byte {
	if w.n > 0 {
		return append(w.out, byte(w.acc))
	}
	return w.out
}

// matchFirst is a fixed-code block whose first symbol is a match (length
// 3, distance 1): a distance before the start of the output.
func matchFirst() []byte {
	var w bitWriter
	w.put(1, 1)  // BFINAL
	w.put(1, 2)  // fixed codes
	w.code(1, 7) // 257: length 3
	w.code(0, 5) // distance 1
	w.code(0, 7) // end of block
	return w.bytes()
}

// farMatch is raw DEFLATE: a stored block of n bytes, then a fixed-code
// block with one match of length 3 and distance dist, reaching dist-n
// bytes before the stored ones when dist > n.
func farMatch(n, dist int) []byte {
	w := bitWriter{out: []byte{0x00}} // BFINAL 0, stored, then aligned
	w.out = binary.LittleEndian.AppendUint16(w.out, uint16(n))
	w.out = binary.LittleEndian.AppendUint16(w.out, ^uint16(n))
	for i := range n {
		w.out = append(w.out, byte('a'+i%23))
	}
	w.put(1, 1)  // BFINAL
	w.put(1, 2)  // fixed codes
	w.code(1, 7) // 257: length 3
	d := 0       // the distance code: base and extra bits
	for d+1 < len(distBase) && int(distBase[d+1]) <= dist {
		d++
	}
	w.code(uint(d), 5)
	w.put(uint(dist)-uint(distBase[d]), uint(distExtra[d]))
	w.code(0, 7) // end of block
	return w.bytes()
}

// TestDistanceAtWindowEdge: a match reaching exactly to the first byte of
// its member is read; one byte further is corrupt, in the first member and
// in one after a long member (the decoder checks distances only in a
// member's first window, where they can reach before its start).
func TestDistanceAtWindowEdge(t *testing.T) {
	long := compress(t, compressors["std6"], bytes.Repeat([]byte("a long first member "), 4000))
	for _, n := range []int{1, 100, windowSize - 1, windowSize} {
		for _, dist := range []int{n, n + 1, windowSize} {
			if dist > windowSize {
				continue
			}
			for _, prefix := range [][]byte{nil, long} {
				gz := append(append([]byte{}, prefix...), asMember(farMatch(n, dist))...)
				want, wantErr := stdReadAll(gz)
				got, err := readAll(gz, same)
				if (dist > n) != (wantErr != nil) {
					t.Fatalf("n %d dist %d: compress/gzip says %v: the test is wrong", n, dist, wantErr)
				}
				var ce stdflate.CorruptInputError
				if (err == nil) != (wantErr == nil) || err == nil && !bytes.Equal(got, want) ||
					wantErr != nil && !errors.As(err, &ce) {
					t.Errorf("n %d dist %d after %d bytes: error %v, compress/gzip %v (%d and %d bytes)", n, dist, len(prefix), err, wantErr, len(got), len(want))
				}
			}
		}
	}
}

// asMember wraps raw DEFLATE data in a gzip member whose trailer is right
// for what compress/flate makes of it.
func asMember(deflate []byte) []byte {
	out, _ := io.ReadAll(stdflate.NewReader(bytes.NewReader(deflate)))
	gz := append([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, deflate...)
	gz = binary.LittleEndian.AppendUint32(gz, crc32.ChecksumIEEE(out))
	return binary.LittleEndian.AppendUint32(gz, uint32(len(out)))
}

// FuzzInflate feeds arbitrary DEFLATE data, wrapped in a member whose
// trailer fits, to both readers; seeds are streams of each compressor.
func FuzzInflate(f *testing.F) {
	for _, text := range []string{"", "a", "hello hello hello hello", strings.Repeat("abcabcabd", 50)} {
		for _, level := range []int{-2, 0, 1, 6, 9} {
			var b bytes.Buffer
			w, _ := stdflate.NewWriter(&b, level)
			w.Write([]byte(text))
			w.Close()
			f.Add(b.Bytes())
		}
	}
	f.Add([]byte{0x63, 0x00, 0x02, 0x00})             // distance before the start
	f.Add([]byte{0x05, 0xc0, 0x81, 0x00, 0x00, 0x00}) // dynamic header
	f.Fuzz(func(t *testing.T, deflate []byte) {
		compare(t, asMember(deflate))
	})
}

// FuzzReader feeds arbitrary bytes (headers, members, trailers) to both.
func FuzzReader(f *testing.F) {
	f.Add(compress(f, compressors["std6"], []byte("hello, hello, world")))
	f.Add(withHeaderCRC(f, compress(f, compressors["std1"], []byte("x"))))
	f.Fuzz(func(t *testing.T, gz []byte) {
		compare(t, gz)
	})
}

func BenchmarkReader(b *testing.B) {
	path := os.Getenv("AGENTTRACE_GZIP")
	var gz []byte
	if path != "" {
		var err error
		if gz, err = os.ReadFile(path); err != nil {
			b.Fatal(err)
		}
	} else {
		gz = compress(b, compressors["std6"], texts(b)["text"])
	}
	for _, impl := range []string{"gunzip", "compress/gzip", "klauspost"} {
		b.Run(impl, func(b *testing.B) {
			var n int64
			for b.Loop() {
				var r io.Reader
				switch impl {
				case "gunzip":
					r, _ = NewReader(bytes.NewReader(gz))
				case "compress/gzip":
					r, _ = stdgzip.NewReader(bytes.NewReader(gz))
				default:
					r, _ = kgzip.NewReader(bytes.NewReader(gz))
				}
				var err error
				if n, err = io.Copy(io.Discard, r); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(n)
		})
	}
}

// emptyReader returns nothing and no error, for ever.
type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

// A reader that never gives anything is an error, not a hang.
func TestNoProgress(t *testing.T) {
	gz := compress(t, compressors["std6"], []byte("hello"))
	if _, err := NewReader(emptyReader{}); err != io.ErrNoProgress {
		t.Fatalf("got %v", err)
	}
	z, err := NewReader(io.MultiReader(bytes.NewReader(gz[:12]), emptyReader{}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(z); err != io.ErrNoProgress {
		t.Fatalf("got %v", err)
	}
}
