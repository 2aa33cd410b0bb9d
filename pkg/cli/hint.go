package cli

import (
	"bytes"
)

// Kind names what a file that is not what a command reads looks like, from
// its first bytes: "nat" (a JSON array, as NAT profiler traces are),
// "telemetry" (an event object with "event_type"), or "". (Compressed
// input is decompressed before anyone looks at it.)
func Kind(head []byte) string {
	head = bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	switch {
	case bytes.HasPrefix(head, []byte("[")):
		return "nat"
	case bytes.HasPrefix(head, []byte("{")) && bytes.Contains(head, []byte(`"event_type"`)) &&
		(bytes.Contains(head, []byte(`"request_payload"`)) || bytes.Contains(head, []byte(`"llm_call"`)) || bytes.Contains(head, []byte(`"tool_call"`))):
		return "telemetry"
	}
	return ""
}

// RecordHint says what an input whose first line a record reader
// (trace-classify, trace-tokenize, trace-hash) could not read is, when it
// is a raw trace; "" when it looks like nothing known.
func RecordHint(line []byte) string {
	switch Kind(line) {
	case "nat":
		return "this is a NAT profiler trace, not trace-extract's records: run trace-extract on it first (trace-extract FILE | ...)"
	case "telemetry":
		return "this is telemetry JSONL, not trace-extract's records: run trace-extract on it first (trace-extract FILE | ...)"
	}
	return ""
}

// TraceHint says what an input trace-extract could not read as format
// (nat or telemetry) is, when it is the other format; "" otherwise.
func TraceHint(head []byte, format string) string {
	switch k := Kind(head); {
	case k == "telemetry" && format == "nat":
		return "this is telemetry JSONL, not a NAT trace: read it with --format telemetry (or auto), or scripts/telemetry-to-mooncake"
	case k == "nat" && format == "telemetry":
		return "this is a NAT profiler trace (a JSON array), not telemetry: read it with --format nat (or auto), or scripts/nat-to-mooncake"
	}
	return ""
}
