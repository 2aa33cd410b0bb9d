// Package idarray reads and writes the JSON arrays of token ids that
// trace-tokenize writes and trace-hash reads, reusing the work done for the
// previous array.
//
// Agent traces repeat the whole conversation at every call, so the input_ids
// of a call usually start with the input_ids of its session's previous
// call: millions of ids that would be formatted and parsed again and again.
// A Formatter keeps the text of the ids it formatted last time; a Parser
// compares the new text with the text it parsed last time and parses only
// from where they differ. Both give exactly the bytes and ids that formatting
// or parsing from scratch gives.
package idarray

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"

	"github.com/agent-trace/agent-trace/pkg/record"
)

// Formatter writes arrays of token ids as compact JSON ([1,2,3]),
// remembering the last array to reuse its text. The zero value is ready to
// use.
type Formatter struct {
	text []byte  // the last array, "[...]"
	ends []int32 // ends[k]: offset in text just past the digits of id k
}

// Format returns ids as a compact JSON array. The first kept ids must equal
// the first kept ids of the previous call's array (kept is 0 on the first
// call, or when nothing is shared); their text stays in place and only the
// rest is formatted. The result is valid until the next call.
func (f *Formatter) Format(ids []int, kept int) []byte {
	kept = min(kept, len(f.ends), len(ids))
	if kept == 0 {
		f.text, f.ends = append(f.text[:0], '['), f.ends[:0]
	} else {
		f.text, f.ends = f.text[:f.ends[kept-1]], f.ends[:kept]
	}
	f.text = slices.Grow(f.text, 7*(len(ids)-kept)+1)
	for i, id := range ids[kept:] {
		if i+kept > 0 {
			f.text = append(f.text, ',')
		}
		f.text = strconv.AppendInt(f.text, int64(id), 10) // only new ids: strconv is fast enough
		f.ends = append(f.ends, int32(len(f.text)))
	}
	f.text = append(f.text, ']')
	return f.text
}

// Parser reads JSON arrays of token ids (integers from 0 to 2³²-1),
// remembering the last array to skip the part the next one shares with it.
// The zero value is ready to use.
type Parser struct {
	text   []byte   // the last array's text, from '[' to ']'
	ends   []int32  // ends[k]: offset in text just past the digits of id k
	ids    []uint32 // the last array's ids
	reused int
	noEnds bool // ParseAfter: ends are not kept
}

// IDs returns the ids of the last array parsed. They are valid until the
// next call of Parse.
func (p *Parser) IDs() []uint32 { return p.ids }

// Reused returns how many leading ids of the last array parsed were taken
// from the array before it without parsing.
func (p *Parser) Reused() int { return p.reused }

// Parse parses the array that starts at b[start] and returns the offset
// just past it. Its signature fits record.ParseWith. On error the parser
// forgets what it remembered.
func (p *Parser) Parse(b []byte, start int) (end int, err error) {
	end, err = p.parse(b, start)
	if err != nil {
		p.text, p.ends, p.ids, p.reused = p.text[:0], p.ends[:0], p.ids[:0], 0
		return 0, err
	}
	p.text = append(p.text[:0], b[start:end]...)
	return end, nil
}

// ParseAfter parses the array that starts at b[start] as the continuation
// of the first kept ids of the last array parsed: IDs then returns those
// ids followed by the array's. It returns the offset just past the array.
// This is how a compact record (trace-tokenize --compact) gives its ids.
// On error the parser forgets what it remembered.
func (p *Parser) ParseAfter(b []byte, start, kept int) (end int, err error) {
	if kept < 0 || kept > len(p.ids) {
		err = fmt.Errorf("continues %d ids of the previous array, which has %d", kept, len(p.ids))
	} else {
		p.ids, p.ends, p.reused = p.ids[:kept], p.ends[:0], kept
		var cur []byte
		if start < len(b) && b[start] == '"' {
			end, err = p.packed(b, start)
		} else if cur, err = array(b, start); err == nil {
			p.noEnds = true // the text is not remembered: no offsets
			end, err = p.all(cur, start)
			p.noEnds = false
		}
	}
	// The text is not remembered: the next Parse starts afresh.
	p.text, p.ends = p.text[:0], p.ends[:0]
	if err != nil {
		p.ids, p.reused = p.ids[:0], 0
		return 0, err
	}
	return end, nil
}

