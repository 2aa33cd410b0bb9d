package llama3

import "agenttrace/pkg/tokenize"

var classDiffers = tokenize.NewerThanGo
