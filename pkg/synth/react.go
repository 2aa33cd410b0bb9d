package synth

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"

	"github.com/agent-trace/agent-trace/pkg/record"
)

// ReActOptions shape a NAT trace of ReAct agents as real runs look.
type ReActOptions struct {
	Requests int    // requests (agent runs)
	MinSteps int    // LLM steps of a run, from MinSteps to MaxSteps
	MaxSteps int    //
	Seed     uint64 // random seed; the same options give the same bytes
}

// WriteReAct writes a NAT profiler trace whose requests look like real
// ReAct runs, not like a generator tuned to a fast path: WORKFLOW and
// FUNCTION events around the steps; each step an LLM call over the whole
// conversation (a 2-3 KB system prompt, the question, every thought and
// observation so far), streamed as LLM_NEW_TOKEN chunks, then a tool call
// (TOOL_START/TOOL_END) whose output, 0.2-1.8 KB, becomes the next
// observation; now and then two or three parallel side calls (a checker, a
// summariser) that share only the system prompt and whose steps
// interleave; some text in other scripts.
func WriteReAct(w io.Writer, o ReActOptions) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0xa0761d6478bd642f))
	t := 1744051400.0
	ev := func(first *bool, format string, args ...any) {
		if !*first {
			bw.WriteString(",\n")
		}
		*first = false
		bw.WriteString("      ")
		fmt.Fprintf(bw, format, args...)
	}
	model := "meta/llama-3.3-70b-instruct"
	bw.WriteString("[\n")
	for r := 0; r < o.Requests; r++ {
		if r > 0 {
			bw.WriteString(",\n")
		}
		fmt.Fprintf(bw, "  {\n    \"request_number\": %d,\n    \"intermediate_steps\": [\n", r)
		first := true
		anc := `"function_ancestry": {"function_id": "wf-%d", "function_name": "react_agent", "parent_id": "root", "parent_name": "root"}`
		ev(&first, `{"parent_id": "root", `+anc+`, "payload": {"event_type": "WORKFLOW_START", "event_timestamp": %.6f, "name": "react_agent", "UUID": "wf-%d"}}`, r, t, r)
		system := "You are a research agent. Use the tools to answer. Think step by step, then act.\n" + text(rng, 2000+rng.IntN(1000)) + "\nTools: web_search, calculator, read_page."
		history := []string{"Question: " + text(rng, 150) + "?"}
		roles := []string{"user"}
		steps := o.MinSteps + rng.IntN(o.MaxSteps-o.MinSteps+1)
		for s := 0; s < steps; s++ {
			fid := fmt.Sprintf("fn-%d-%d", r, s)
			ev(&first, `{"parent_id": "wf-%d", "function_ancestry": {"function_id": "%s", "function_name": "react_step", "parent_id": "wf-%d", "parent_name": "react_agent"}, "payload": {"event_type": "FUNCTION_START", "event_timestamp": %.6f, "name": "react_step", "UUID": "%s"}}`, r, fid, r, t, fid)
			calls := [][]string{append([]string{system}, history...)}
			callRoles := [][]string{append([]string{"system"}, roles...)}
			if rng.IntN(6) == 0 { // parallel side calls: the system prompt and a short task
				for k := 0; k < 2+rng.IntN(2); k++ {
					calls = append(calls, []string{system, "Check this claim: " + text(rng, 300)})
					callRoles = append(callRoles, []string{"system", "user"})
				}
			}
			// Starts first, then the ends: the side calls run at once.
			uuids := make([]string, len(calls))
			for i := range calls {
				uuids[i] = fmt.Sprintf("llm-%d-%d-%d", r, s, i)
				var in strings.Builder
				for k, m := range calls[i] {
					if k > 0 {
						in.WriteString(", ")
					}
					fmt.Fprintf(&in, `{"role": "%s", "content": %s}`, callRoles[i][k], record.AppendString(nil, m))
				}
				ev(&first, `{"parent_id": "%s", "function_ancestry": {"function_id": "%s", "function_name": "react_step", "parent_id": "wf-%d", "parent_name": "react_agent"}, "payload": {"event_type": "LLM_START", "event_timestamp": %.6f, "name": "%s", "UUID": "%s", "metadata": {"chat_inputs": [%s], "chat_responses": null}, "data": {"input": %s, "output": null}, "usage_info": {"token_usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}}}`,
					fid, fid, r, t, model, uuids[i], in.String(), record.AppendString(nil, calls[i][len(calls[i])-1]))
				t += 0.05
			}
			thought := "Thought: " + text(rng, 150+rng.IntN(300)) + "\nAction: web_search\nAction Input: " + text(rng, 40)
			for i := range calls {
				prompt := 0
				for _, m := range calls[i] {
					prompt += len(m) / 4
				}
				// Streamed chunks report cumulative usage, and LLM_END the
				// sum over the chunks (the LangChain/NIM quirk the README
				// describes): --usage stream finds the true counts.
				out := 40 + rng.IntN(200)
				chunks := 5 + rng.IntN(20)
				sumPrompt, sumOut := 0, 0
				for c := 0; c < chunks; c++ {
					done := out * (c + 1) / chunks
					sumPrompt, sumOut = sumPrompt+prompt, sumOut+done
					ev(&first, `{"parent_id": "%s", "payload": {"event_type": "LLM_NEW_TOKEN", "event_timestamp": %.6f, "UUID": "%s", "data": {"chunk": %s}, "usage_info": {"token_usage": {"prompt_tokens": %d, "completion_tokens": %d, "total_tokens": %d}}}}`,
						fid, t, uuids[i], record.AppendString(nil, words[rng.IntN(len(words))]+" "), prompt, done, prompt+done)
					t += 0.02
				}
				ev(&first, `{"parent_id": "%s", "payload": {"event_type": "LLM_END", "event_timestamp": %.6f, "name": "%s", "UUID": "%s", "metadata": {"chat_responses": [{"text": %s}]}, "usage_info": {"token_usage": {"prompt_tokens": %d, "completion_tokens": %d, "total_tokens": %d}}}}`,
					fid, t, model, uuids[i], record.AppendString(nil, thought[:min(len(thought), 200)]), sumPrompt, sumOut, sumPrompt+sumOut)
				t += 0.1
			}
			tool := fmt.Sprintf("tool-%d-%d", r, s)
			observation := text(rng, 200+rng.IntN(1600))
			if rng.IntN(5) == 0 {
				observation += " " + strings.Repeat("東京の天気 データ分析 модель данных ", 1+rng.IntN(20))
			}
			ev(&first, `{"parent_id": "%s", "payload": {"event_type": "TOOL_START", "event_timestamp": %.6f, "name": "web_search", "UUID": "%s", "data": {"input": %s}}}`, fid, t, tool, record.AppendString(nil, text(rng, 40)))
			t += 0.5 + rng.Float64()
			ev(&first, `{"parent_id": "%s", "payload": {"event_type": "TOOL_END", "event_timestamp": %.6f, "name": "web_search", "UUID": "%s", "data": {"output": %s}}}`, fid, t, tool, record.AppendString(nil, observation))
			ev(&first, `{"parent_id": "wf-%d", "payload": {"event_type": "FUNCTION_END", "event_timestamp": %.6f, "name": "react_step", "UUID": "%s"}}`, r, t, fid)
			history = append(history, thought, "Observation: "+observation)
			roles = append(roles, "assistant", "user")
			t += 0.05
		}
		ev(&first, `{"parent_id": "root", "payload": {"event_type": "WORKFLOW_END", "event_timestamp": %.6f, "name": "react_agent", "UUID": "wf-%d"}}`, t, r)
		bw.WriteString("\n    ]\n  }")
		t += 2
	}
	bw.WriteString("\n]\n")
	return bw.Flush()
}
