package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"reflect"

	"github.com/alecthomas/kong"
)

// completionFlag is what a completion script needs of a flag.
type completionFlag struct {
	name   string   // without the dashes
	short  rune     // 0 when none
	help   string   // first sentence
	value  bool     // takes a value
	values []string // the values it takes (an enum, or a complete:"..." tag)
	files  bool     // its value may be a file name (a string flag)
}

// completionFlags lists the flags of a kong model, --help and --version
// included, sorted.
func completionFlags(app *kong.Application) []completionFlag {
	var out []completionFlag
	for _, f := range app.Flags {
		if f.Hidden {
			continue
		}
		c := completionFlag{name: f.Name, short: f.Short, help: firstSentence(f.Help), value: !f.IsBool()}
		switch f.Target.Kind() {
		case reflect.String, reflect.Slice:
			// A value that may name a file: a string flag without a list of
			// values, or one whose placeholder says PATH, FILE or DIR.
			ph := strings.ToUpper(f.PlaceHolder)
			c.files = f.Enum == "" && (f.Tag.Get("complete") == "" ||
				strings.Contains(ph, "PATH") || strings.Contains(ph, "FILE") || strings.Contains(ph, "DIR"))
		}
		if f.Enum != "" {
			c.values = splitList(f.Enum)
		} else if v := f.Tag.Get("complete"); v != "" {
			c.values = splitList(v)
		}
		out = append(out, c)
	}
	out = append(out, completionFlag{name: "version", help: "Which build this is."})
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func firstSentence(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSuffix(s, ".")
	return strings.NewReplacer(`'`, ``, `"`, ``, `[`, `(`, `]`, `)`, `:`, ` `, "`", ``, `$`, ``).Replace(s)
}

// writeCompletion writes the completion script of command name for shell
// (bash, zsh or fish): flag names, enum values, built-in names where a tag
// lists them, and file names for the other values and the arguments.
func writeCompletion(w io.Writer, name, shell string, app *kong.Application) error {
	flags := completionFlags(app)
	fn := "_" + strings.ReplaceAll(name, "-", "_")
	switch shell {
	case "bash":
		var names []string
		for _, f := range flags {
			names = append(names, "--"+f.name)
			if f.short != 0 {
				names = append(names, "-"+string(f.short))
			}
		}
		fmt.Fprintf(w, "# bash completion for %s (%s --completion bash)\n%s() {\n", name, name, fn)
		fmt.Fprintf(w, "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n  case \"$prev\" in\n")
		for _, f := range flags {
			if !f.value {
				continue
			}
			pat := "--" + f.name
			if f.short != 0 {
				pat += "|-" + string(f.short)
			}
			var parts []string
			if len(f.values) > 0 {
				parts = append(parts, fmt.Sprintf("$(compgen -W %q -- \"$cur\")", strings.Join(f.values, " ")))
			}
			if f.files {
				parts = append(parts, "$(compgen -f -- \"$cur\")")
			}
			fmt.Fprintf(w, "    %s) COMPREPLY=(%s); return ;;\n", pat, strings.Join(parts, " "))
		}
		fmt.Fprintf(w, "  esac\n  if [[ $cur == -* ]]; then\n    COMPREPLY=($(compgen -W %q -- \"$cur\"))\n  else\n    COMPREPLY=($(compgen -f -- \"$cur\"))\n  fi\n}\n", strings.Join(names, " "))
		fmt.Fprintf(w, "complete -o filenames -F %s %s\n", fn, name)
	case "zsh":
		fmt.Fprintf(w, "#compdef %s\n# zsh completion for %s (%s --completion zsh)\n_arguments -s \\\n", name, name, name)
		for _, f := range flags {
			spec := fmt.Sprintf("--%s[%s]", f.name, f.help)
			if f.short != 0 {
				spec = fmt.Sprintf("(-%c --%s)'{-%c,--%s}'[%s]", f.short, f.name, f.short, f.name, f.help)
			}
			switch {
			case !f.value:
			case len(f.values) > 0 && f.files:
				spec += fmt.Sprintf(":%s:{_alternative 'names:name:(%s)' 'files:file:_files'}", f.name, strings.Join(f.values, " "))
			case len(f.values) > 0:
				spec += fmt.Sprintf(":%s:(%s)", f.name, strings.Join(f.values, " "))
			case f.files:
				spec += fmt.Sprintf(":%s:_files", f.name)
			default:
				spec += fmt.Sprintf(":%s: ", f.name)
			}
			fmt.Fprintf(w, "  '%s' \\\n", spec)
		}
		fmt.Fprintf(w, "  '*:file:_files'\n")
	case "fish":
		fmt.Fprintf(w, "# fish completion for %s (%s --completion fish)\n", name, name)
		for _, f := range flags {
			line := fmt.Sprintf("complete -c %s -l %s", name, f.name)
			if f.short != 0 {
				line += fmt.Sprintf(" -s %c", f.short)
			}
			switch {
			case !f.value:
			case len(f.values) > 0 && f.files:
				line += fmt.Sprintf(" -r -F -a '%s'", strings.Join(f.values, " "))
			case len(f.values) > 0:
				line += fmt.Sprintf(" -x -a '%s'", strings.Join(f.values, " "))
			case f.files:
				line += " -r -F"
			default:
				line += " -x"
			}
			fmt.Fprintf(w, "%s -d '%s'\n", line, f.help)
		}
	default:
		return UsageError(fmt.Errorf("--completion %q: want bash, zsh or fish", shell))
	}
	return nil
}
