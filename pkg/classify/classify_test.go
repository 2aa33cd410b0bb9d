package classify

import (
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/agent-trace/agent-trace/pkg/chat"
	"github.com/agent-trace/agent-trace/pkg/fuzzseed"
)

func str(s string) *string { return &s }

func m(role string, content *string) chat.Message { return chat.Message{Role: role, Content: content} }

func TestSeedRulesAndNearMisses(t *testing.T) {
	seed := Seed()
	for _, tc := range []struct {
		name string
		msgs []chat.Message
		want string
	}{
		{"coordinator", []chat.Message{m("system", str("You are a Deep Research agent. Plan."))}, "deep_coordinator"},
		{"worker", []chat.Message{m("system", str("Gather and synthesize comprehensive info"))}, "research_worker"},
		{"planner", []chat.Message{m("system", str("For the given task, generate a plan"))}, "research_planner"},
		{"shallow", []chat.Message{m("system", str("Current date and time: now"))}, "shallow_agent"},
		{"prefix, not contains", []chat.Message{m("system", str("Note: You are a Deep Research agent"))}, "unknown"},
		{"case matters", []chat.Message{m("system", str("you are a deep research agent"))}, "unknown"},
		{"aiq v2 planner is missed by the seed", []chat.Message{m("system", str("You are the Research Planner Subagent. For the given task, generate a plan"))}, "unknown"},
		{"system wins, no fall-through", []chat.Message{m("system", str("Something else")), m("user", str("Classify the user message"))}, "unknown"},
		{"classifier", []chat.Message{m("user", str("Please Classify the user message: hi"))}, "classifier"},
		{"complexity", []chat.Message{m("user", str("You are a complexity analyzer."))}, "complexity_analyzer"},
		{"classifier first", []chat.Message{m("user", str("complexity analyzer; Classify the user message"))}, "classifier"},
		{"empty system falls to user", []chat.Message{m("system", str("")), m("user", str("Classify the user message"))}, "classifier"},
		{"null system falls to user", []chat.Message{m("system", nil), m("user", str("complexity analyzer"))}, "complexity_analyzer"},
		{"first system only", []chat.Message{m("system", str("x")), m("system", str("You are a Deep Research agent"))}, "unknown"},
		{"first user only", []chat.Message{m("user", str("hi")), m("user", str("Classify the user message"))}, "unknown"},
		{"no messages", nil, "unknown"},
		{"assistant only", []chat.Message{m("assistant", str("Classify the user message"))}, "unknown"},
	} {
		call := FromMessages(tc.msgs)
		if got, _ := seed.Classify(&call); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// The shipped testdata/rules/seed.yaml and the built-in rules agree on
// calls built from the rules' own strings, mutated.
func TestSeedFileAgreesWithBuiltins(t *testing.T) {
	data, err := os.ReadFile("../../testdata/rules/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file, err := Parse("seed.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	builtin := Seed()
	pieces := []string{"You are a Deep Research agent", "Gather and synthesize comprehe", "For the given task, generate a",
		"Current date and time:", "Classify the user message", "complexity analyzer", "", " ", "x", "you are", "\n"}
	rng := rand.New(rand.NewPCG(1, 1))
	pick := func() string {
		var b strings.Builder
		for n := rng.IntN(3); n >= 0; n-- {
			p := pieces[rng.IntN(len(pieces))]
			if rng.IntN(4) == 0 && len(p) > 2 {
				p = p[:rng.IntN(len(p))] // a near miss
			}
			b.WriteString(p)
		}
		return b.String()
	}
	seen := map[string]bool{}
	for i := 0; i < 20000; i++ {
		var msgs []chat.Message
		for n := rng.IntN(4); n > 0; n-- {
			role := []string{"system", "user", "assistant"}[rng.IntN(3)]
			var c *string
			if rng.IntN(8) > 0 {
				c = str(pick())
			}
			msgs = append(msgs, chat.Message{Role: role, Content: c})
		}
		call := FromMessages(msgs)
		a, _ := builtin.Classify(&call)
		b, _ := file.Classify(&call)
		if a != b {
			t.Fatalf("%+v: built-in %s, seed.yaml %s", msgs, a, b)
		}
		seen[a] = true
	}
	if len(seen) != 7 {
		t.Errorf("the generated calls reached %d agent types, want all 7", len(seen))
	}
}

func TestAIQv2Rules(t *testing.T) {
	data, err := os.ReadFile("../../rules/aiq-v2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Parse("aiq-v2.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	for sys, want := range map[string]string{
		"You are the Research Planner Subagent. For the given task, generate a plan": "research_planner",
		"For the given task, generate a plan":                                        "research_planner",
		"You are the Research Planner Subagent. Do something else":                   "unknown",
		"You are a Deep Research agent":                                              "deep_coordinator",
	} {
		call := Call{System: sys}
		if got, _ := r.Classify(&call); got != want {
			t.Errorf("%q: %s, want %s", sys, got, want)
		}
	}
}

func TestModelAndFunctionConditions(t *testing.T) {
	r, err := Parse("r.json", []byte(`{"default": "other", "rules": [
		{"agent_type": "gpt-planner", "model": {"contains": "gpt"}, "function": {"regex": "^plan"}},
		{"agent_type": "anon", "function": {"absent": true}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		call Call
		want string
	}{
		{Call{Model: "gpt-4o", Function: "planner"}, "gpt-planner"},
		{Call{Model: "llama", Function: "planner"}, "other"},
		{Call{Model: "llama"}, "anon"},
	} {
		if got, _ := r.Classify(&tc.call); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.call, got, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"rules: [", "r.yaml: "},
		{"default: x\n", `r.yaml: no "rules" list`},
		{"rules:\n  - system: {prefix: a}\n", `r.yaml: rule 1: want "agent_type"`},
		{"rules:\n  - agent_type: a\n    sytem: {prefix: a}\n", `r.yaml: rule 1 (a): unknown field "sytem"`},
		{"rules:\n  - agent_type: a\n    system: {startswith: a}\n", `r.yaml: rule 1 (a): system: unknown test "startswith"`},
		{"rules:\n  - agent_type: a\n    user: {regex: '('}\n", `r.yaml: rule 1 (a): user: bad regex`},
		{"rules:\n  - agent_type: a\n    user: {absent: yes please}\n", `absent takes true or false`},
		{"rules:\n  - agent_type: a\n    user: {prefix: a, contains: b}\n", `want one test`},
		{"rules:\n  - agent_type: a\n", `rule 1 (a): no condition`},
		{"rules: []\nextra: 1\n", `field extra not found`},
	} {
		_, err := Parse("r.yaml", []byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want %q", tc.in, err, tc.want)
		}
	}
}

// FuzzRulesParse: any file gives rules or an error naming the file, never a
// panic; rules that parse classify any call.
func FuzzRulesParse(f *testing.F) {
	fuzzseed.Add(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse("r.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "r.yaml: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		call := Call{System: string(data), User: "u", Model: "m", Function: "f"}
		if got, _ := r.Classify(&call); got == "" && r.Default != "" {
			t.Fatalf("empty agent type from %q", data)
		}
	})
}
