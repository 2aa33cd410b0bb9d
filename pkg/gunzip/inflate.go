package gunzip

import (
	"encoding/binary"
	"io"
	"unsafe"
)

// huffman decodes a block's codes into the window until the block ends
// (then it moves on to the next state), the window is full to limit, or
// the data is bad. Most codes go through fast; careful decodes the first
// window of a member's output, where a distance may reach before its
// start, and the last bytes of the input.
func (z *Reader) huffman() error {
	for {
		var eob bool
		var err error
		switch {
		case z.ip <= z.iend-8 && z.w-z.hist >= windowSize:
			eob, err = z.fast()
		case z.ip <= z.iend-8 || z.eof:
			eob, err = z.careful()
		default:
			err = z.fill()
		}
		if err != nil {
			return err
		}
		if eob {
			z.endBlock()
			return nil
		}
		if z.w >= limit {
			return nil
		}
	}
}

// fast decodes codes while eight bytes of input are left (it loads the bit
// buffer eight bytes at a time, so every bit it takes is input) and the
// window holds windowSize bytes of the member's output (every distance
// DEFLATE can code is within it), so it checks neither.
//
// The loop reads and writes through unsafe pointers, without bounds
// checks (they cost a fifth of the time, mostly in registers spilled):
// input loads are at ip <= iend-8; table indexes are masked to the
// table's size (a power of two); matches lie in the window: w < limit
// and a match is at most 258 bytes, so a copy's end, with a word's
// overshoot, is within the slack after limit; it starts at w-dist >=
// w-windowSize >= hist >= 0.
func (z *Reader) fast() (eob bool, err error) {
	in := unsafe.Pointer(unsafe.SliceData(z.in))
	last := z.iend - 8 // the last place to load eight bytes from
	win := unsafe.Pointer(unsafe.SliceData(z.win))
	c := z.codes
	ip, w := z.ip, z.w
	bitbuf, bitsleft := z.bitbuf, z.bitsleft
decode:
	for w < limit && ip <= last {
		// Refill to 56-63 bits, without a branch (a byte already in
		// the buffer is loaded again, into the bits it is in): 48
		// are enough for a whole match, a literal/length code (15)
		// and its extra bits (5), a distance code (15) and its extra
		// bits (13).
		bitbuf |= load64(unsafe.Add(in, ip)) << (bitsleft & 63)
		ip += int((63 - bitsleft) >> 3)
		bitsleft |= 56
		e := c.ll[bitbuf&(1<<litlenBits-1)]
		for {
			if e&flagSub != 0 {
				bitbuf >>= litlenBits
				bitsleft -= litlenBits
				e = c.ll[(e>>16+uint32(bitbuf)&(1<<(e>>8&15)-1))&(litlenTableSize-1)]
			}
			if e&flagLiteral != 0 {
				t := uint(e & 31)
				bitbuf >>= t
				bitsleft -= t
				*(*byte)(unsafe.Add(win, w)) = byte(e >> 16)
				w++
				if w >= limit || ip > last {
					break decode
				}
				bitbuf |= load64(unsafe.Add(in, ip)) << (bitsleft & 63)
				ip += int((63 - bitsleft) >> 3)
				bitsleft |= 56
				e = c.ll[bitbuf&(1<<litlenBits-1)]
				continue
			}
			// Consume the code and its extra bits at once (one
			// shift on the path to the next lookup); the extra bits
			// are read from what was there before.
			saved := bitbuf
			t := uint(e & 31)
			bitbuf >>= t
			bitsleft -= t
			if e&(flagEOB|flagInvalid) != 0 {
				if e&flagInvalid != 0 {
					err = z.corrupt()
				}
				eob = true
				break decode
			}
			length := int(e>>16) + int(saved&(1<<t-1)>>(e>>8&15))
			e = c.dt[bitbuf&(1<<distBits-1)]
			if e&flagSub != 0 {
				bitbuf >>= distBits
				bitsleft -= distBits
				e = c.dt[(e>>16+uint32(bitbuf)&(1<<(e>>8&15)-1))&(distTableSize-1)]
			}
			if e&flagInvalid != 0 {
				err = z.corrupt()
				break decode
			}
			saved = bitbuf
			t = uint(e & 31)
			bitbuf >>= t
			bitsleft -= t
			dist := int(e>>16) + int(saved&(1<<t-1)>>(e>>8&15))
			// Look the next code up before copying, so that the
			// load overlaps the copy.
			more := ip <= last
			if more {
				bitbuf |= load64(unsafe.Add(in, ip)) << (bitsleft & 63)
				ip += int((63 - bitsleft) >> 3)
				bitsleft |= 56
				e = c.ll[bitbuf&(1<<litlenBits-1)]
			}
			dst := unsafe.Add(win, w)
			src := unsafe.Add(win, w-dist)
			if dist >= 8 {
				// Eight bytes at a time, the first sixteen whatever
				// the length (most matches are shorter), up to 15
				// past the match: each word read was written before.
				*(*uint64)(dst) = *(*uint64)(src)
				*(*uint64)(unsafe.Add(dst, 8)) = *(*uint64)(unsafe.Add(src, 8))
				if length > 16 {
					for i := 16; i < length; i += 8 {
						*(*uint64)(unsafe.Add(dst, i)) = *(*uint64)(unsafe.Add(src, i))
					}
				}
			} else if dist == 1 {
				v := uint64(*(*byte)(src)) * 0x0101010101010101
				for i := 0; i < length; i += 8 {
					*(*uint64)(unsafe.Add(dst, i)) = v
				}
			} else {
				for i := range length {
					*(*byte)(unsafe.Add(dst, i)) = *(*byte)(unsafe.Add(src, i))
				}
			}
			w += length
			if !more || w >= limit {
				break decode
			}
		}
	}
	z.ip, z.w, z.bitbuf, z.bitsleft = ip, w, bitbuf, bitsleft
	z.settle()
	return eob, err
}

