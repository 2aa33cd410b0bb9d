// Command trace-hash cuts each record's token ids into prefix blocks and
// writes the final Mooncake row. See `trace-hash --help`.
package main

import (
	"agenttrace/pkg/cli"
	"agenttrace/pkg/cli/hashcmd"
)

func main() { cli.Main(hashcmd.Run) }
