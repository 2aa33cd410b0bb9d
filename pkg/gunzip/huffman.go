package gunzip

// A decode table maps the next bits of the input (least significant bit
// first, as DEFLATE packs codes) to an entry. The first 1<<tableBits
// entries are indexed by the next tableBits bits; a code longer than that
// goes through a pointer entry to a subtable indexed by the bits after
// them. An entry is a uint32:
//
//	bits 31-16  literal byte, length or distance base, precode symbol,
//	            or a pointer's subtable start
//	bit  15     literal
//	bit  14     end of block
//	bit  13     pointer to a subtable
//	bit  12     invalid: no code has these bits
//	bits 11-8   bits the code takes (in a subtable: after tableBits);
//	            a pointer's subtable index bits
//	bits 4-0    bits the code and its extra bits take together (lengths
//	            and distances have extra bits)
const (
	flagLiteral = 1 << 15
	flagEOB     = 1 << 14
	flagSub     = 1 << 13
	flagInvalid = 1 << 12
)

const (
	litlenBits  = 11 // index bits of the literal/length table
	distBits    = 8  // of the distance table
	precodeBits = 7  // of the code length code table (its codes are <= 7 bits)

	maxCodeLen = 15
	// Table sizes: powers of two (so that a masked index needs no bounds
	// check) that hold the main table and, at most, one subtable of
	// 1<<(maxCodeLen-tableBits) entries per symbol (2048+288*16 and
	// 256+32*128).
	litlenTableSize  = 8192
	distTableSize    = 8192
	precodeTableSize = 1 << precodeBits
)

// lengthBase and lengthExtra give the match length of symbols 257-285.
var lengthBase = [29]uint32{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
	35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
var lengthExtra = [29]uint32{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
	3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}

// distBase and distExtra give the distance of symbols 0-29.
var distBase = [30]uint32{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
	257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
var distExtra = [30]uint32{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
	7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}

// litlenEntry, distEntry and precodeEntry are each symbol's entry without
// its code length (bits 4-0 holding the extra bits alone).
var litlenEntry, distEntry, precodeEntry = func() (ll [288]uint32, d [32]uint32, pre [19]uint32) {
	for s := range 256 {
		ll[s] = uint32(s)<<16 | flagLiteral
	}
	ll[256] = flagEOB
	for s := 257; s < 286; s++ {
		ll[s] = lengthBase[s-257]<<16 | lengthExtra[s-257]
	}
	ll[286], ll[287] = flagInvalid, flagInvalid
	for s := range 30 {
		d[s] = distBase[s]<<16 | distExtra[s]
	}
	d[30], d[31] = flagInvalid, flagInvalid
	for s := range pre {
		pre[s] = uint32(s) << 16
	}
	return
}()

// codes holds a block's decode tables, side by side so that the decoding
// loop reaches both through one pointer.
type codes struct {
	ll [litlenTableSize]uint32 // literal/length
	dt [distTableSize]uint32   // distance
}

// fixed holds the fixed Huffman codes (RFC 1951 3.2.6), built once.
var fixed = func() *codes {
	var lens [288]uint8
	for s := range lens {
		switch {
		case s < 144:
			lens[s] = 8
		case s < 256:
			lens[s] = 9
		case s < 280:
			lens[s] = 7
		default:
			lens[s] = 8
		}
	}
	c := new(codes)
	if !build(c.ll[:], litlenBits, lens[:], litlenEntry[:]) {
		panic("gunzip: fixed literal/length code")
	}
	var dl [32]uint8
	for s := range dl {
		dl[s] = 5
	}
	if !build(c.dt[:], distBits, dl[:], distEntry[:]) {
		panic("gunzip: fixed distance code")
	}
	return c
}()

// build fills table for the canonical Huffman code whose code lengths are
// lens (0: symbol unused), entry[s] being symbol s's entry without its
// length. It reports false for lengths that are not a code DEFLATE allows:
// over-subscribed, or incomplete other than a lone code of length 1. An
// empty code (every length 0) is allowed and every lookup in it is
// invalid: a block may have no distances. These are the rules of zlib and
// Go's compress/flate.
func build(table []uint32, tableBits uint, lens []uint8, entry []uint32) bool {
	var count [maxCodeLen + 1]int
	maxLen := 0
	for _, l := range lens {
		count[l]++
		maxLen = max(maxLen, int(l))
	}
	count[0] = 0
	left := 1
	for l := 1; l <= maxCodeLen; l++ {
		left = left<<1 - count[l]
		if left < 0 {
			return false // over-subscribed
		}
	}
	if left > 0 && maxLen > 1 {
		return false // incomplete
	}
	main := 1 << tableBits
	for i := range main {
		table[i] = flagInvalid
	}
	var next [maxCodeLen + 2]int
	code := 0
	for l := 1; l <= maxCodeLen; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	subBits := uint(max(maxLen-int(tableBits), 0))
	free := main
	for s, l := range lens {
		if l == 0 {
			continue
		}
		c := next[l]
		next[l]++
		rev := reverse(c, uint(l))
		if uint(l) <= tableBits {
			e := entry[s] | uint32(l)<<8 + uint32(l)
			for i := rev; i < main; i += 1 << l {
				table[i] = e
			}
			continue
		}
		prefix := rev & (main - 1)
		if table[prefix]&flagSub == 0 {
			for i := range 1 << subBits {
				table[free+i] = flagInvalid
			}
			table[prefix] = uint32(free)<<16 | flagSub | uint32(subBits)<<8
			free += 1 << subBits
		}
		start := int(table[prefix] >> 16)
		rl := uint(l) - tableBits
		e := entry[s] | uint32(rl)<<8 + uint32(rl)
		for i := rev >> tableBits; i < 1<<subBits; i += 1 << rl {
			table[start+i] = e
		}
	}
	return true
}

// reverse returns the n low bits of c in reverse order.
func reverse(c int, n uint) int {
	r := 0
	for range n {
		r = r<<1 | c&1
		c >>= 1
	}
	return r
}
