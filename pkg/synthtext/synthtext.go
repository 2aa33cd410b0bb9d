// Package synthtext makes synthetic stand-ins for the contents of recorded
// chat messages: text that a tokenizer encodes to exactly as many tokens as
// the recorded content, that shares a prefix with another stand-in exactly
// when the recorded token ids do (to the block), and that holds nothing of
// the recorded text.
//
// A stand-in is a run of words from a fixed list (words.txt, made by
// scripts/genwords from a public English dictionary), joined by single
// spaces. New keeps the words the tokenizer encodes as one token both alone
// and after a space (the 1,024 shortest of them), and checks that the
// joined list encodes word by word: then n words are n tokens, whatever the
// words.
//
// Which words: the recorded ids are cut into blocks; each block has a key,
// a 128-bit hash of the key before it and its ids (the first block's key
// before it is the message's start key, which hashes the previous message's
// last key and the role). A block's words are drawn from a generator seeded
// with its key. So two messages get the same words up to the block where
// their recorded ids (or what came before them) differ, and the words are
// a function of a hash: nothing of the text can be read back from them
// beyond guessing whole blocks.
package synthtext

import (
	_ "embed"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/zeebo/xxh3"

	"github.com/agent-trace/agent-trace/pkg/record"
	"github.com/agent-trace/agent-trace/pkg/tokenize"
)

//go:embed words.txt
var wordList string

// byLength is the word list, shortest words first, in list order among
// equals.
var byLength = func() []string {
	words := strings.Fields(wordList)
	slices.SortStableFunc(words, func(a, b string) int { return len(a) - len(b) })
	return words
}()

// Key identifies a position in a conversation: everything recorded before
// it, as a 128-bit hash.
type Key = xxh3.Uint128

// Root is the key before the first message of every conversation.
var Root = Key{Hi: 0x6167656e74747261, Lo: 0x636573796e746831}

// minWords is the fewest words a tokenizer must keep: with fewer, two
// different short blocks would too often get the same words.
const minWords = 256

// maxWords is the most words a Generator draws from (the shortest ones):
// 10 bits a token, 160 bits a block of 16.
const maxWords = 1024

// A Generator makes stand-in text for one tokenizer. It is safe for
// concurrent use.
type Generator struct {
	words     []string
	blockSize int
	argsCost  int // tokens of the JSON around the words of an arguments stand-in; -1: not exact

	// When every word is at most 7 bytes: each word after a space, as 8
	// bytes little-endian (written with one store), and its length with
	// the space.
	packed []uint64
	lens   []uint8
}

// packWords fills g.packed and g.lens when every word fits.
func (g *Generator) packWords() {
	for _, w := range g.words {
		if len(w) > 7 {
			return
		}
	}
	for _, w := range g.words {
		var b [8]byte
		b[0] = ' '
		copy(b[1:], w)
		g.packed = append(g.packed, binary.LittleEndian.Uint64(b[:]))
		g.lens = append(g.lens, uint8(1+len(w)))
	}
}

// The JSON object that wraps the words of an arguments stand-in.
const argsOpen, argsClose = `{"input": "`, `"}`

// New returns a Generator for the tokenizer that enc encodes with, drawing
// the words of each block of blockSize recorded ids from one seed. It fails
// when the tokenizer keeps fewer than 256 words of the list, or when words
// joined by spaces do not encode word by word (a tokenizer that merges
// across spaces).
func New(tok *tokenize.Tokenizer, blockSize int) (*Generator, error) {
	if blockSize <= 0 {
		return nil, fmt.Errorf("synthetic text block size must be positive, got %d", blockSize)
	}
	enc := tok.NewEncoder()
	type word struct {
		text string
		id   int // its id after a space
	}
	// The shortest words kept, in list order among equals: the text is
	// what the rows are made of, so fewer bytes a token make smaller,
	// faster rows. Words are tried shortest first, until maxWords are kept
	// (encoding the whole list would cost a fifth of a short run).
	var kept []word
	for _, w := range byLength {
		if len(kept) == maxWords {
			break
		}
		alone, spaced := enc.Encode(w), enc.Encode(" "+w)
		if len(alone) == 1 && len(spaced) == 1 {
			kept = append(kept, word{w, spaced[0]})
		}
	}
	if len(kept) < minWords {
		return nil, fmt.Errorf("tokenizer %s encodes only %d of the %d stand-in words as one token: it cannot make synthetic text (keep the recorded text instead)",
			tok.Name(), len(kept), len(byLength))
	}
	words := make([]string, len(kept))
	want := make([]int, len(kept))
	for i, w := range kept {
		words[i], want[i] = w.text, w.id
	}
	// The first word starts the text without a space.
	got := enc.Encode(strings.Join(words, " "))
	if len(got) != len(words) || got[0] != enc.Encode(words[0])[0] || !slices.Equal(got[1:], want[1:]) {
		return nil, fmt.Errorf("tokenizer %s does not encode words joined by spaces word by word: it cannot make synthetic text (keep the recorded text instead)", tok.Name())
	}
	g := &Generator{words: words, blockSize: blockSize}
	g.packWords()
	g.argsCost = g.measureArgs(enc)
	return g, nil
}

// measureArgs returns the tokens the JSON around an arguments stand-in
// costs, or -1 when words in it do not encode to one token each.
func (g *Generator) measureArgs(enc *tokenize.Encoder) int {
	cost := len(enc.Encode(argsOpen+g.words[0]+argsClose)) - 1
	for k := 1; k <= 8; k++ {
		text := argsOpen + strings.Join(g.words[k:2*k], " ") + argsClose
		if len(enc.Encode(text)) != cost+k {
			return -1
		}
	}
	return cost
}

