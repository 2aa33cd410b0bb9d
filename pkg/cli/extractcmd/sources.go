package extractcmd

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/agent-trace/agent-trace/pkg/cli"
	"github.com/agent-trace/agent-trace/pkg/nat"
	"github.com/agent-trace/agent-trace/pkg/natsteps"
	"github.com/agent-trace/agent-trace/pkg/otel"
	"github.com/agent-trace/agent-trace/pkg/telemetry"
)

// A source is one input format: how to recognise it from the start of an
// input, and how to read it into records. Each format's reading lives in a
// package of its own under pkg/; adding a format is adding that package
// and an entry to sources.
type source struct {
	name string
	// detect reports whether an input is of this format, from its start
	// (from its first byte that is not white space or a byte-order mark;
	// as much as is buffered, at least its first line when it is short).
	detect func(head []byte) bool
	read   func(x *extractor, in cli.Input, r io.Reader) error
}

// sources in the order they are tried: the first whose detect says yes
// reads the input. Telemetry, any JSON object per line, comes last.
var sources = []source{
	{"nat", nat.LooksLikeProfiler, func(x *extractor, in cli.Input, r io.Reader) error { return x.nat(r, in.Name) }},
	{"nat-steps", func(head []byte) bool { return natsteps.LooksLikeSteps(firstLine(head)) },
		func(x *extractor, in cli.Input, r io.Reader) error { return x.natSteps(r, in.Name) }},
	{"otel", func(head []byte) bool { return otel.LooksLikeOTel(head) || otel.LooksLikeProto(head) }, readOTel},
	{"telemetry", telemetry.LooksLikeEvents, func(x *extractor, in cli.Input, r io.Reader) error { return x.telemetry(in, r, in.Name) }},
}

// readOTel reads OTLP/JSON, or OTLP protobuf frames (the Collector's file
// exporter with format proto) turned into OTLP/JSON on the way: then the
// second pass reads the JSON back from a temporary copy.
func readOTel(x *extractor, in cli.Input, r io.Reader) error {
	if br, ok := r.(*bufio.Reader); ok {
		if head, _ := br.Peek(5); otel.LooksLikeProto(head) {
			return x.otelTraces(cli.Input{R: in.R, Name: in.Name, Size: in.Size}, otel.ProtoToJSON(br, in.Name), in.Name)
		}
	}
	return x.otelTraces(in, r, in.Name)
}

// sourceNamed returns the source of a --format value.
func sourceNamed(name string) source {
	for _, s := range sources {
		if s.name == name {
			return s
		}
	}
	panic("no source " + name) // kong's enum admits only the names above
}

// firstLine returns b up to its first line end.
func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i]
	}
	return b
}

// sniff tells the format of an input from its start.
func sniff(br *bufio.Reader) (string, error) {
	var names []string
	for _, s := range sources {
		names = append(names, s.name)
	}
	for i := 0; ; i++ {
		b, err := br.Peek(i + 1)
		if err != nil {
			if err != io.EOF {
				return "", cli.IOError(err) // a folder as stdin, a read error
			}
			return "", fmt.Errorf("empty input: want one of the formats %s", strings.Join(names, ", "))
		}
		switch c := b[i]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			continue
		case (c == 0xef || c == 0xbb || c == 0xbf) && i < 3: // a UTF-8 byte-order mark
			continue
		}
		head, _ := br.Peek(br.Buffered())
		for _, s := range sources {
			if s.detect(head[i:]) {
				return s.name, nil
			}
		}
		return "", fmt.Errorf("at byte offset %d: not a NAT trace (a JSON array of requests), NAT steps, OpenTelemetry JSON nor telemetry JSONL (one JSON event per line); use --format to say which it is", i)
	}
}
