package tokenize

import (
	"encoding/binary"
	"math/bits"
	"unsafe"

	"github.com/zeebo/xxh3"
)

// The lookup tables of a tokenizer (its vocabulary and merge indexes) take
// a tenth of a second and ten megabytes of fresh memory to build for a
// 128k vocabulary: more than trace-tokenize spends on a whole trace once
// records are compact. A program that embeds a tokenizer can store them
// (Tables) beside its Spec (Spec.Tables); New then uses them where they lie,
// in the program's read-only data, which the operating system pages in as
// lookups touch it.
//
// Layout, little-endian:
//
//	0   "TOKTABL1"
//	8   fingerprint of the Spec the tables were built from (uint64)
//	16  number of vocabulary slots nv (uint64, a power of two)
//	24  number of merge slots nm (uint64, a power of two)
//	32  nv vocabulary slots (int32)
//	    nm merge slots (uint64 key, int32 rank, int32 id)
const tablesMagic = "TOKTABL1"

const tablesHeader = 32

// Tables returns t's lookup tables in the form Spec.Tables takes. They are
// valid for the Spec t was built from.
func (t *Tokenizer) Tables() []byte {
	v, m := t.model.vocab.slots, t.model.merges.slots
	out := make([]byte, tablesHeader, tablesHeader+4*len(v)+16*len(m))
	copy(out, tablesMagic)
	binary.LittleEndian.PutUint64(out[8:], t.model.fingerprint)
	binary.LittleEndian.PutUint64(out[16:], uint64(len(v)))
	binary.LittleEndian.PutUint64(out[24:], uint64(len(m)))
	for _, s := range v {
		out = binary.LittleEndian.AppendUint32(out, uint32(s))
	}
	for _, s := range m {
		out = binary.LittleEndian.AppendUint64(out, s.key)
		out = binary.LittleEndian.AppendUint32(out, uint32(s.rank))
		out = binary.LittleEndian.AppendUint32(out, uint32(s.id))
	}
	return out
}

// fingerprint identifies what the tables of a Spec are built from.
func fingerprint(spec *Spec) uint64 {
	h := xxh3.New()
	var buf []byte
	flush := func() {
		h.Write(buf)
		buf = buf[:0]
	}
	buf = binary.LittleEndian.AppendUint64(buf, uint64(len(spec.Vocab)))
	for _, tok := range spec.Vocab {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(len(tok)))
		buf = append(buf, tok...)
		if len(buf) > 32<<10 {
			flush()
		}
	}
	buf = binary.LittleEndian.AppendUint64(buf, uint64(len(spec.Merges)))
	for i, p := range spec.Merges {
		r := int32(i)
		if spec.MergeRanks != nil {
			r = spec.MergeRanks[i]
		}
		buf = binary.LittleEndian.AppendUint32(buf, uint32(p[0]))
		buf = binary.LittleEndian.AppendUint32(buf, uint32(p[1]))
		buf = binary.LittleEndian.AppendUint32(buf, uint32(r))
		if len(buf) > 32<<10 {
			flush()
		}
	}
	flush()
	return h.Sum64()
}

// storedTables returns the indexes stored in spec.Tables, without copying
// them, when they were built from this spec and this machine can use them
// in place (little-endian, the data 8-byte aligned); else ok is false and
// New builds them.
func storedTables(spec *Spec, fp uint64) (v *vocabIndex, m *mergeIndex, ok bool) {
	s := spec.Tables
	if len(s) < tablesHeader || s[:8] != tablesMagic || !littleEndian ||
		uintptr(unsafe.Pointer(unsafe.StringData(s)))%8 != 0 {
		return nil, nil, false
	}
	u64 := func(at int) uint64 { return binary.LittleEndian.Uint64([]byte(s[at : at+8])) }
	nv, nm := u64(16), u64(24)
	if u64(8) != fp || nv == 0 || nv&(nv-1) != 0 || nm == 0 || nm&(nm-1) != 0 ||
		uint64(len(s)) != tablesHeader+4*nv+16*nm {
		return nil, nil, false
	}
	base := unsafe.Pointer(unsafe.StringData(s))
	v = &vocabIndex{slots: unsafe.Slice((*int32)(unsafe.Add(base, tablesHeader)), nv)}
	v.text, v.ends = newVocabText(spec.Vocab)
	m = &mergeIndex{
		slots: unsafe.Slice((*mergeSlot)(unsafe.Add(base, tablesHeader+4*nv)), nm),
		shift: uint(64 - bits.TrailingZeros64(nm)),
	}
	return v, m, true
}

var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1
