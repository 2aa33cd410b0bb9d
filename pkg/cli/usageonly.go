package cli

import "github.com/agent-trace/agent-trace/pkg/record"

// UsageOnly reports whether a record is a usage-only one: an LLM call whose
// trace kept no prompt text (OpenTelemetry with content capture off, read
// with trace-extract --uncaptured usage). It has input_length from the
// reported usage and no messages; trace-tokenize passes it on as it is and
// trace-hash writes its row without hash_ids.
func UsageOnly(rec *record.Record) bool {
	v, ok := rec.Get("usage_only")
	return ok && string(v) == "true"
}
