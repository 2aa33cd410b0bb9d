package classifycmd

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/agent-trace/agent-trace/pkg/chat"
	"github.com/agent-trace/agent-trace/pkg/classify"
	"github.com/agent-trace/agent-trace/pkg/cli"
	"github.com/agent-trace/agent-trace/pkg/jsonl"
	"github.com/agent-trace/agent-trace/pkg/record"
)

const classifyHelp = `Tag each record with agent_type and priority.

agent_type comes from ordered rules on the call's first system message, first
user message, model and NAT function; the first rule that holds wins. The
built-in rules are the reference converter's:

  system message starts with "You are a Deep Research agent"  deep_coordinator
                             "Gather and synthesize comprehe"  research_worker
                             "For the given task, generate a"  research_planner
                             "Current date and time:"          shallow_agent
  (any other system message)                                   unknown
  no system message, first user message contains
                             "Classify the user message"       classifier
                             "complexity analyzer"             complexity_analyzer

--rules FILE replaces them with your own (YAML or JSON; see the README and
rules/aiq-v2.yaml). priority is kept when the record has one (telemetry's
latency_priority), else MEDIUM. Streams: memory does not grow with input.
Compact records (trace-extract --compact) are read and written compact.`

// ClassifyCmd is the grammar of trace-classify.
type ClassifyCmd struct {
	Files      []string `arg:"" optional:"" name:"FILE" help:"Record files to read (default: standard input)."`
	Rules      string   `placeholder:"FILE" help:"Rules file (YAML or JSON) instead of the built-in rules."`
	By         string   `enum:"rules,function" default:"rules" help:"rules, or function: when no rule matches, use the NAT function name as agent_type."`
	AllowEmpty bool     `help:"Exit 0 when no record is written (by default an empty result is an error, exit 1)."`
	Quiet      bool     `short:"q" help:"Print no summary on stderr."`
}

// Run runs trace-classify with args.
func Run(args []string, s cli.Streams) int {
	return cli.Run("trace-classify", classifyHelp, &ClassifyCmd{}, args, s)
}

// defaultPriority is the reference's priority for calls that have none.
const defaultPriority = "MEDIUM"

// Exec runs trace-classify once its flags are parsed.
func (cmd *ClassifyCmd) Exec(s cli.Streams) error {
	if err := cli.StdoutNotInput(cmd.Files, s.Stdout); err != nil {
		return err
	}
	rules := classify.Seed()
	if cmd.Rules != "" {
		data, err := os.ReadFile(cmd.Rules)
		if err != nil {
			return cli.IOError(err)
		}
		if rules, err = classify.Parse(cmd.Rules, data); err != nil {
			return cli.UsageError(err)
		}
	}
	w := jsonl.NewWriter(s.Stdout)
	counts := map[string]int{}
	var order []string
	var rec record.Record
	var buf []byte
	var sessions cli.SessionTracker
	var recent cli.Recent[chat.Firsts] // what the lines before's messages say
	medium := record.AppendString(nil, defaultPriority)
	// Only the first system and user messages decide: the other contents
	// are skipped, not decoded, as the record is parsed (the messages are
	// read once). A usage-only record has none: the rules see its model
	// and function alone.
	var firsts chat.Firsts
	var firstsErr error // what is wrong with the messages, once the line is valid JSON
	readMessages := func(line []byte, start int) (int, error) {
		f, end, err := chat.ReadFirstsAt(line, start)
		if err != nil {
			// Invalid JSON is said as the record parser says it; valid
			// JSON that is not a messages list is said once the line
			// is read (the last "messages" member wins, as in the
			// record).
			end, serr := record.SkipValue(line, start)
			if serr != nil {
				return 0, serr
			}
			firsts, firstsErr = chat.Firsts{}, err
			return end, nil
		}
		firsts, firstsErr = f, nil
		return end, nil
	}
	err := cli.EachLine(cmd.Files, s.Stdin, func(line []byte, r *jsonl.Reader) error {
		firsts, firstsErr = chat.Firsts{}, nil
		if err := record.ParseWith(line, &rec, "messages", readMessages); err != nil {
			return cli.DataError(r.Errorf("%v", err))
		}
		if firstsErr != nil {
			return cli.DataError(r.Errorf("%v", firstsErr))
		}
		if _, ok := rec.Get("messages"); !ok && !cli.UsageOnly(&rec) {
			return cli.DataError(r.Errorf(`no "messages" field: trace-classify runs before trace-tokenize, on trace-extract's records`))
		}
		sid, _ := rec.Get("session_id")
		samePrev := sessions.Next(sid)
		cur := recent.Next(samePrev)
		shared, err := cli.SharedCount(&rec, "shared_messages")
		if err != nil {
			return cli.DataError(r.Errorf("%v", err))
		}
		if shared > 0 {
			back, err := cli.SharedBack(&rec, "shared_back")
			if err != nil {
				return cli.DataError(r.Errorf("%v", err))
			}
			prev, ok := recent.Back(back)
			switch {
			case !ok && back > 1 && samePrev:
				return cli.DataError(r.Errorf("%v", cli.CompactBackError("shared_back", back, recent.Lines())))
			case !ok:
				return cli.DataError(r.Errorf("%v", cli.CompactError("shared_messages", shared, 0, false)))
			case shared > prev.N:
				return cli.DataError(r.Errorf("%v", cli.CompactErrorBack("shared_messages", shared, back, prev.N)))
			}
			firsts = prev.After(shared, firsts)
		}
		*cur = firsts
		call := classify.Call{System: firsts.System, User: firsts.User}
		if call.Model, _, err = rec.String("model"); err != nil {
			return cli.DataError(r.Errorf("%v", err))
		}
		if call.Function, _, err = rec.String("function"); err != nil {
			return cli.DataError(r.Errorf("%v", err))
		}
		agent, matched := rules.Classify(&call)
		if !matched && cmd.By == "function" && call.Function != "" {
			agent = call.Function
		}
		if counts[agent] == 0 {
			order = append(order, agent)
		}
		counts[agent]++
		rec.SetString("agent_type", agent)
		if v, ok := rec.Get("priority"); !ok || string(v) == "null" {
			rec.Set("priority", medium)
		}
		buf = rec.AppendJSON(buf[:0])
		if err := w.WriteLine(buf); err != nil {
			return cli.WriteError(err)
		}
		return nil
	})
	if ferr := w.Flush(); err == nil && ferr != nil {
		err = cli.WriteError(ferr)
	}
	if err != nil {
		if errors.Is(err, jsonl.ErrClosedPipe) {
			return nil
		}
		return err
	}
	if !cmd.Quiet {
		parts := make([]string, len(order))
		for i, a := range order {
			parts[i] = fmt.Sprintf("%s %d", a, counts[a])
		}
		if len(parts) == 0 {
			parts = []string{"0 records"}
		}
		cli.Notef(s.Stderr, "trace-classify: %s\n", strings.Join(parts, ", "))
	}
	if len(order) == 0 && !cmd.AllowEmpty {
		return cli.NoRecords("the input holds no record")
	}
	return nil
}
