// Package classify tags LLM calls with an agent type, by ordered rules on
// the call's messages, model and NAT function: the first rule whose
// conditions all hold names the agent; when none does, the default.
//
// A rules file (YAML or JSON) looks like this:
//
//	default: unknown          # agent_type when no rule matches
//	rules:
//	  - agent_type: deep_coordinator
//	    system: {prefix: "You are a Deep Research agent"}
//	  - agent_type: classifier
//	    system: {absent: true}
//	    user: {contains: "Classify the user message"}
//	  - agent_type: planner
//	    system: {regex: "(?i)research planner"}
//	    model: {contains: "gpt"}
//
// The fields a condition can look at: system (the content of the first
// system message), user (the content of the first user message), model, and
// function (the NAT function that made the call). A condition holds one test:
// prefix, contains, regex (Go RE2 syntax), or absent (true: the field is
// missing or empty; false: it is present and not empty).
package classify

import (
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/agent-trace/agent-trace/pkg/chat"
)

// Call is what the rules look at.
type Call struct {
	System   string // content of the first system message ("" when none)
	User     string // content of the first user message ("" when none)
	Model    string
	Function string
}

// FromMessages fills System and User from normalised messages: the first
// message of each role, as the reference takes them.
func FromMessages(msgs []chat.Message) Call {
	var c Call
	sys, user := false, false
	for _, m := range msgs {
		switch {
		case m.Role == "system" && !sys:
			sys = true
			if m.Content != nil {
				c.System = *m.Content
			}
		case m.Role == "user" && !user:
			user = true
			if m.Content != nil {
				c.User = *m.Content
			}
		}
	}
	return c
}

// Rules is an ordered rule list with a default.
type Rules struct {
	Default string
	rules   []rule
}

type rule struct {
	agent string
	conds []cond
}

type cond struct {
	field string // system, user, model, function
	test  string // prefix, contains, regex, absent
	value string
	re    *regexp.Regexp
	want  bool // for absent
}

func (c *cond) holds(call *Call) bool {
	var v string
	switch c.field {
	case "system":
		v = call.System
	case "user":
		v = call.User
	case "model":
		v = call.Model
	case "function":
		v = call.Function
	}
	switch c.test {
	case "prefix":
		return strings.HasPrefix(v, c.value)
	case "contains":
		return strings.Contains(v, c.value)
	case "regex":
		return c.re.MatchString(v)
	}
	return (v == "") == c.want // absent
}

// Classify returns the agent type of call and whether a rule matched.
func (r *Rules) Classify(call *Call) (string, bool) {
	for i := range r.rules {
		ok := true
		for j := range r.rules[i].conds {
			if !r.rules[i].conds[j].holds(call) {
				ok = false
				break
			}
		}
		if ok {
			return r.rules[i].agent, true
		}
	}
	return r.Default, false
}

// Seed returns the reference converter's rules (convert_telemetry.py): a
// call with a system message is classified by its prefix alone (no
// fall-through to the user message); a call without one by what its first
// user message contains. testdata/rules/seed.yaml says the same as a file.
func Seed() *Rules {
	r := &Rules{Default: "unknown"}
	for _, p := range [][2]string{
		{"deep_coordinator", "You are a Deep Research agent"},
		{"research_worker", "Gather and synthesize comprehe"},
		{"research_planner", "For the given task, generate a"},
		{"shallow_agent", "Current date and time:"},
	} {
		r.rules = append(r.rules, rule{agent: p[0], conds: []cond{{field: "system", test: "prefix", value: p[1]}}})
	}
	for _, p := range [][2]string{
		{"classifier", "Classify the user message"},
		{"complexity_analyzer", "complexity analyzer"},
	} {
		r.rules = append(r.rules, rule{agent: p[0], conds: []cond{
			{field: "system", test: "absent", want: true},
			{field: "user", test: "contains", value: p[1]},
		}})
	}
	return r
}

var fields = map[string]bool{"system": true, "user": true, "model": true, "function": true}
var fieldOrder = []string{"system", "user", "model", "function"}
var tests = map[string]bool{"prefix": true, "contains": true, "regex": true, "absent": true}

// Parse reads a rules file (YAML, or JSON, which is YAML). Errors name the
// file, the rule and the field.
func Parse(name string, data []byte) (*Rules, error) {
	var doc struct {
		Default *string          `yaml:"default"`
		Rules   []map[string]any `yaml:"rules"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %v", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if doc.Rules == nil {
		return nil, fmt.Errorf("%s: no \"rules\" list", name)
	}
	r := &Rules{Default: "unknown"}
	if doc.Default != nil {
		r.Default = *doc.Default
	}
	for i, m := range doc.Rules {
		where := fmt.Sprintf("%s: rule %d", name, i+1)
		agent, ok := m["agent_type"].(string)
		if !ok || agent == "" {
			return nil, fmt.Errorf("%s: want \"agent_type\": a non-empty string", where)
		}
		where += fmt.Sprintf(" (%s)", agent)
		rl := rule{agent: agent}
		for field := range m {
			if field != "agent_type" && !fields[field] {
				return nil, fmt.Errorf("%s: unknown field %q (want system, user, model or function)", where, field)
			}
		}
		for _, field := range fieldOrder {
			v, present := m[field]
			if !present {
				continue
			}
			tm, ok := v.(map[string]any)
			if !ok || len(tm) != 1 {
				return nil, fmt.Errorf("%s: %s: want one test, as {prefix: ...}, {contains: ...}, {regex: ...} or {absent: true}", where, field)
			}
			for test, tv := range tm {
				if !tests[test] {
					return nil, fmt.Errorf("%s: %s: unknown test %q (want prefix, contains, regex or absent)", where, field, test)
				}
				c := cond{field: field, test: test}
				if test == "absent" {
					b, ok := tv.(bool)
					if !ok {
						return nil, fmt.Errorf("%s: %s: absent takes true or false", where, field)
					}
					c.want = b
				} else {
					s, ok := tv.(string)
					if !ok {
						return nil, fmt.Errorf("%s: %s: %s takes a string", where, field, test)
					}
					c.value = s
					if test == "regex" {
						re, err := regexp.Compile(s)
						if err != nil {
							return nil, fmt.Errorf("%s: %s: bad regex: %v", where, field, err)
						}
						c.re = re
					}
				}
				rl.conds = append(rl.conds, c)
			}
		}
		if len(rl.conds) == 0 {
			return nil, fmt.Errorf("%s: no condition (a rule needs system, user, model or function)", where)
		}
		r.rules = append(r.rules, rl)
	}
	return r, nil
}
