// Command trace-extract reads NAT profiler traces or telemetry JSONL and
// writes one JSON record per LLM call. See `trace-extract --help`.
package main

import (
	"github.com/agent-trace/agent-trace/pkg/cli"
	"github.com/agent-trace/agent-trace/pkg/cli/extractcmd"
)

func main() { cli.Main(extractcmd.Run) }
