// Package cli is what the trace-* commands share: running as a process
// (Main), flags and help (Parse, Run), exit statuses and the errors that
// carry them, reading inputs line by line, and the compact record form. The
// commands themselves are in the packages below it (extractcmd, classifycmd,
// tokenizecmd, hashcmd), one per binary, so that each binary links only
// what its command needs. A command is a function that takes its arguments
// and standard streams and returns an exit status, so the binaries in cmd/
// are one line and the tests can run the commands in-process.
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
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"

	"github.com/alecthomas/kong"

	"github.com/agent-trace/agent-trace/pkg/jsonl"
	"github.com/agent-trace/agent-trace/pkg/progress"
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

// UseCPUs sets GOMAXPROCS to n when the command owns its process (it runs
// under Main or MainParallel and GOMAXPROCS is not set).
func UseCPUs(n int) {
	if ownProcess {
		runtime.GOMAXPROCS(n)
	}
}

// SoftMemoryLimit caps the heap a command whose live memory is bounded
// (by a record, request or session) lets grow before collecting: GOGC=200
// lets the heap reach three times what is live, which on a long input is
// the most of the peak. It applies when the command owns its process and
// GOMEMLIMIT is not set; a command that needs more still gets it (the
// collector then runs more often, at most half the CPU).
func SoftMemoryLimit(bytes int64) {
	if ownProcess && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(bytes)
	}
}

// MainParallel is Main for a command that spreads its work over goroutines
// (trace-tokenize): the command sets GOMAXPROCS to the CPUs it uses.
func MainParallel(cmd Command) {
	ownProcess = os.Getenv("GOMAXPROCS") == ""
	// The commands make many short-lived strings and buffers: collecting at
	// twice the default heap growth costs 5-10 MB more and saves 10-40% of
	// the time (174 MB telemetry: extract 1.1 s, not 1.6; classify 0.5-0.6 s,
	// not 0.8); memory stays bounded by a record, request or session.
	// GOGC, when set, decides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	signal.Ignore(syscall.SIGPIPE)
	growPipes()
	stop := cpuProfile()
	code := cmd(os.Args[1:], Streams{os.Stdin, os.Stdout, os.Stderr})
	stop()
	os.Exit(code)
}

// cpuProfile starts a CPU profile of the command when the environment
// variable AGENTTRACE_CPUPROFILE names a folder: it goes to
// FOLDER/NAME-PID.pprof, so that every stage of a pipeline writes its own
// (go tool pprof reads them). It returns the function that ends the
// profile.
func cpuProfile() (stop func()) {
	dir := os.Getenv("AGENTTRACE_CPUPROFILE")
	if dir == "" {
		return func() {}
	}
	name := filepath.Base(os.Args[0])
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%d.pprof", name, os.Getpid())))
	if err == nil {
		if err = pprof.StartCPUProfile(f); err != nil {
			f.Close()
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: AGENTTRACE_CPUPROFILE: %v (no profile written)\n", name, err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
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

// DataError marks err as bad input (exit 1).
func DataError(err error) error { return &exitError{ExitData, err} }

// IOError marks err as an I/O or environment failure (exit 3).
func IOError(err error) error { return &exitError{ExitIO, err} }

// UsageError marks err as a usage error (exit 2).
func UsageError(err error) error { return &exitError{ExitUsage, err} }

// NoRecords is the error of a run that wrote no record, saying why: an
// empty result is almost always a mistake (a wrong file, a filter that
// matches nothing), and a Makefile target must not take it for a result.
// Commands accept one with --allow-empty.
func NoRecords(why string) error {
	return DataError(fmt.Errorf("no records written: %s (--allow-empty accepts an empty result)", why))
}

// isDataError reports whether err is about the input (exit 1).
func isDataError(err error) bool {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code == ExitData
	}
	return !errors.Is(err, jsonl.ErrClosedPipe)
}

// HasStatus reports whether err already says which exit status it stands
// for (it was made by DataError, IOError, UsageError or WriteError).
func HasStatus(err error) bool {
	var ee *exitError
	return errors.As(err, &ee) || errors.Is(err, jsonl.ErrClosedPipe)
}

// Finish prints err, if any, prefixed with the command name, and returns the
// exit status it stands for. Errors not marked otherwise are data errors.
func Finish(name string, err error, stderr io.Writer) int {
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

// negativeValues joins a long flag and a negative number after it
// (--block-size -1 becomes --block-size=-1): kong would take -1 for a short
// flag, and the command's range check has the better message.
func negativeValues(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		if strings.HasPrefix(a, "--") && !strings.Contains(a, "=") && i+1 < len(args) && isNegative(args[i+1]) {
			out = append(out, a+"="+args[i+1])
			i++
			continue
		}
		out = append(out, a)
	}
	return out
}

func isNegative(s string) bool {
	if len(s) < 2 || s[0] != '-' {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// decimalInt reads an int flag as a plain decimal number: kong's own
// reading takes 010 for octal 8 and accepts 0b1000 and 1_0.
var decimalInt = kong.MapperFunc(func(ctx *kong.DecodeContext, target reflect.Value) error {
	var s string
	if err := ctx.Scan.PopValueInto("number", &s); err != nil {
		return err
	}
	n, err := strconv.ParseInt(s, 10, target.Type().Bits())
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return fmt.Errorf("%q is out of range", s)
		}
		return fmt.Errorf("want a decimal number, got %q", s)
	}
	target.SetInt(n)
	return nil
})

// kongExit is panicked by kong's exit hook and recovered by Parse.
type kongExit int

// Parse parses args into cmd (a kong grammar struct). It returns done=true
// when the command should end at once with the returned status: after
// --help, or on a usage error (already reported).
func Parse(name, description string, cmd any, args []string, s Streams) (status int, done bool) {
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
		kong.Description(description+"\n\nExit status: 0 success (also when the reader closes the pipe), 1 bad input data, 2 usage error, 3 I/O or environment failure. --version says which build this is; --completion bash|zsh|fish writes a shell completion script; --man writes the manual page."),
		kong.Writers(s.Stdout, s.Stderr),
		kong.Exit(func(code int) { panic(kongExit(code)) }),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true, WrapUpperBound: 100}),
		kong.TypeMapper(reflect.TypeFor[int](), decimalInt),
	)
	if err != nil {
		panic(err) // a bad grammar is a programming error
	}
	// --version and --completion SHELL end the command at once, whatever
	// else is given.
	for i, a := range args {
		if a == "--" {
			break
		}
		var out string
		switch {
		case a == "--version":
			out = fmt.Sprintf("%s (agent-trace) %s\n", name, Version())
		case a == "--man":
			var b strings.Builder
			if err := writeMan(&b, name, parser.Model); err != nil {
				return Finish(name, err, s.Stderr), true
			}
			out = b.String()
		case a == "--completion" || strings.HasPrefix(a, "--completion="):
			shell, _ := strings.CutPrefix(a, "--completion=")
			if a == "--completion" {
				if i+1 >= len(args) {
					return Finish(name, UsageError(errors.New("--completion: want bash, zsh or fish")), s.Stderr), true
				}
				shell = args[i+1]
			}
			var b strings.Builder
			if err := writeCompletion(&b, name, shell, parser.Model); err != nil {
				return Finish(name, err, s.Stderr), true
			}
			out = b.String()
		default:
			continue
		}
		if _, err := io.WriteString(s.Stdout, out); err != nil && !errors.Is(err, syscall.EPIPE) {
			return Finish(name, IOError(err), s.Stderr), true
		}
		return ExitOK, true
	}
	if _, err = parser.Parse(negativeValues(args)); err != nil {
		if errors.Is(err, syscall.EPIPE) { // `--help | head`: the reader has what it wanted
			return ExitOK, true
		}
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Op == "write" { // the help could not be written
			return Finish(name, IOError(err), s.Stderr), true
		}
		return Finish(name, UsageError(err), s.Stderr), true
	}
	return 0, false
}

