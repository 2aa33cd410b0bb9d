// Package progress draws a one-line progress report on a terminal: records
// and bytes done, the rate, and the time left when the input size is known.
// It draws nothing when the output is not a terminal, so logs and pipes
// stay clean.
package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"
)

// IsTerminal reports whether w (or r: any stream) is a terminal; /dev/null,
// a character device too, is not.
func IsTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Bar reports progress. The zero value and a nil *Bar do nothing.
type Bar struct {
	w       io.Writer
	label   string
	total   int64 // bytes; -1 when unknown
	bytes   atomic.Int64
	records atomic.Int64
	start   time.Time
	stop    chan struct{}
	done    sync.WaitGroup
}

// Start returns a Bar drawing on w every interval when w is a terminal, or
// nil (which does nothing) otherwise. total is the input size in bytes, or
// -1 when unknown.
func Start(w io.Writer, label string, total int64) *Bar {
	if !IsTerminal(w) {
		return nil
	}
	b := &Bar{w: w, label: label, total: total, start: time.Now(), stop: make(chan struct{})}
	b.done.Add(1)
	go func() {
		defer b.done.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				b.draw()
			case <-b.stop:
				fmt.Fprint(b.w, "\r\033[K") // clear the line
				return
			}
		}
	}()
	return b
}

// Reader wraps r so that bytes read count towards the bar.
func (b *Bar) Reader(r io.Reader) io.Reader {
	if b == nil {
		return r
	}
	return &countingReader{r, b}
}

// Record counts one record done.
func (b *Bar) Record() {
	if b != nil {
		b.records.Add(1)
	}
}

// Stop removes the bar.
func (b *Bar) Stop() {
	if b == nil {
		return
	}
	close(b.stop)
	b.done.Wait()
}

func (b *Bar) draw() {
	el := time.Since(b.start).Seconds()
	done := b.bytes.Load()
	rate := float64(done) / el / 1e6
	line := fmt.Sprintf("\r\033[K%s: %d records, %.1f MB", b.label, b.records.Load(), float64(done)/1e6)
	if b.total > 0 {
		line += fmt.Sprintf(" of %.1f MB (%.0f%%)", float64(b.total)/1e6, 100*float64(done)/float64(b.total))
	}
	line += fmt.Sprintf(", %.1f MB/s", rate)
	if b.total > 0 && rate > 0 && done < b.total {
		left := time.Duration(float64(b.total-done) / (rate * 1e6) * float64(time.Second))
		line += ", ETA " + left.Round(time.Second).String()
	}
	fmt.Fprint(b.w, line)
}

type countingReader struct {
	r io.Reader
	b *Bar
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.b.bytes.Add(int64(n))
	return n, err
}
