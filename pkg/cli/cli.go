// Package cli implements the trace-* commands. Each command is a function
// that takes its arguments and standard streams and returns an exit status,
// so the binaries in cmd/ are one line and the tests can run the commands
// in-process.
//
// Exit status, the same for every command:
//
//	0  success (also when the reader of the output closed the pipe early)
//	1  bad input data: the message names the input and the line or record
//	2  usage error: unknown flag, bad flag value
//	3  I/O or environment failure: a file that cannot be opened or written
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/alecthomas/kong"

	"agenttrace/pkg/jsonl"
)

// Exit statuses.
const (
	ExitOK    = 0
	ExitData  = 1
	ExitUsage = 2
	ExitIO    = 3
)

// Streams are a command's standard streams.
type Streams struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Command is the signature every command in this package has.
type Command func(args []string, s Streams) int

// Main runs cmd with the process's arguments and streams and exits with its
// status. A write to a closed pipe is reported to the command as an error
// (rather than killing the process), so `cmd | head` ends quietly with 0.
//
// Main is for commands that do their work in one goroutine: unless
// GOMAXPROCS is set, it runs them on one CPU. A second CPU would only run
// the garbage collector's background worker, which must stop the command
// with a signal to scan its stack, again and again while it is in sonic's
// assembly; on a virtual machine that costs more than the collection
// (trace-extract on the 266 MB bench trace: 1.3 CPU-seconds with two CPUs,
// 0.6 with one). In a pipeline the other CPUs run the other stages.
func Main(cmd Command) {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	MainParallel(cmd)
}

// useCPUs sets GOMAXPROCS to n when the command owns its process.
func useCPUs(n int) {
	if ownProcess {
		runtime.GOMAXPROCS(n)
	}
}

// MainParallel is Main for a command that spreads its work over goroutines
// (trace-tokenize): the command sets GOMAXPROCS to the CPUs it uses.
func MainParallel(cmd Command) {
	ownProcess = os.Getenv("GOMAXPROCS") == ""
	signal.Ignore(syscall.SIGPIPE)
	growPipes()
	os.Exit(cmd(os.Args[1:], Streams{os.Stdin, os.Stdout, os.Stderr}))
}

// ownProcess is set when a command runs in its own process (not in tests)
// and GOMAXPROCS is not set: the command may then set GOMAXPROCS.
var ownProcess bool

// exitError carries an exit status with an error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// dataError marks err as bad input (exit 1).
func dataError(err error) error { return &exitError{ExitData, err} }

// ioError marks err as an I/O or environment failure (exit 3).
func ioError(err error) error { return &exitError{ExitIO, err} }

// usageError marks err as a usage error (exit 2).
func usageError(err error) error { return &exitError{ExitUsage, err} }

// finish prints err, if any, prefixed with the command name, and returns the
// exit status it stands for. Errors not marked otherwise are data errors.
func finish(name string, err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, jsonl.ErrClosedPipe) {
		return ExitOK
	}
	code := ExitData
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	if code == ExitUsage {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", name)
	}
	return code
}

// kongExit is panicked by kong's exit hook and recovered by parse.
type kongExit int

// parse parses args into cmd (a kong grammar struct). It returns done=true
// when the command should end at once with the returned status: after
// --help, or on a usage error (already reported).
func parse(name, description string, cmd any, args []string, s Streams) (status int, done bool) {
	var parser *kong.Kong
	var err error
	defer func() {
		if r := recover(); r != nil {
			code, ok := r.(kongExit)
			if !ok {
				panic(r)
			}
			status, done = int(code), true
		}
	}()
	parser, err = kong.New(cmd,
		kong.Name(name),
		kong.Description(description+"\n\nExit status: 0 success (also when the reader closes the pipe), 1 bad input data, 2 usage error, 3 I/O or environment failure."),
		kong.Writers(s.Stdout, s.Stderr),
		kong.Exit(func(code int) { panic(kongExit(code)) }),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true, WrapUpperBound: 100}),
	)
	if err != nil {
		panic(err) // a bad grammar is a programming error
	}
	if _, err = parser.Parse(args); err != nil {
		if errors.Is(err, syscall.EPIPE) { // `--help | head`: the reader has what it wanted
			return ExitOK, true
		}
		return finish(name, usageError(err), s.Stderr), true
	}
	return 0, false
}

// command parses args into cmd, a kong grammar, and runs it.
func command(name, help string, cmd interface{ run(Streams) error }, args []string, s Streams) int {
	if code, done := parse(name, help, cmd, args, s); done {
		return code
	}
	return finish(name, cmd.run(s), s.Stderr)
}

// input is one opened input of a command.
type input struct {
	r    io.Reader
	name string
	size int64 // -1 when unknown
}

// eachInput calls fn for each named file in turn, or for stdin when files
// is empty; "-" also names stdin. A file that cannot be opened is an I/O
// error (exit 3).
func eachInput(files []string, stdin io.Reader, fn func(in input) error) error {
	if len(files) == 0 {
		files = []string{"-"}
	}
	for _, f := range files {
		if f == "-" {
			if err := fn(input{stdin, "<stdin>", -1}); err != nil {
				return err
			}
			continue
		}
		fh, err := os.Open(f)
		if err != nil {
			return ioError(fmt.Errorf("cannot read input: %w", err))
		}
		size := int64(-1)
		if st, err := fh.Stat(); err == nil {
			if st.IsDir() {
				fh.Close()
				return ioError(fmt.Errorf("%s: is a directory, want a file", f))
			}
			size = st.Size()
		}
		err = fn(input{fh, f, size})
		fh.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// eachLine calls fn for each non-blank line of the inputs (see eachInput),
// with the reader, whose Errorf names the input and line.
func eachLine(files []string, stdin io.Reader, fn func(line []byte, r *jsonl.Reader) error) error {
	return eachInput(files, stdin, func(in input) error {
		r := jsonl.NewReader(in.r, in.name)
		for {
			line, err := r.Next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return ioError(err)
			}
			if err := fn(line, r); err != nil {
				return err
			}
		}
	})
}

// writeErr classifies an error from writing the output.
func writeErr(err error) error {
	if errors.Is(err, jsonl.ErrClosedPipe) {
		return err
	}
	return ioError(fmt.Errorf("writing output: %w", err))
}