// careful decodes codes one at a time, with the checks fast leaves out,
// until the block ends (eob), the window is full to limit, the data is
// bad, or fast can go on (or the input must be refilled). At the end of
// the input its loads reach into the zeros of the padding after it, so
// each code is checked to end within the input before it is used: one
// that takes bits past the end is io.ErrUnexpectedEOF.
func (z *Reader) careful() (eob bool, err error) {
	c := z.codes
	in, win := z.in, z.win
	ip, w := z.ip, z.w
	bitbuf, bitsleft := z.bitbuf, z.bitsleft
	// lookup returns the entry of table (tableBits index bits) for the
	// next code, after its pointer to a subtable if it has one (then the
	// code's first tableBits bits are taken).
	lookup := func(table []uint32, tableBits uint) uint32 {
		e := table[bitbuf&(1<<tableBits-1)]
		if e&flagSub != 0 {
			bitbuf >>= tableBits
			bitsleft -= tableBits
			e = table[e>>16+uint32(bitbuf)&(1<<(e>>8&15)-1)]
		}
		return e
	}
	// take takes entry e's code and extra bits and returns its base plus
	// the extra bits (for a length or a distance).
	take := func(e uint32) int {
		saved := bitbuf
		t := uint(e & 31)
		bitbuf >>= t
		bitsleft -= t
		return int(e>>16) + int(saved&(1<<t-1)>>(e>>8&15))
	}
	// past reports whether the bits taken reach past the end of the
	// input (into the padding).
	past := func() bool { return uint(ip)*8-bitsleft > z.endBits }
	for w < limit {
		if ip > z.iend-8 {
			if !z.eof {
				break
			}
			if ip > z.iend+pad-8 {
				err = io.ErrUnexpectedEOF
				break
			}
		} else if w-z.hist >= windowSize {
			break
		}
		bitbuf |= binary.LittleEndian.Uint64(in[ip:]) << (bitsleft & 63)
		ip += int((63 - bitsleft) >> 3)
		bitsleft |= 56
		e := lookup(c.ll[:], litlenBits)
		length := take(e)
		if e&flagLiteral != 0 {
			if past() {
				err = io.ErrUnexpectedEOF
				break
			}
			win[w] = byte(e >> 16)
			w++
			continue
		}
		if e&flagInvalid != 0 {
			err = z.corrupt()
			break
		}
		if e&flagEOB != 0 {
			if past() {
				err = io.ErrUnexpectedEOF
			}
			eob = true
			break
		}
		e = lookup(c.dt[:], distBits)
		if e&flagInvalid != 0 {
			err = z.corrupt()
			break
		}
		dist := take(e)
		if past() {
			err = io.ErrUnexpectedEOF
			break
		}
		if dist > w-z.hist {
			err = z.corrupt()
			break
		}
		if dist >= length {
			w += copy(win[w:w+length], win[w-dist:])
			continue
		}
		for range length { // the match repeats its own output
			win[w] = win[w-dist]
			w++
		}
	}
	z.ip, z.w, z.bitbuf, z.bitsleft = ip, w, bitbuf, bitsleft
	z.settle()
	return eob && err == nil, err
}
