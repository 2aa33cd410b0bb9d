package otel

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"io"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	tracev1 "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// idField finds the hex ids of OTLP/JSON, which protojson reads as base64.
var idField = regexp.MustCompile(`"(traceId|spanId|parentSpanId)":\s*"([0-9a-f]*)"`)

// toProto writes the export requests of an OTLP/JSON input as the
// Collector's file exporter writes them with format proto: each
// TracesData after its length (4 bytes, big-endian).
func toProto(t testing.TB, in []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	r := newValueSplitter(bytes.NewReader(in))
	for {
		raw, _, err := r.next()
		if err == io.EOF {
			return out.Bytes()
		}
		if err != nil {
			t.Fatal(err)
		}
		fixed := idField.ReplaceAllFunc(raw, func(m []byte) []byte {
			sub := idField.FindSubmatch(m)
			b, _ := hex.DecodeString(string(sub[2]))
			return []byte(`"` + string(sub[1]) + `":"` + base64.StdEncoding.EncodeToString(b) + `"`)
		})
		var td tracev1.TracesData
		if err := protojson.Unmarshal(fixed, &td); err != nil {
			t.Fatal(err)
		}
		msg, err := proto.Marshal(&td)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(binary.BigEndian.AppendUint32(nil, uint32(len(msg))))
		out.Write(msg)
	}
}

// OTLP protobuf frames give the calls their JSON gives. testdata/otel's
// *.otlp.pb are made from the JSON fixtures this way (AGENTTRACE_UPDATE=1
// rewrites them).
func TestProtoMatchesJSON(t *testing.T) {
	for _, name := range []string{"genai-otlp.json", "openllmetry.jsonl"} {
		in, err := os.ReadFile("../../testdata/otel/" + name)
		if err != nil {
			t.Fatal(err)
		}
		pb := toProto(t, in)
		path := "../../testdata/otel/" + strings.TrimSuffix(strings.TrimSuffix(name, ".json"), ".jsonl") + ".otlp.pb"
		if os.Getenv("AGENTTRACE_UPDATE") == "1" {
			if err := os.WriteFile(path, pb, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, pb) {
			t.Fatalf("%s is not %s as protobuf (err %v): run with AGENTTRACE_UPDATE=1", path, name, err)
		}
		if !LooksLikeProto(pb) || LooksLikeProto(in) {
			t.Fatalf("%s: LooksLikeProto is wrong", name)
		}
		want, wantStats := readCalls(t, in)
		conv, err := io.ReadAll(ProtoToJSON(bytes.NewReader(pb), name))
		if err != nil {
			t.Fatal(err)
		}
		got, gotStats := readCalls(t, conv)
		if gotStats != wantStats || len(got) != len(want) {
			t.Fatalf("%s: %d calls %+v, JSON %d %+v", name, len(got), gotStats, len(want), wantStats)
		}
		for i := range got {
			g, w := got[i], want[i]
			g.Off, g.Len, w.Off, w.Len = 0, 0, 0, 0
			if !reflect.DeepEqual(g, w) {
				t.Errorf("%s call %d: %+v, JSON %+v", name, i, g, w)
			}
		}
	}
}

// A cut or foreign frame is an error naming the offset.
func TestProtoBadFrames(t *testing.T) {
	in, err := os.ReadFile("../../testdata/otel/genai-otlp.json")
	if err != nil {
		t.Fatal(err)
	}
	pb := toProto(t, in)
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"cut inside", pb[:len(pb)-3], "at byte offset 0: the file ends inside a frame"},
		{"cut length", append(append([]byte(nil), pb...), 0, 0), "a frame's length is cut short"},
		{"huge", []byte{0x7f, 0xff, 0xff, 0xff, 0x0a}, "not an OTLP protobuf file"},
	} {
		_, err := io.ReadAll(ProtoToJSON(bytes.NewReader(tc.in), "x.pb"))
		if err == nil || !strings.Contains(err.Error(), "x.pb: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
}
