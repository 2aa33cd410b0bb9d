// Command trace-classify tags each record with agent_type and priority. See
// `trace-classify --help`.
package main

import "agenttrace/pkg/cli"

func main() { cli.Main(cli.Classify) }
