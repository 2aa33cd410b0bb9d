// Command gentrace writes a synthetic, deterministic NAT profiler trace (or,
// with -format telemetry, a telemetry JSONL trace) to stdout, for
// benchmarks (scripts/bench) and load tests.
//
//	go run ./scripts/gentrace -requests 40 -calls 50 -turn 2400 > trace.json
//	go run ./scripts/gentrace -format react -requests 20 > react.json
//	go run ./scripts/gentrace -format telemetry -requests 300 -workers 3 -calls 12 > telemetry.jsonl
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/agent-trace/agent-trace/pkg/synth"
)

func main() {
	var o synth.Options
	flag.IntVar(&o.Requests, "requests", 40, "requests (sessions)")
	flag.IntVar(&o.CallsPerReq, "calls", 50, "LLM calls per request")
	flag.IntVar(&o.TurnBytes, "turn", 2400, "bytes of text each call adds to the conversation")
	flag.IntVar(&o.NewTokenSpam, "new-token-events", 20, "LLM_NEW_TOKEN steps per call")
	flag.BoolVar(&o.EchoInput, "echo-input", true, "repeat the conversation in LLM_START data.input, as NAT traces do")
	seed := flag.Uint64("seed", 1, "random seed")
	format := flag.String("format", "nat", "nat, react (NAT shaped like real ReAct runs) or telemetry")
	workers := flag.Int("workers", 3, "telemetry: sub-agents per session besides the coordinator")
	flag.Parse()
	o.Seed = *seed
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	var err error
	switch *format {
	case "nat":
		err = synth.Write(w, o)
	case "react":
		err = synth.WriteReAct(w, synth.ReActOptions{Requests: o.Requests, MinSteps: 80, MaxSteps: 120, Seed: o.Seed})
	case "telemetry":
		err = synth.WriteTelemetry(w, synth.TelemetryOptions{Sessions: o.Requests, Workers: *workers,
			Calls: o.CallsPerReq, TurnBytes: o.TurnBytes, Seed: o.Seed})
	default:
		fmt.Fprintln(os.Stderr, "gentrace: -format nat, react or telemetry")
		os.Exit(2)
	}
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gentrace:", err)
		os.Exit(3)
	}
}
