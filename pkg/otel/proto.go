package otel

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"

	commonv1 "go.opentelemetry.io/proto/otlp/common/v1"
	tracev1 "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// OTLP protobuf files, as the OpenTelemetry Collector's file exporter
// writes them with format proto: each message (an ExportTraceServiceRequest,
// whose wire form is that of TracesData) after its length as 4 bytes,
// big-endian.

// maxProtoMessage bounds the length a frame may claim.
const maxProtoMessage = 1 << 30

// LooksLikeProto reports whether an input starting with head is an OTLP
// protobuf file: a length that fits, then field 1 of TracesData
// (resource_spans, length-delimited: the byte 0x0A).
func LooksLikeProto(head []byte) bool {
	if len(head) < 5 {
		return false
	}
	n := binary.BigEndian.Uint32(head)
	return n > 0 && n < maxProtoMessage && head[4] == 0x0a
}

// ProtoToJSON returns OTLP/JSON, one export request per line, made of the
// OTLP protobuf frames of r, as Reader reads it: ids in hex as OTLP/JSON
// writes them. A bad frame ends the stream with an error that says where.
func ProtoToJSON(r io.Reader, name string) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(protoFrames(r, name, pw))
	}()
	return pr
}

func protoFrames(r io.Reader, name string, w io.Writer) error {
	br := bufio.NewReaderSize(r, 1<<20)
	bw := bufio.NewWriterSize(w, 1<<20)
	var off int64
	var lenBuf [4]byte
	var msg []byte
	for {
		if _, err := io.ReadFull(br, lenBuf[:]); err != nil {
			if err == io.EOF {
				return bw.Flush()
			}
			return fmt.Errorf("%s: at byte offset %d: a frame's length is cut short", name, off)
		}
		n := binary.BigEndian.Uint32(lenBuf[:])
		if n >= maxProtoMessage {
			return fmt.Errorf("%s: at byte offset %d: a frame of %d bytes: not an OTLP protobuf file", name, off, n)
		}
		if cap(msg) < int(n) {
			msg = make([]byte, n)
		}
		msg = msg[:n]
		if _, err := io.ReadFull(br, msg); err != nil {
			return fmt.Errorf("%s: at byte offset %d: the file ends inside a frame of %d bytes", name, off, n)
		}
		var td tracev1.TracesData
		if err := proto.Unmarshal(msg, &td); err != nil {
			return fmt.Errorf("%s: at byte offset %d: not an OTLP trace export: %w", name, off, err)
		}
		off += 4 + int64(n)
		if err := writeJSON(bw, &td); err != nil {
			return err
		}
	}
}

// writeJSON writes td as one line of OTLP/JSON: the structure by hand, so
// that ids are hex as OTLP/JSON has them (protojson would write bytes in
// base64), attributes and events by protojson (AnyValue's JSON form).
func writeJSON(w *bufio.Writer, td *tracev1.TracesData) error {
	str := func(s string) {
		b, _ := json.Marshal(s)
		w.Write(b)
	}
	attrs := func(kvs []*commonv1.KeyValue) error {
		w.WriteByte('[')
		for i, kv := range kvs {
			if i > 0 {
				w.WriteByte(',')
			}
			b, err := protojson.Marshal(kv)
			if err != nil {
				return err
			}
			w.Write(b)
		}
		w.WriteByte(']')
		return nil
	}
	w.WriteString(`{"resourceSpans":[`)
	for i, rs := range td.ResourceSpans {
		if i > 0 {
			w.WriteByte(',')
		}
		w.WriteString(`{"resource":{"attributes":`)
		if err := attrs(rs.GetResource().GetAttributes()); err != nil {
			return err
		}
		w.WriteString(`},"scopeSpans":[`)
		for j, ss := range rs.ScopeSpans {
			if j > 0 {
				w.WriteByte(',')
			}
			w.WriteString(`{"spans":[`)
			for k, sp := range ss.Spans {
				if k > 0 {
					w.WriteByte(',')
				}
				w.WriteString(`{"traceId":`)
				str(hex.EncodeToString(sp.TraceId))
				w.WriteString(`,"spanId":`)
				str(hex.EncodeToString(sp.SpanId))
				w.WriteString(`,"parentSpanId":`)
				str(hex.EncodeToString(sp.ParentSpanId))
				w.WriteString(`,"name":`)
				str(sp.Name)
				fmt.Fprintf(w, `,"startTimeUnixNano":"%d","endTimeUnixNano":"%d","attributes":`, sp.StartTimeUnixNano, sp.EndTimeUnixNano)
				if err := attrs(sp.Attributes); err != nil {
					return err
				}
				w.WriteString(`,"events":[`)
				for e, ev := range sp.Events {
					if e > 0 {
						w.WriteByte(',')
					}
					fmt.Fprintf(w, `{"timeUnixNano":"%d","name":`, ev.TimeUnixNano)
					str(ev.Name)
					w.WriteString(`,"attributes":`)
					if err := attrs(ev.Attributes); err != nil {
						return err
					}
					w.WriteByte('}')
				}
				w.WriteString(`]}`)
			}
			w.WriteString(`]}`)
		}
		w.WriteString(`]}`)
	}
	w.WriteString("]}\n")
	return nil
}
