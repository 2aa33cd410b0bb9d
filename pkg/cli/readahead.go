package cli

import "io"

// readAhead returns a reader of r's bytes that reads r in a goroutine of
// its own, up to ahead buffers of size bytes before its caller, so that
// the work done in r's Read (decompression) runs beside the work done with
// the bytes. Read returns r's error after the bytes read before it. Close
// stops the goroutine at its next step without waiting for a read of r in
// progress (a pipe may never give more): r must not be released while
// that read may still run.
func readAhead(r io.Reader, size, ahead int) *aheadReader {
	a := &aheadReader{
		full: make(chan []byte, ahead),
		free: make(chan []byte, ahead+1),
		done: make(chan struct{}),
	}
	for range ahead + 1 {
		a.free <- make([]byte, size)
	}
	go a.run(r)
	return a
}

// An aheadReader is the reader readAhead returns.
type aheadReader struct {
	full, free chan []byte
	done       chan struct{}
	err        error // set before full is closed
	cur        []byte
	buf        []byte // cur's buffer, to give back
	closed     bool
}

func (a *aheadReader) run(r io.Reader) {
	defer close(a.full)
	for {
		var buf []byte
		select {
		case buf = <-a.free:
		case <-a.done:
			return
		}
		// One read, whatever it gives: bytes are passed on as they come
		// (a slow pipe is not held back until a buffer is full).
		n, err := r.Read(buf)
		if n > 0 {
			select {
			case a.full <- buf[:n]:
			case <-a.done:
				return
			}
		} else if err == nil {
			a.free <- buf
			continue
		}
		if err != nil {
			a.err = err
			return
		}
	}
}

func (a *aheadReader) Read(p []byte) (int, error) {
	for len(a.cur) == 0 {
		if a.buf != nil {
			a.free <- a.buf[:cap(a.buf)]
			a.buf = nil
		}
		b, ok := <-a.full
		if !ok {
			return 0, a.err
		}
		a.cur, a.buf = b, b
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

// Close stops the reading goroutine (see readAhead).
func (a *aheadReader) Close() error {
	if !a.closed {
		a.closed = true
		close(a.done)
	}
	return nil
}
