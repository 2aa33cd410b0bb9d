package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/klauspost/compress/zstd"

	"github.com/agent-trace/agent-trace/pkg/gunzip"
)

// decompressed returns in with its bytes decompressed when they start as
// gzip or zstd data does (magic bytes, on files and stdin alike), and a
// function that releases the decompressor. A compressed input's size is
// unknown (-1): progress then counts what was read.
func decompressed(in Input) (Input, func(), error) {
	br := bufio.NewReaderSize(in.R, 64<<10)
	head, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		zr, err := gunzip.NewReader(br)
		if err != nil {
			return in, nil, DataError(fmt.Errorf("%s: gzip: %w", in.Name, err))
		}
		if runtime.NumCPU() < 2 {
			return Input{R: formatErrors{zr, "gzip"}, Name: in.Name, Size: -1}, func() {}, nil
		}
		// Inflating takes longer than what reads its output: it runs
		// on a second CPU, up to four megabyte chunks ahead, handed over
		// in the buffers they are decoded into (the 266 MB bench trace
		// gzip'd: trace-extract 0.40-0.50 s; 0.61-0.80 inflating in
		// line, 0.48-0.58 with a read-ahead that copied each chunk). The
		// gunzip Reader holds nothing to release, so the inflating
		// goroutine may outlive it.
		ra := zr.Ahead(4)
		cpus := runtime.GOMAXPROCS(0)
		UseCPUs(max(cpus, 2))
		return Input{R: formatErrors{ra, "gzip"}, Name: in.Name, Size: -1}, func() { ra.Close(); UseCPUs(cpus) }, nil
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return in, nil, DataError(fmt.Errorf("%s: zstd: %w", in.Name, err))
		}
		return Input{R: formatErrors{zr, "zstd"}, Name: in.Name, Size: -1}, zr.Close, nil
	}
	return Input{R: br, Name: in.Name, Size: in.Size, File: in.File}, func() {}, nil
}

// formatErrors names the compressed format in a decompressor's errors (the
// reader of the input names the input), and says what an unexpected end
// means.
type formatErrors struct {
	r      io.Reader
	format string
}

func (f formatErrors) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	switch {
	case err == nil || err == io.EOF:
	case errors.Is(err, io.ErrUnexpectedEOF):
		err = fmt.Errorf("%s: the compressed data ends early (the file is cut short)", f.format)
	default:
		err = fmt.Errorf("%s: %w", f.format, err)
	}
	return n, err
}