// Execer is a command's grammar (a kong struct) that runs the command once
// its flags are parsed.
type Execer interface {
	Exec(s Streams) error
}

// Run parses args into cmd and runs it; it returns the exit status, after
// printing the error (if any) prefixed with name.
func Run(name, help string, cmd Execer, args []string, s Streams) int {
	if code, done := Parse(name, help, cmd, args, s); done {
		return code
	}
	return Finish(name, cmd.Exec(s), s.Stderr)
}

// Input is one opened input of a command.
type Input struct {
	R    io.Reader
	Name string
	Size int64    // -1 when unknown
	File *os.File // the file R reads, from its start, uncompressed; nil for stdin or compressed input
}

// EachInput calls fn for each named file in turn, or for stdin when files
// is empty; "-" also names stdin. A file that cannot be opened is an I/O
// error (exit 3).
func EachInput(files []string, stdin io.Reader, fn func(in Input) error) error {
	if len(files) == 0 {
		if progress.IsTerminal(stdin) {
			return UsageError(errors.New("no input: give a FILE, or pipe the input in (standard input is a terminal)"))
		}
		files = []string{"-"}
	}
	for _, f := range files {
		in := Input{R: stdin, Name: "<stdin>", Size: -1}
		var fh *os.File
		if f != "-" {
			var err error
			if fh, err = os.Open(f); err != nil {
				return IOError(fmt.Errorf("cannot read input: %w", err))
			}
			in = Input{R: fh, Name: f, Size: -1}
			if st, err := fh.Stat(); err == nil {
				if st.IsDir() {
					fh.Close()
					return IOError(fmt.Errorf("%s: is a directory, want a file", f))
				}
				in.Size = st.Size()
				if st.Mode().IsRegular() {
					in.File = fh
				}
			}
		}
		d, release, err := decompressed(in)
		if err == nil {
			err = fn(d)
			release()
		}
		if fh != nil {
			fh.Close()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// EachLine calls fn for each non-blank line of the inputs (see EachInput),
// with the reader, whose Errorf names the input and line.
func EachLine(files []string, stdin io.Reader, fn func(line []byte, r *jsonl.Reader) error) error {
	return EachInput(files, stdin, func(in Input) error {
		r := jsonl.NewReader(in.R, in.Name)
		for {
			line, err := r.Next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return IOError(err)
			}
			if err := fn(line, r); err != nil {
				if hint := RecordHint(line); hint != "" && r.Line() == 1 && isDataError(err) {
					return DataError(r.Errorf("%s", hint))
				}
				return err
			}
		}
	})
}

// WriteError classifies an error from writing the output: a closed pipe
// stays itself (Finish turns it into success), anything else is an I/O
// error.
func WriteError(err error) error {
	if errors.Is(err, jsonl.ErrClosedPipe) {
		return err
	}
	return IOError(fmt.Errorf("writing output: %w", err))
}

// Notef writes a message line to w (stderr). On a terminal it starts by
// clearing the line: in a pipeline, trace-extract's progress line may be on
// it, and the message would run into it.
func Notef(w io.Writer, format string, args ...any) {
	if progress.IsTerminal(w) {
		io.WriteString(w, "\r\033[K")
	}
	fmt.Fprintf(w, format, args...)
}
