package extractcmd

import (
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// followPoll is how often a followed file is checked for new data.
const followPoll = 100 * time.Millisecond

// follower reads a file as it grows, as tail -f does: at its end it waits
// for more, until SIGINT or SIGTERM, after which it reports the end.
type follower struct {
	f    *os.File
	stop chan os.Signal
	done bool
}

func newFollower(f *os.File) *follower {
	fl := &follower{f: f, stop: make(chan os.Signal, 1)}
	signal.Notify(fl.stop, syscall.SIGINT, syscall.SIGTERM)
	return fl
}

// Read reads what the file holds, waiting at its end.
func (fl *follower) Read(p []byte) (int, error) {
	for {
		if fl.done {
			return 0, io.EOF
		}
		n, err := fl.f.Read(p)
		if n > 0 || err != nil && err != io.EOF {
			return n, err
		}
		select {
		case <-fl.stop:
			fl.done = true
		case <-time.After(followPoll):
		}
	}
}

// Close stops listening for the signals.
func (fl *follower) Close() { signal.Stop(fl.stop) }