// Words returns the number of words the tokenizer kept.
func (g *Generator) Words() int { return len(g.words) }

// Start returns the key a message of the given role starts from, after the
// message whose last key is prev (Root for the first message).
func Start(prev Key, role string) Key {
	b := make([]byte, 0, 16+5+len(role))
	b = binary.LittleEndian.AppendUint64(b, prev.Lo)
	b = binary.LittleEndian.AppendUint64(b, prev.Hi)
	b = append(b, "role:"...)
	b = append(b, role...)
	return xxh3.Hash128(b)
}

// Append appends to dst the stand-in for a message content whose recorded
// ids are ids, starting from key start (see Start), and returns it with the
// message's last key: the key of its last block, or start when ids is
// empty (the content is then "").
func (g *Generator) Append(dst []byte, start Key, ids []int) ([]byte, Key) {
	if len(ids) == 0 {
		return dst, start
	}
	key := start
	var stack [16 + 4*64]byte
	buf := stack[:0]
	n := uint64(len(g.words))
	// z%n, as a mask when n is a power of two (the same word, no division).
	mask := n - 1
	if n&mask != 0 {
		mask = 0
	}
	// The packed words are written 8 bytes at a time into room made
	// first, the first one without its space.
	at := len(dst)
	var out []byte
	if g.packed != nil {
		dst = slices.Grow(dst, 8*len(ids))
		out = dst[:cap(dst)]
	}
	w := at
	for i := 0; i < len(ids); i += g.blockSize {
		block := ids[i:min(i+g.blockSize, len(ids))]
		key, buf = blockKey(buf[:0], key, block)
		// splitmix64 over the key: a fixed, portable sequence.
		s := key.Lo ^ key.Hi
		for range block {
			s += 0x9e3779b97f4a7c15
			z := s
			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
			z = (z ^ (z >> 27)) * 0x94d049bb133111eb
			z ^= z >> 31
			if mask != 0 {
				z &= mask
			} else {
				z %= n
			}
			if out != nil {
				if w == at {
					binary.LittleEndian.PutUint64(out[w:], g.packed[z]>>8)
					w += int(g.lens[z]) - 1
				} else {
					binary.LittleEndian.PutUint64(out[w:], g.packed[z])
					w += int(g.lens[z])
				}
				continue
			}
			if w > at {
				dst = append(dst, ' ')
			}
			dst = append(dst, g.words[z]...)
			w = len(dst)
		}
	}
	if out != nil {
		dst = out[:w]
	}
	return dst, key
}

// AppendArguments appends to dst a stand-in for the arguments of a tool
// call whose recorded arguments text has the ids ids, starting from key
// start, and returns it with its last key. The stand-in is a JSON object,
// {"input": "<words>"}, of as many tokens as the recorded text, when the
// tokenizer encodes such an object word by word and the recorded text is
// longer than the object's JSON; shorter arguments become {}, and a
// tokenizer that does not encode the object word by word gets the words
// alone (the token count kept, the JSON not).
func (g *Generator) AppendArguments(dst []byte, start Key, ids []int) ([]byte, Key) {
	if g.argsCost < 0 {
		return g.Append(dst, start, ids)
	}
	if len(ids) <= g.argsCost {
		_, key := g.Append(nil, start, ids)
		return append(dst, "{}"...), key
	}
	dst = append(dst, argsOpen...)
	dst, key := g.Append(dst, start, ids[:len(ids)-g.argsCost])
	// The last ids, which the JSON around the words stands for, still
	// decide the key: arguments that differ there differ in what follows.
	key, _ = blockKey(nil, key, ids[len(ids)-g.argsCost:])
	return append(dst, argsClose...), key
}

// AppendTools appends to dst the JSON value raw (a request's tools list)
// with the value of every "description" member that is a string replaced
// by a stand-in of as many tokens (encode gives a text's ids); names,
// types and the rest of the schemas are kept, in their order. The stand-ins
// chain from one description to the next, so equal lists give equal
// stand-ins.
func (g *Generator) AppendTools(dst, raw []byte, encode func(string) []int) ([]byte, error) {
	key := Start(Root, "tools")
	for i := 0; i < len(raw); {
		if raw[i] != '"' {
			dst = append(dst, raw[i])
			i++
			continue
		}
		end, err := record.SkipValue(raw, i)
		if err != nil {
			return nil, err
		}
		dst = append(dst, raw[i:end]...)
		colon := record.SkipSpace(raw, end)
		val := record.SkipSpace(raw, colon+1)
		if string(raw[i:end]) != `"description"` || colon >= len(raw) || raw[colon] != ':' || val >= len(raw) || raw[val] != '"' {
			i = end
			continue
		}
		vend, err := record.SkipValue(raw, val)
		if err != nil {
			return nil, err
		}
		text, err := record.DecodeString(raw[val:vend])
		if err != nil {
			return nil, err
		}
		dst = append(dst, ':', '"')
		dst, key = g.Append(dst, Start(key, "description"), encode(text))
		dst = append(dst, '"')
		i = vend
	}
	return dst, nil
}

// blockKey returns the key of a block of ids after the key prev, and buf
// (grown if it had to) for the next call.
func blockKey(buf []byte, prev Key, block []int) (Key, []byte) {
	buf = binary.LittleEndian.AppendUint64(buf, prev.Lo)
	buf = binary.LittleEndian.AppendUint64(buf, prev.Hi)
	for _, id := range block {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(id))
	}
	return xxh3.Hash128(buf), buf
}
