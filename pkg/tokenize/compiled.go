package tokenize

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"unsafe"
)

// A compiled tokenizer is a Spec and the lookup tables built from it, in
// one binary blob that loads in a few milliseconds (a tokenizer.json takes
// a few hundred to parse and build): resolve caches one per tokenizer.json.
//
// Layout, little-endian: "ATCOMP04", the vocabulary (count, then each
// token's length and bytes), the merges (count, then two int32 ids each),
// the merge ranks (count, 0 or the merges', then int32 each), the added
// tokens (count, then id, special flag, length and content), the
// pre-tokenizer patterns (count, then length, text and a behaviour byte
// each), the normalizers (count, then kind, from and to as strings), the
// Metaspace (a presence byte, then replacement and prepend scheme as
// strings and a split byte), the unknown token id (int32, -1 none), a flags
// byte (IgnoreMerges 1, CharLevel 2, ByteFallback 4, FuseUnk 8), the tables
// (length, bytes), and a CRC-32C of everything before it.
const compiledMagic = "ATCOMP04"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCompiled is returned by UnmarshalCompiled for a blob that is not a
// whole compiled tokenizer of this version.
var ErrCompiled = errors.New("not an intact compiled tokenizer of this version")

// MarshalCompiled returns the compiled form of t, built from spec.
func MarshalCompiled(spec *Spec, t *Tokenizer) []byte {
	tables := t.Tables()
	b := make([]byte, 0, 8+len(tables)+16*len(spec.Merges)+16*len(spec.Vocab))
	b = append(b, compiledMagic...)
	u32 := func(n int) { b = binary.LittleEndian.AppendUint32(b, uint32(n)) }
	str := func(s string) { u32(len(s)); b = append(b, s...) }
	u32(len(spec.Vocab))
	for _, v := range spec.Vocab {
		str(v)
	}
	u32(len(spec.Merges))
	for _, m := range spec.Merges {
		u32(int(m[0]))
		u32(int(m[1]))
	}
	u32(len(spec.MergeRanks))
	for _, r := range spec.MergeRanks {
		u32(int(r))
	}
	u32(len(spec.Added))
	for _, a := range spec.Added {
		u32(a.ID)
		if a.Special {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
		str(a.Content)
	}
	u32(len(spec.Patterns))
	for i, p := range spec.Patterns {
		str(p)
		behavior := Isolated
		if i < len(spec.Behaviors) {
			behavior = spec.Behaviors[i]
		}
		b = append(b, byte(behavior))
	}
	u32(len(spec.Normalizers))
	for _, n := range spec.Normalizers {
		str(n.Kind)
		str(n.From)
		str(n.To)
	}
	bit := func(on bool, v byte) byte {
		if on {
			return v
		}
		return 0
	}
	if m := spec.Metaspace; m != nil {
		b = append(b, 1)
		str(m.Replacement)
		str(m.Prepend)
		b = append(b, bit(m.Split, 1))
	} else {
		b = append(b, 0)
	}
	u32(spec.Unk)
	b = append(b, bit(spec.IgnoreMerges, 1)|bit(spec.CharLevel, 2)|bit(spec.ByteFallback, 4)|bit(spec.FuseUnk, 8))
	b = binary.LittleEndian.AppendUint64(b, uint64(len(tables)))
	b = append(b, tables...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// UnmarshalCompiled returns the Spec in a compiled blob, its Tables set (in
// fresh, aligned memory) for New to use in place. A damaged, truncated or
// foreign blob gives ErrCompiled.
func UnmarshalCompiled(b []byte) (*Spec, error) {
	if len(b) < len(compiledMagic)+4 || string(b[:len(compiledMagic)]) != compiledMagic {
		return nil, ErrCompiled
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, ErrCompiled
	}
	r := reader{b: body, at: len(compiledMagic)}
	spec := &Spec{}
	n := r.count(4)
	spec.Vocab = make([]string, 0, n)
	for range n {
		spec.Vocab = append(spec.Vocab, r.str())
	}
	n = r.count(8)
	spec.Merges = make([][2]int32, 0, n)
	for range n {
		spec.Merges = append(spec.Merges, [2]int32{int32(r.u32()), int32(r.u32())})
	}
	if n = r.count(4); n > 0 {
		spec.MergeRanks = make([]int32, 0, n)
		for range n {
			spec.MergeRanks = append(spec.MergeRanks, int32(r.u32()))
		}
	}
	n = r.count(9)
	for range n {
		a := AddedToken{ID: int(r.u32())}
		a.Special = r.byte() == 1
		a.Content = r.str()
		spec.Added = append(spec.Added, a)
	}
	n = r.count(5)
	for range n {
		spec.Patterns = append(spec.Patterns, r.str())
		spec.Behaviors = append(spec.Behaviors, SplitBehavior(r.byte()))
	}
	n = r.count(12)
	for range n {
		spec.Normalizers = append(spec.Normalizers, Normalizer{Kind: r.str(), From: r.str(), To: r.str()})
	}
	if r.byte() == 1 {
		spec.Metaspace = &Metaspace{Replacement: r.str(), Prepend: r.str(), Split: r.byte() == 1}
	}
	spec.Unk = int(int32(r.u32()))
	flags := r.byte()
	spec.IgnoreMerges, spec.CharLevel, spec.ByteFallback, spec.FuseUnk = flags&1 != 0, flags&2 != 0, flags&4 != 0, flags&8 != 0
	tn := r.u64()
	if r.bad || tn != uint64(len(body)-r.at) {
		return nil, ErrCompiled
	}
	tables := make([]uint64, (tn+7)/8) // 8-byte aligned, as New needs
	raw := unsafeBytes(tables)[:tn]
	copy(raw, body[r.at:])
	spec.Tables = unsafeString(raw)
	return spec, nil
}

// reader reads a compiled blob; bad is set (and zeros returned) past its
// end.
type reader struct {
	b   []byte
	at  int
	bad bool
}

func (r *reader) take(n int) []byte {
	if r.bad || n < 0 || n > len(r.b)-r.at {
		r.bad = true
		return nil
	}
	s := r.b[r.at : r.at+n]
	r.at += n
	return s
}

func (r *reader) u32() uint32 {
	if s := r.take(4); s != nil {
		return binary.LittleEndian.Uint32(s)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if s := r.take(8); s != nil {
		return binary.LittleEndian.Uint64(s)
	}
	return 0
}

func (r *reader) byte() byte {
	if s := r.take(1); s != nil {
		return s[0]
	}
	return 0
}

func (r *reader) str() string { return string(r.take(int(r.u32()))) }

// count reads a count of items of at least min bytes each, bounded by
// what is left (a damaged count cannot ask for more memory than the blob).
func (r *reader) count(min int) int {
	n := int(r.u32())
	if n > (len(r.b)-r.at)/min {
		r.bad = true
		return 0
	}
	return n
}

func unsafeBytes(u []uint64) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(u))), len(u)*8)
}

func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
