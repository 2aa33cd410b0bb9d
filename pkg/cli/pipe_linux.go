package cli

import (
	"os"

	"golang.org/x/sys/unix"
)

// pipeSize is the buffer asked for the pipes between stages. The kernel's
// 64 KiB default makes two stages wake each other for every 64 KiB, and a
// record is often larger; 1 MiB is the largest an unprivileged process may
// ask for by default (/proc/sys/fs/pipe-max-size).
const pipeSize = 1 << 20

// growPipes enlarges the pipes on stdin and stdout, if they are pipes.
// Failure is harmless: the default size works, only slower.
func growPipes() {
	for _, f := range []*os.File{os.Stdin, os.Stdout} {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeNamedPipe != 0 {
			unix.FcntlInt(f.Fd(), unix.F_SETPIPE_SZ, pipeSize)
		}
	}
}
