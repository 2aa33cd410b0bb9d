// Package gunzip reads gzip data (RFC 1952) about four times as fast as
// compress/gzip, with the same results: the same bytes for every stream
// compress/gzip reads, and an error for every stream it refuses (the same
// error values: gzip.ErrHeader, gzip.ErrChecksum, flate.CorruptInputError,
// io.ErrUnexpectedEOF).
//
// The DEFLATE decoder (RFC 1951) works the way libdeflate's does: a 64-bit
// bit buffer refilled eight bytes at a time, table lookups that give a
// literal, a length or a distance with its extra bits in one step, and
// matches copied eight bytes at a time into a window with room to spare;
// that loop checks neither the end of the input nor distances, which a
// careful loop does where they can be wrong (the last bytes of the input,
// the first 32 KB of a member). Reader.Ahead runs the decoder in a
// goroutine of its own, a few megabytes ahead of its caller. Memory is
// fixed (about 1.4 MB a Reader, and 1 MB a chunk ahead), whatever the
// input's size.
package gunzip

import (
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"hash/crc32"
	"io"
)

const (
	windowSize = 32 << 10 // DEFLATE's largest distance
	chunkSize  = 1 << 20  // output decoded between reads (1 MB: measured best of 64 KB-4 MB)
	slack      = 258 + 16 // a whole match, plus a word copy's overshoot
	inSize     = 256 << 10
	limit      = windowSize + chunkSize // decoding stops at or past it
	pad        = 16                     // zero bytes after the end of the input
	maxString  = 512                    // longest name or comment, its zero included
)

// The decoder's states between blocks and members.
const (
	stateBlock     = iota // next: a block header
	stateStored           // in a stored block
	stateHuffman          // in a block of Huffman codes
	stateMemberEnd        // after the last block: trailer, next member
	stateEOF              // after the last member
)

// A Reader is an io.Reader that decompresses gzip data read from another
// reader. Like compress/gzip's, it reads every member of a multi-member
// stream (as cat a.gz b.gz writes) as one, checks each member's CRC-32 and
// size, and may read past the end of the gzip data from the underlying
// reader (it buffers its input).
type Reader struct {
	src io.Reader
	err error

	// in[ip:iend] is input not yet read. At the end of the input (eof),
	// pad zero bytes follow in[iend] so that the decoder can load eight
	// bytes at a time to the end; endBits (iend*8, else no limit) is
	// where the real bits end.
	in       []byte
	ip, iend int
	eof      bool
	endBits  uint
	off      int64 // input bytes dropped before in[0]

	// bitbuf holds bitsleft bits of input, next bit lowest. In the
	// decoding loop the bits above may hold copies of the next input byte;
	// elsewhere they are zero.
	bitbuf   uint64
	bitsleft uint

	// win[:w] is output, the last windowSize bytes of which may be
	// referred to by matches; win[r:w] is not yet handed out; the
	// member's output starts at win[hist] (or before win[0]).
	win     []byte
	w, r    int
	hist    int
	crcFrom int // win[crcFrom:w] is not yet in crc and size
	crc     uint32
	size    uint32
	state   int
	final   bool   // the block being read is the member's last
	stored  int    // bytes left in a stored block
	codes   *codes // the block's codes: fixed or dyn
	dyn     *codes
	pre     [precodeTableSize]uint32
	lens    [286 + 30]uint8
	hdrCRC  uint32
}

// NewReader returns a Reader of the gzip data r gives, having read the
// first member's header: io.EOF if r is empty, gzip.ErrHeader if it does
// not start as gzip data does.
func NewReader(r io.Reader) (*Reader, error) {
	z := &Reader{
		src:     r,
		in:      make([]byte, inSize+pad),
		endBits: ^uint(0),
		win:     make([]byte, windowSize+chunkSize+slack),
		dyn:     new(codes),
	}
	if err := z.fill(); err != nil {
		return nil, err
	}
	if z.ip == z.iend {
		return nil, io.EOF
	}
	if err := z.header(); err != nil {
		return nil, err
	}
	return z, nil
}

// Read reads up to len(p) decompressed bytes into p. It returns io.EOF
// after the last member, once its checksum has been verified.
func (z *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if z.r < z.w {
			n := copy(p, z.win[z.r:z.w])
			z.r += n
			return n, nil
		}
		if z.err != nil {
			return 0, z.err
		}
		if z.w >= limit {
			z.slide()
		}
		z.err = z.decode()
	}
}

// Close does nothing (it is there to stand in for a gzip.Reader).
func (z *Reader) Close() error { return nil }

// slide moves the last windowSize bytes of output to the start of win.
func (z *Reader) slide() {
	d := z.w - windowSize
	copy(z.win, z.win[d:z.w])
	z.w -= d
	z.r -= d
	z.crcFrom -= d
	z.hist = max(z.hist-d, 0)
}

