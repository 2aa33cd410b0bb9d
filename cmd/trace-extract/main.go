// Command trace-extract reads NAT profiler traces or telemetry JSONL and
// writes one JSON record per LLM call. See `trace-extract --help`.
package main

import (
	"agenttrace/pkg/cli"
	"agenttrace/pkg/cli/extractcmd"
)

func main() { cli.Main(extractcmd.Run) }
