// Command genllama3 converts a Llama 3 tokenizer.json into the data that
// pkg/tokenize/llama3 embeds: bpe.bin, the byte-level vocabulary in id order
// and the merges as id pairs (uncompressed: see llama3.DecodeSpec), and
// tables.bin, the lookup tables of the tokenizer built from them
// (tokenize.Spec.Tables).
//
//	go run ./scripts/genllama3 ../shared/tokenizers/llama-3.3.tokenizer.json pkg/tokenize/llama3
//
// bpe.bin: "LLAMA3BPE1\n", uvarint n, then n entries of uvarint length +
// token bytes (id = index); uvarint m, then m merges as uvarint left id,
// uvarint right id, in merge-rank order.
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"

	"agenttrace/pkg/tokenize"
	"agenttrace/pkg/tokenize/llama3"
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
	var buf [binary.MaxVarintLen64]byte
	put := func(v uint64) { w.Write(buf[:binary.PutUvarint(buf[:], v)]) }
	w.WriteString("LLAMA3BPE1\n")
	put(uint64(len(vocab)))
	for _, tok := range vocab {
		put(uint64(len(tok)))
		w.WriteString(tok)
	}
	put(uint64(len(merges)))
	for _, m := range merges {
		put(uint64(m[0]))
		put(uint64(m[1]))
	}
	check(os.WriteFile(filepath.Join(os.Args[2], "bpe.bin"), w.Bytes(), 0o644))

	// The tables of the tokenizer llama3 builds from bpe.bin.
	stored, err := llama3.DecodeSpec(w.Bytes())
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
