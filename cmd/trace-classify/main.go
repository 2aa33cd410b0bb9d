// Command trace-classify tags each record with agent_type and priority. See
// `trace-classify --help`.
package main

import (
	"github.com/agent-trace/agent-trace/pkg/cli"
	"github.com/agent-trace/agent-trace/pkg/cli/classifycmd"
)

func main() { cli.Main(classifycmd.Run) }
