// Command trace-hash cuts each record's token ids into prefix blocks and
// writes the final Mooncake row. See `trace-hash --help`.
package main

import "agenttrace/pkg/cli"

func main() { cli.Main(cli.Hash) }
