// Command trace-extract reads NAT profiler traces or telemetry JSONL and
// writes one JSON record per LLM call. See `trace-extract --help`.
package main

import "agenttrace/pkg/cli"

func main() { cli.Main(cli.Extract) }
