// Command trace-classify tags each record with agent_type and priority. See
// `trace-classify --help`.
package main

import (
	"agenttrace/pkg/cli"
	"agenttrace/pkg/cli/classifycmd"
)

func main() { cli.Main(classifycmd.Run) }
