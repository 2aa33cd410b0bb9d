// Command trace-tokenize adds the token ids of each record's prompt, exactly
// as the Hugging Face tokenizer gives them. See `trace-tokenize --help`.
package main

import (
	"github.com/agent-trace/agent-trace/pkg/cli"
	"github.com/agent-trace/agent-trace/pkg/cli/tokenizecmd"
)

func main() { cli.MainParallel(tokenizecmd.Run) }
