package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/alecthomas/kong"
)

// writeMan writes the manual page (man(7) troff) of command name: its
// description as --help gives it, its arguments and every flag with its
// values and default, the exit statuses, and the other tools.
func writeMan(w io.Writer, name string, app *kong.Application) error {
	var b strings.Builder
	desc := app.Help
	summary, rest, _ := strings.Cut(desc, "\n")
	fmt.Fprintf(&b, ".TH %s 1 \"\" \"agent-trace %s\" \"agent-trace\"\n", strings.ToUpper(name), roffEscape(Version()))
	fmt.Fprintf(&b, ".SH NAME\n%s \\- %s\n", name, roffText(strings.TrimSuffix(summary, ".")))
	fmt.Fprintf(&b, ".SH SYNOPSIS\n.B %s\n", name)
	for _, p := range app.Positional {
		fmt.Fprintf(&b, "[\\fI%s\\fR ...]\n", roffEscape(p.Name))
	}
	b.WriteString("[\\fIflags\\fR]\n.SH DESCRIPTION\n")
	for _, para := range strings.Split(strings.TrimSpace(rest), "\n\n") {
		b.WriteString(".PP\n")
		b.WriteString(roffText(strings.Join(strings.Fields(para), " ")))
		b.WriteByte('\n')
	}
	if len(app.Positional) > 0 {
		b.WriteString(".SH ARGUMENTS\n")
		for _, p := range app.Positional {
			fmt.Fprintf(&b, ".TP\n.I %s\n%s\n", roffEscape(p.Name), roffText(p.Help))
		}
	}
	b.WriteString(".SH OPTIONS\n")
	for _, f := range app.Flags {
		if f.Hidden {
			continue
		}
		b.WriteString(".TP\n")
		if f.Short != 0 {
			fmt.Fprintf(&b, "\\fB\\-%c\\fR, ", f.Short)
		}
		fmt.Fprintf(&b, "\\fB\\-\\-%s\\fR", roffEscape(f.Name))
		if !f.IsBool() {
			ph := f.PlaceHolder
			if ph == "" {
				ph = strings.ToUpper(f.Name)
			}
			fmt.Fprintf(&b, " \\fI%s\\fR", roffEscape(ph))
		}
		b.WriteByte('\n')
		help := f.Help
		if f.Enum != "" {
			help += " One of: " + strings.Join(splitList(f.Enum), ", ") + "."
		}
		if f.HasDefault && f.Default != "" && !f.IsBool() {
			help += " Default: " + f.Default + "."
		}
		b.WriteString(roffText(help))
		b.WriteByte('\n')
	}
	b.WriteString(".TP\n\\fB\\-\\-version\\fR\nWhich build this is.\n")
	b.WriteString(".TP\n\\fB\\-\\-completion\\fR \\fISHELL\\fR\nWrite a completion script for bash, zsh or fish.\n")
	b.WriteString(".TP\n\\fB\\-\\-man\\fR\nWrite this manual page.\n")
	b.WriteString(".SH EXIT STATUS\n0 success (also when the reader closes the pipe), 1 bad input data or no record written, 2 usage error, 3 I/O or environment failure; a signal stops a run with 128 plus its number.\n")
	b.WriteString(".SH EXAMPLE\n.nf\ntrace\\-extract trace.json | trace\\-classify | trace\\-tokenize | trace\\-hash > out.jsonl\n.fi\n")
	b.WriteString(".SH SEE ALSO\n")
	var others []string
	for _, o := range []string{"trace-extract", "trace-classify", "trace-tokenize", "trace-hash"} {
		if o != name {
			others = append(others, "\\fB"+roffEscape(o)+"\\fR(1)")
		}
	}
	b.WriteString(strings.Join(others, ", ") + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// roffEscape escapes the characters troff reads specially in a word.
func roffEscape(s string) string {
	return strings.NewReplacer(`\`, `\e`, `-`, `\-`).Replace(s)
}

// roffText is roffEscape for running text: a line may not start with a
// dot or a quote, which troff takes for a request.
func roffText(s string) string {
	s = roffEscape(s)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			lines[i] = `\&` + l
		}
	}
	return strings.Join(lines, "\n")
}