// ParseAfterIDs is ParseAfter continuing the ids prefix instead of the
// last array's first ones (a compact record that continues an earlier
// line than the last: trace-tokenize's shared_ids_back).
func (p *Parser) ParseAfterIDs(b []byte, start int, prefix []uint32) (end int, err error) {
	p.ids = append(p.ids[:0], prefix...)
	return p.ParseAfter(b, start, len(prefix))
}

func (p *Parser) parse(b []byte, start int) (int, error) {
	if start < len(b) && b[start] == '"' {
		p.ends, p.ids, p.reused = p.ends[:0], p.ids[:0], 0
		return p.packed(b, start)
	}
	cur, err := array(b, start)
	if err != nil {
		return 0, err
	}
	// Ids whose digits and the delimiter after them are the same bytes as
	// last time are the same ids; resume just past the last of them.
	same := commonPrefix(cur, p.text)
	k, _ := slices.BinarySearch(p.ends, int32(same)) // ends[:k] < same
	p.ends, p.ids, p.reused = p.ends[:k], p.ids[:k], k
	if k > 0 {
		return p.afterID(cur, int(p.ends[k-1]), start)
	}
	return p.all(cur, start)
}

// Packed ids: a JSON string of four characters an id, the id's 24 bits
// six at a time, most significant first, in the base64url alphabet (the
// ids as 3-byte big-endian integers, base64url-encoded without padding).
// trace-tokenize --compact writes them so: formatting and parsing decimal
// ids took a tenth of trace-tokenize's work and almost half of
// trace-hash's, and the text is shorter (4 bytes an id against 4-7).
const (
	packedAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	// MaxPacked is one more than the largest id a packed string holds.
	MaxPacked = 1 << 24
)

// AppendPacked appends ids to dst as a packed JSON string. It reports false
// (and returns dst unchanged) when an id is negative or MaxPacked or more:
// write a JSON array of them instead.
func AppendPacked(dst []byte, ids []int) ([]byte, bool) {
	n := len(dst)
	dst = slices.Grow(dst, 4*len(ids)+2)
	dst = append(dst, '"')
	if pack(dst[len(dst):len(dst)+4*len(ids)], ids) >= MaxPacked {
		return dst[:n], false
	}
	dst = dst[:len(dst)+4*len(ids)]
	return append(dst, '"'), true
}

// pack writes the four characters of each id to out (4*len(ids) bytes),
// as if it were below MaxPacked, and returns the ids or'ed: MaxPacked or
// more when one is not (negative or too large).
func pack(out []byte, ids []int) (all uint) {
	pairs := &packedPairs
	for k, id := range ids {
		all |= uint(id)
		// Two characters for each twelve bits.
		binary.LittleEndian.PutUint32(out[4*k:4*k+4], uint32(pairs[id>>12&4095])|uint32(pairs[id&4095])<<16)
	}
	return all
}

// packedPairs holds the two characters of each twelve-bit value, the
// first in the low byte.
var packedPairs = func() (t [4096]uint16) {
	for v := range t {
		t[v] = uint16(packedAlphabet[v>>6]) | uint16(packedAlphabet[v&63])<<8
	}
	return
}()

// packed parses the packed string of ids at b[start] (a '"'), appending
// them to p.ids, and returns the offset in b just past it.
func (p *Parser) packed(b []byte, start int) (int, error) {
	cur := b[start+1:]
	n := bytes.IndexByte(cur, '"')
	if n < 0 {
		return 0, syntaxErr(b[start:], "unterminated string of packed ids")
	}
	s := cur[:n]
	if len(s)%4 != 0 {
		return 0, syntaxErr(b[start:], "a string of packed ids has four characters an id")
	}
	old := len(p.ids)
	ids := slices.Grow(p.ids, len(s)/4)[:old+len(s)/4]
	if !unpack(ids[old:], s) {
		return 0, syntaxErr(b[start:], "packed ids are written in the base64url alphabet")
	}
	p.ids = ids
	return start + 1 + n + 1, nil
}

