// Command trace-hash cuts each record's token ids into prefix blocks and
// writes the final Mooncake row. See `trace-hash --help`.
package main

import (
	"github.com/agent-trace/agent-trace/pkg/cli"
	"github.com/agent-trace/agent-trace/pkg/cli/hashcmd"
)

func main() { cli.Main(hashcmd.Run) }
