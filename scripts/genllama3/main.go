// Command genllama3 converts a Llama 3 tokenizer.json into the data that
// pkg/tokenize/llama3 embeds: bpe.bin, the byte-level vocabulary in id order
// and the merges as id pairs (uncompressed: see llama3.DecodeSpec), and
// tables.bin, the lookup tables of the tokenizer built from them
// (tokenize.Spec.Tables).
//
//	go run ./scripts/genllama3 ../shared/tokenizers/llama-3.3.tokenizer.json pkg/tokenize/llama3
//
// bpe.bin, little-endian, laid out to be used where it lies: the 16-byte
// header "LLAMA3BPE2\n" padded with zero bytes; n and m (uint32); for each of
// the n tokens (id = index) the offset where its bytes end (uint32, from
// the start of the token bytes); the m merges in rank order, as left and
// right id (int32 each); then the token bytes.
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"

	"github.com/agent-trace/agent-trace/pkg/tokenize"
	"github.com/agent-trace/agent-trace/pkg/tokenize/llama3"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: genllama3 tokenizer.json OUTDIR")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	check(err)
	spec, err := tokenize.ParseJSON(data)
	check(err)
	vocab, merges := spec.Vocab, spec.Merges
	var w bytes.Buffer
	u32 := func(v int) { w.Write(binary.LittleEndian.AppendUint32(nil, uint32(v))) }
	w.WriteString("LLAMA3BPE2\n\x00\x00\x00\x00\x00")
	u32(len(vocab))
	u32(len(merges))
	end := 0
	for _, tok := range vocab {
		end += len(tok)
		u32(end)
	}
	for _, m := range merges {
		u32(int(m[0]))
		u32(int(m[1]))
	}
	for _, tok := range vocab {
		w.WriteString(tok)
	}
	check(os.WriteFile(filepath.Join(os.Args[2], "bpe.bin"), w.Bytes(), 0o644))

	// The tables of the tokenizer llama3 builds from bpe.bin.
	stored, err := llama3.DecodeSpec(w.String())
	check(err)
	tok, err := tokenize.New("llama3", stored)
	check(err)
	check(os.WriteFile(filepath.Join(os.Args[2], "tables.bin"), tok.Tables(), 0o644))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "genllama3:", err)
		os.Exit(1)
	}
}
