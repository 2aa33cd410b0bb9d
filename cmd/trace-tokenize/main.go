// Command trace-tokenize adds the token ids of each record's prompt, exactly
// as the Hugging Face tokenizer gives them. See `trace-tokenize --help`.
package main

import "agenttrace/pkg/cli"

func main() { cli.MainParallel(cli.Tokenize) }
