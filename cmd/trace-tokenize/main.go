// Command trace-tokenize adds the token ids of each record's prompt, exactly
// as the Hugging Face tokenizer gives them. See `trace-tokenize --help`.
package main

import (
	"agenttrace/pkg/cli"
	"agenttrace/pkg/cli/tokenizecmd"
)

func main() { cli.MainParallel(tokenizecmd.Run) }
