package llama3

import "github.com/agent-trace/agent-trace/pkg/tokenize"

var classDiffers = tokenize.NewerThanGo