// unpack decodes s, four characters an id, into out (len(s) is
// 4*len(out)). It reports false when a character is not in the alphabet.
func unpack(out []uint32, s []byte) bool {
	pairs := packedPairValue
	var bad uint16
	for k := range out {
		v := binary.LittleEndian.Uint32(s[4*k : 4*k+4])
		first, second := pairs[v&0xffff], pairs[v>>16]
		bad |= first | second
		out[k] = uint32(first)<<12 | uint32(second)
	}
	return bad < 1<<12
}

// packedPairValue maps two characters (the first in the low byte) to their
// twelve bits, or to 0xffff when one is not in the alphabet.
var packedPairValue = func() *[1 << 16]uint16 {
	var t [1 << 16]uint16
	for i := range t {
		t[i] = 0xffff
	}
	for a := range len(packedAlphabet) {
		for b := range len(packedAlphabet) {
			t[uint16(packedAlphabet[a])|uint16(packedAlphabet[b])<<8] = uint16(a<<6 | b)
		}
	}
	return &t
}()

// array returns b from start on, which must open an array.
func array(b []byte, start int) ([]byte, error) {
	cur := b[start:]
	if len(cur) == 0 || cur[0] != '[' {
		return nil, syntaxErr(cur, "want an array of token ids")
	}
	return cur, nil
}

// all parses every id of the array cur (b[start:]), appending them to
// p.ids, and returns the offset in b just past the array.
func (p *Parser) all(cur []byte, start int) (int, error) {
	i := record.SkipSpace(cur, 1)
	if i < len(cur) && cur[i] == ']' {
		return start + i + 1, nil
	}
	return p.ids1(cur, i, start)
}

// ids1 parses an id at cur[i] and everything after it. It loops (rather
// than recursing through afterID) so that the stack stays flat whatever the
// spacing: Python's json.dumps writes ", " between ids.
func (p *Parser) ids1(cur []byte, i, start int) (int, error) {
	for {
		s := i
		var v uint64
		for i < len(cur) {
			d := cur[i] - '0'
			if d > 9 {
				break
			}
			v = v*10 + uint64(d)
			i++
		}
		switch {
		case i == s || (cur[s] == '0' && i-s > 1):
			return 0, syntaxErr(cur, "want non-negative integer token ids")
		case i-s > 10 || v > 1<<32-1:
			return 0, syntaxErr(cur, "a token id above 2^32-1")
		}
		p.ids = append(p.ids, uint32(v))
		if !p.noEnds {
			p.ends = append(p.ends, int32(i))
		}
		if i < len(cur) && cur[i] == ',' && i+1 < len(cur) && cur[i+1]-'0' <= 9 {
			i++ // the compact form: straight to the next id
			continue
		}
		next, end, err := p.separator(cur, i, start)
		if err != nil || end > 0 {
			return end, err
		}
		i = next
	}
}

// afterID continues after the digits of an id, at cur[i].
func (p *Parser) afterID(cur []byte, i, start int) (int, error) {
	next, end, err := p.separator(cur, i, start)
	if err != nil || end > 0 {
		return end, err
	}
	return p.ids1(cur, next, start)
}

// separator reads what follows an id's digits at cur[i]: the array's end
// (end is the offset in b past it) or a comma (next is where the next id
// starts).
func (p *Parser) separator(cur []byte, i, start int) (next, end int, err error) {
	i = record.SkipSpace(cur, i)
	if i >= len(cur) {
		return 0, 0, syntaxErr(cur, "unterminated array")
	}
	switch cur[i] {
	case ']':
		return 0, start + i + 1, nil
	case ',':
		return record.SkipSpace(cur, i+1), 0, nil
	}
	return 0, 0, syntaxErr(cur, "want non-negative integer token ids")
}

func syntaxErr(b []byte, what string) error {
	s := string(b[:min(len(b), 40)])
	if len(b) > 40 {
		s += "..."
	}
	return fmt.Errorf("%s in %s", what, s)
}

// commonPrefix returns the length of the longest common prefix of a and b.
func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for i+256 <= n && bytes.Equal(a[i:i+256], b[i:i+256]) {
		i += 256
	}
	for i+8 <= n && binary.LittleEndian.Uint64(a[i:]) == binary.LittleEndian.Uint64(b[i:]) {
		i += 8
	}
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}