// decode decompresses until win is full to limit, or the data ends
// (io.EOF) or is bad.
func (z *Reader) decode() error {
	defer z.sum()
	for z.w < limit {
		var err error
		switch z.state {
		case stateBlock:
			err = z.blockHeader()
		case stateStored:
			err = z.storedBlock()
		case stateHuffman:
			err = z.huffman()
		case stateMemberEnd:
			err = z.memberEnd()
		case stateEOF:
			return io.EOF
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// sum adds the output not yet summed to the member's CRC-32 and size.
func (z *Reader) sum() {
	if z.crcFrom < z.w {
		z.crc = crc32.Update(z.crc, crc32.IEEETable, z.win[z.crcFrom:z.w])
		z.size += uint32(z.w - z.crcFrom)
		z.crcFrom = z.w
	}
}

func (z *Reader) corrupt() error {
	return flate.CorruptInputError(z.off + int64(z.ip))
}

// fill reads more input, keeping the unread bytes and the eight before
// them (which may be in the bit buffer, to be given back by align). At
// the end of the input it pads it with zeros and sets eof.
func (z *Reader) fill() error {
	if z.eof {
		return nil
	}
	if keep := z.ip - 8; keep > 0 {
		z.iend = copy(z.in, z.in[keep:z.iend])
		z.ip -= keep
		z.off += int64(keep)
	}
	for empty := 0; ; {
		n, err := z.src.Read(z.in[z.iend:inSize])
		z.iend += n
		if n == 0 && err == nil {
			if empty++; empty == 100 { // as bufio gives up on a reader
				return io.ErrNoProgress
			}
		}
		if err == io.EOF {
			z.eof = true
			clear(z.in[z.iend : z.iend+pad])
			z.endBits = uint(z.iend) * 8
			return nil
		}
		if err != nil {
			return err
		}
		if z.iend-z.ip >= 8 || z.iend == inSize {
			return nil
		}
	}
}

// settle leaves the bit buffer as code outside the decoding loop wants
// it: no bits above bitsleft, none loaded from the zeros after the input.
func (z *Reader) settle() {
	if z.ip > z.iend {
		z.bitsleft -= uint(z.ip-z.iend) * 8
		z.ip = z.iend
	}
	z.bitbuf &= 1<<z.bitsleft - 1
}

// need makes sure the bit buffer holds at least n bits (n <= 56).
func (z *Reader) need(n uint) error {
	for z.bitsleft < n {
		if z.ip >= z.iend {
			if err := z.fill(); err != nil {
				return err
			}
			if z.ip >= z.iend {
				return io.ErrUnexpectedEOF
			}
		}
		z.bitbuf |= uint64(z.in[z.ip]) << z.bitsleft
		z.ip++
		z.bitsleft += 8
	}
	return nil
}

// take consumes n bits (need(n) having said they are there).
func (z *Reader) take(n uint) uint32 {
	v := uint32(z.bitbuf & (1<<n - 1))
	z.bitbuf >>= n
	z.bitsleft -= n
	return v
}

// align drops the bits up to the next byte boundary and gives the whole
// bytes left in the bit buffer back to the input.
func (z *Reader) align() {
	z.bitsleft -= z.bitsleft & 7
	z.ip -= int(z.bitsleft >> 3)
	z.bitbuf, z.bitsleft = 0, 0
}

// readByte reads one byte of input (the bit buffer being empty).
func (z *Reader) readByte() (byte, error) {
	if z.ip >= z.iend {
		if err := z.fill(); err != nil {
			return 0, err
		}
		if z.ip >= z.iend {
			return 0, io.ErrUnexpectedEOF
		}
	}
	b := z.in[z.ip]
	z.ip++
	return b, nil
}

// readFull reads len(b) bytes of input into b (the bit buffer being
// empty).
func (z *Reader) readFull(b []byte) error {
	for i := range b {
		c, err := z.readByte()
		if err != nil {
			return err
		}
		b[i] = c
	}
	return nil
}

// header reads a member's header (RFC 1952 2.3) and starts the member.
func (z *Reader) header() error {
	var h [10]byte
	if err := z.readFull(h[:]); err != nil {
		return err
	}
	if h[0] != 0x1f || h[1] != 0x8b || h[2] != 8 {
		return gzip.ErrHeader
	}
	flg := h[3]
	z.hdrCRC = crc32.ChecksumIEEE(h[:])
	if flg&0x04 != 0 { // FEXTRA
		lo, err := z.headerByte()
		if err != nil {
			return err
		}
		hi, err := z.headerByte()
		if err != nil {
			return err
		}
		for range int(lo) | int(hi)<<8 {
			if _, err := z.headerByte(); err != nil {
				return err
			}
		}
	}
	for _, f := range []byte{0x08, 0x10} { // FNAME, FCOMMENT: zero-terminated
		if flg&f == 0 {
			continue
		}
		for i := 0; ; i++ {
			if i == maxString {
				return gzip.ErrHeader // as compress/gzip refuses it
			}
			b, err := z.headerByte()
			if err != nil {
				return err
			}
			if b == 0 {
				break
			}
		}
	}
	if flg&0x02 != 0 { // FHCRC
		var c [2]byte
		if err := z.readFull(c[:]); err != nil {
			return err
		}
		if binary.LittleEndian.Uint16(c[:]) != uint16(z.hdrCRC) {
			return gzip.ErrHeader
		}
	}
	z.hist, z.crcFrom = z.w, z.w
	z.crc, z.size = 0, 0
	z.state, z.final = stateBlock, false
	return nil
}

// headerByte reads a byte of a header's optional fields into its CRC.
func (z *Reader) headerByte() (byte, error) {
	b, err := z.readByte()
	if err != nil {
		return 0, noEOF(err)
	}
	z.hdrCRC = crc32.Update(z.hdrCRC, crc32.IEEETable, []byte{b})
	return b, nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// memberEnd checks a member's trailer and starts the next member, if any.
func (z *Reader) memberEnd() error {
	z.align()
	var t [8]byte
	if err := z.readFull(t[:]); err != nil {
		return err
	}
	z.sum()
	if binary.LittleEndian.Uint32(t[:4]) != z.crc || binary.LittleEndian.Uint32(t[4:]) != z.size {
		return gzip.ErrChecksum
	}
	if z.ip >= z.iend {
		if err := z.fill(); err != nil {
			return err
		}
		if z.ip >= z.iend {
			z.state = stateEOF
			return io.EOF
		}
	}
	return z.header()
}

// endBlock moves on after a block.
func (z *Reader) endBlock() {
	if z.final {
		z.state = stateMemberEnd
	} else {
		z.state = stateBlock
	}
}

// blockHeader reads a block's header (and a dynamic block's code lengths).
func (z *Reader) blockHeader() error {
	if err := z.need(3); err != nil {
		return err
	}
	z.final = z.take(1) == 1
	switch z.take(2) {
	case 0:
		z.align()
		var b [4]byte
		if err := z.readFull(b[:]); err != nil {
			return err
		}
		n := binary.LittleEndian.Uint16(b[:2])
		if ^n != binary.LittleEndian.Uint16(b[2:]) {
			return z.corrupt()
		}
		z.stored, z.state = int(n), stateStored
	case 1:
		z.codes, z.state = fixed, stateHuffman
	case 2:
		if err := z.dynamicHeader(); err != nil {
			return err
		}
		z.codes, z.state = z.dyn, stateHuffman
	default:
		return z.corrupt()
	}
	return nil
}

// precodeOrder is the order of the code length code's lengths.
var precodeOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// dynamicHeader reads a dynamic block's codes (RFC 1951 3.2.7) into
// dyn.
func (z *Reader) dynamicHeader() error {
	if err := z.need(14); err != nil {
		return err
	}
	nlit := int(z.take(5)) + 257
	ndist := int(z.take(5)) + 1
	nclen := int(z.take(4)) + 4
	if nlit > 286 || ndist > 30 {
		return z.corrupt()
	}
	var plens [19]uint8
	for _, s := range precodeOrder[:nclen] {
		if err := z.need(3); err != nil {
			return err
		}
		plens[s] = uint8(z.take(3))
	}
	if !build(z.pre[:], precodeBits, plens[:], precodeEntry[:]) {
		return z.corrupt()
	}
	n := nlit + ndist
	lens := z.lens[:n]
	for i := 0; i < n; {
		// At the end of the input the code may take fewer bits than
		// precodeBits: look it up with zeros after the input.
		if err := z.need(precodeBits); err != nil && (err != io.ErrUnexpectedEOF || z.bitsleft == 0) {
			return err
		}
		e := z.pre[z.bitbuf&(1<<precodeBits-1)]
		if e&flagInvalid != 0 {
			return z.corrupt()
		}
		if l := uint(e >> 8 & 15); l > z.bitsleft {
			return io.ErrUnexpectedEOF
		} else {
			z.take(l)
		}
		sym := uint8(e >> 16)
		if sym < 16 {
			lens[i] = sym
			i++
			continue
		}
		var rep int
		var val uint8
		switch sym {
		case 16:
			if i == 0 {
				return z.corrupt()
			}
			if err := z.need(2); err != nil {
				return err
			}
			rep, val = 3+int(z.take(2)), lens[i-1]
		case 17:
			if err := z.need(3); err != nil {
				return err
			}
			rep = 3 + int(z.take(3))
		default:
			if err := z.need(7); err != nil {
				return err
			}
			rep = 11 + int(z.take(7))
		}
		if i+rep > n {
			return z.corrupt()
		}
		for range rep {
			lens[i] = val
			i++
		}
	}
	if !build(z.dyn.ll[:], litlenBits, lens[:nlit], litlenEntry[:nlit]) ||
		!build(z.dyn.dt[:], distBits, lens[nlit:], distEntry[:ndist]) {
		return z.corrupt()
	}
	return nil
}

// storedBlock copies a stored block's bytes to the output.
func (z *Reader) storedBlock() error {
	for z.stored > 0 && z.w < limit {
		if z.ip >= z.iend {
			if err := z.fill(); err != nil {
				return err
			}
			if z.ip >= z.iend {
				return io.ErrUnexpectedEOF
			}
		}
		n := copy(z.win[z.w:z.w+min(z.stored, limit-z.w)], z.in[z.ip:z.iend])
		z.w += n
		z.ip += n
		z.stored -= n
	}
	if z.stored == 0 {
		z.endBlock()
	}
	return nil
}
