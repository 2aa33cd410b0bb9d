// Package synth writes synthetic, deterministic NAT profiler traces for
// tests and benchmarks: requests whose LLM calls repeat a growing
// conversation, as agent workloads do.
package synth

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"

	"github.com/agent-trace/agent-trace/pkg/record"
)

// Options shape a synthetic NAT trace.
type Options struct {
	Requests     int    // number of requests (sessions)
	CallsPerReq  int    // LLM calls per request
	TurnBytes    int    // approximate bytes of text added per call
	Seed         uint64 // random seed; the same options give the same bytes
	NewTokenSpam int    // LLM_NEW_TOKEN steps per call (streaming traces)
	EchoInput    bool   // repeat the call's last message in LLM_START data.input, as NAT does
}

var words = strings.Fields(`the a of to and in is for on with that by this be are from as at or it an
was we can not which have has you agent model tool search result query answer research cache prefix token
latency throughput request response server serving benchmark trace session block hash context window
GPU memory batch schedule decode prefill attention layer kernel compute value key store vector document
retrieve summarize plan step observation action thought final question data analysis report source
1 2 3 10 42 100 2025 3.14 0.5 {"k": "v"} [1, 2] def return if else for while import print()
résumé naïve café 東京 数据 модель — … ✓ 🙂`)

// Write writes the trace as a pretty-printed JSON array, as NAT writes it.
func Write(w io.Writer, o Options) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	bw.WriteString("[\n")
	t := 1744051400.0
	for r := 0; r < o.Requests; r++ {
		if r > 0 {
			bw.WriteString(",\n")
		}
		fmt.Fprintf(bw, "  {\n    \"request_number\": %d,\n    \"intermediate_steps\": [\n", r)
		var history []string
		system := "You are a research agent #" + fmt.Sprint(r%7) + ". " + text(rng, o.TurnBytes)
		for c := 0; c < o.CallsPerReq; c++ {
			history = append(history, text(rng, o.TurnBytes))
			uuid := fmt.Sprintf("%08x-0000-4000-8000-%012x", r, c)
			if c > 0 {
				bw.WriteString(",\n")
			}
			// LLM_START with the whole conversation so far.
			fmt.Fprintf(bw, `      {"parent_id": "root", "function_ancestry": {"function_id": "f%d", "function_name": "agent_%d", "parent_id": null, "parent_name": null}, "payload": {"event_type": "LLM_START", "event_timestamp": %.6f, "name": "meta/llama-3.3-70b-instruct", "UUID": "%s", "metadata": {"chat_inputs": [`, c%3, c%3, t, uuid)
			msg(bw, "system", system)
			for i, h := range history {
				bw.WriteString(", ")
				role := "user"
				if i%2 == 1 {
					role = "assistant"
				}
				msg(bw, role, h)
			}
			bw.WriteString("], \"chat_responses\": null}")
			if o.EchoInput {
				bw.WriteString(", \"data\": {\"input\": ")
				bw.Write(record.AppendString(nil, strings.Join(history, "\n")))
				bw.WriteString(", \"output\": null}")
			}
			bw.WriteString(", \"usage_info\": {\"token_usage\": {\"prompt_tokens\": 0, \"completion_tokens\": 0, \"total_tokens\": 0}}}}")
			t += 0.25
			for k := 0; k < o.NewTokenSpam; k++ {
				fmt.Fprintf(bw, ",\n      {\"parent_id\": \"root\", \"payload\": {\"event_type\": \"LLM_NEW_TOKEN\", \"event_timestamp\": %.6f, \"UUID\": \"%s\", \"data\": {\"chunk\": %s}}}", t, uuid, record.AppendString(nil, words[rng.IntN(len(words))]))
				t += 0.01
			}
			comp := 20 + rng.IntN(200)
			fmt.Fprintf(bw, ",\n      {\"parent_id\": \"root\", \"payload\": {\"event_type\": \"LLM_END\", \"event_timestamp\": %.6f, \"UUID\": \"%s\", \"usage_info\": {\"token_usage\": {\"prompt_tokens\": %d, \"completion_tokens\": %d, \"total_tokens\": %d}}}}", t, uuid, len(history)*o.TurnBytes/4, comp, len(history)*o.TurnBytes/4+comp)
			t += 1.5
		}
		bw.WriteString("\n    ]\n  }")
	}
	bw.WriteString("\n]\n")
	return bw.Flush()
}

func msg(w *bufio.Writer, role, content string) {
	w.WriteString(`{"role": "`)
	w.WriteString(role)
	w.WriteString(`", "content": `)
	w.Write(record.AppendString(nil, content))
	w.WriteString("}")
}

// text returns about n bytes of word salad with punctuation and newlines.
func text(rng *rand.Rand, n int) string {
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(words[rng.IntN(len(words))])
		switch rng.IntN(12) {
		case 0:
			b.WriteString(".\n")
		case 1:
			b.WriteString(", ")
		case 2:
			b.WriteString("  ")
		default:
			b.WriteByte(' ')
		}
	}
	return b.String()
}
