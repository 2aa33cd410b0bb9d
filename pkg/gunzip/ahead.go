package gunzip

import "io"

// Ahead returns a reader of z's output that decompresses in a goroutine of
// its own, up to ahead chunks (of about a megabyte) before its caller, so
// that inflating runs beside the work done with the bytes, on another CPU.
// A chunk is handed over in the window buffer it was decoded into: the
// goroutine goes on in another buffer, into which it first copies the
// window (the last 32 KB), and the caller's Read copies the chunk out.
// Read returns z's error after the bytes decoded before it.
//
// z must not be used once Ahead is called. Close stops the goroutine at
// its next step without waiting for a read of z's source in progress (a
// pipe may never give more): the source must not be released while that
// read may still run.
func (z *Reader) Ahead(ahead int) *AheadReader {
	a := &AheadReader{
		full: make(chan chunk, ahead),
		free: make(chan []byte, ahead+2), // every buffer but the one decoded into
		done: make(chan struct{}),
	}
	for range ahead + 1 {
		a.free <- make([]byte, len(z.win))
	}
	go a.run(z)
	return a
}

// An AheadReader is the reader Ahead returns.
type AheadReader struct {
	full   chan chunk  // chunks decoded
	free   chan []byte // buffers to decode into
	done   chan struct{}
	err    error  // set before full is closed
	cur    []byte // what is left of the chunk being read
	buf    []byte // cur's buffer, to give back
	closed bool
}

// A chunk is output handed over: data, in the window buffer buf.
type chunk struct{ buf, data []byte }

func (a *AheadReader) run(z *Reader) {
	defer close(a.full)
	for {
		if z.w >= limit {
			// The chunk decoded last is the caller's now: go on in
			// another buffer.
			var next []byte
			select {
			case next = <-a.free:
			case <-a.done:
				return
			}
			d := z.w - windowSize
			copy(next, z.win[d:z.w])
			z.win = next
			z.w -= d
			z.r -= d
			z.crcFrom -= d
			z.hist = max(z.hist-d, 0)
		}
		err := z.decode()
		if z.r < z.w {
			select {
			case a.full <- chunk{z.win, z.win[z.r:z.w]}:
				z.r = z.w
			case <-a.done:
				return
			}
		}
		if err != nil {
			a.err = err
			return
		}
	}
}

// Read reads up to len(p) decompressed bytes into p. It returns io.EOF
// after the last member, once its checksum has been verified.
func (a *AheadReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for len(a.cur) == 0 {
		if a.buf != nil {
			a.free <- a.buf
			a.buf = nil
		}
		c, ok := <-a.full
		if !ok {
			return 0, a.err
		}
		a.cur, a.buf = c.data, c.buf
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

// Close stops the decompressing goroutine (see Ahead).
func (a *AheadReader) Close() error {
	if !a.closed {
		a.closed = true
		close(a.done)
	}
	return nil
}

var _ io.ReadCloser = (*AheadReader)(nil)
