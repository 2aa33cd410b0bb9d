package gunzip

import (
	"io"
	"unsafe"
)

// huffman decodes a block's codes into the window until the block ends
// (then it moves on to the next state), the window is full to limit, or
// the data is bad. It loads the bit buffer eight bytes at a time, so it
// works while eight bytes of input are there; at the end of the input the
// zeros of the padding stand in, and a code that takes bits past the end
// is io.ErrUnexpectedEOF.
//
// The loop reads and writes through unsafe pointers, without bounds
// checks (they cost a fifth of the time, mostly in registers spilled):
// input loads are at ip <= len(in)-8; table indexes are masked to the
// table's size (a power of two); matches lie in the window: w < limit
// and a match is at most 258 bytes, so a copy's end, with a word's
// overshoot, is within the slack after limit; it starts at w-dist >=
// hist >= 0.
func (z *Reader) huffman() error {
	for {
		end := z.iend
		if z.eof {
			end += pad
		}
		in := unsafe.Pointer(unsafe.SliceData(z.in))
		last := end - 8 // the last place to load eight bytes from
		win := unsafe.Pointer(unsafe.SliceData(z.win))
		ll, dt := z.ll, z.dt
		ip, w := z.ip, z.w
		bitbuf, bitsleft := z.bitbuf, z.bitsleft
		var err error
		eob := false
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
			e := ll[bitbuf&(1<<litlenBits-1)]
			for {
				if e&flagSub != 0 {
					bitbuf >>= litlenBits
					bitsleft -= litlenBits
					e = ll[(e>>16+uint32(bitbuf)&(1<<(e>>8&15)-1))&(litlenTableSize-1)]
				}
				// Consume the code and its extra bits at once (one
				// shift on the path to the next lookup); the extra bits
				// are read from what was there before.
				saved := bitbuf
				t := uint(e & 31)
				bitbuf >>= t
				bitsleft -= t
				if e&flagLiteral != 0 {
					if uint(ip)*8-bitsleft > z.endBits {
						err = io.ErrUnexpectedEOF
						break decode
					}
					*(*byte)(unsafe.Add(win, w)) = byte(e >> 16)
					w++
					if w >= limit || ip > last {
						break decode
					}
					bitbuf |= load64(unsafe.Add(in, ip)) << (bitsleft & 63)
					ip += int((63 - bitsleft) >> 3)
					bitsleft |= 56
					e = ll[bitbuf&(1<<litlenBits-1)]
					continue
				}
				if e&(flagEOB|flagInvalid) != 0 {
					if e&flagInvalid != 0 {
						err = z.corrupt()
					} else if uint(ip)*8-bitsleft > z.endBits {
						err = io.ErrUnexpectedEOF
					}
					eob = true
					break decode
				}
				length := int(e>>16) + int(saved&(1<<t-1)>>(e>>8&15))
				e = dt[bitbuf&(1<<distBits-1)]
				if e&flagSub != 0 {
					bitbuf >>= distBits
					bitsleft -= distBits
					e = dt[(e>>16+uint32(bitbuf)&(1<<(e>>8&15)-1))&(distTableSize-1)]
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
				if uint(ip)*8-bitsleft > z.endBits {
					err = io.ErrUnexpectedEOF
					break decode
				}
				if dist > w-z.hist {
					err = z.corrupt()
					break decode
				}
				// Look the next code up before copying, so that the
				// load overlaps the copy.
				more := ip <= last
				if more {
					bitbuf |= load64(unsafe.Add(in, ip)) << (bitsleft & 63)
					ip += int((63 - bitsleft) >> 3)
					bitsleft |= 56
					e = ll[bitbuf&(1<<litlenBits-1)]
				}
				dst := unsafe.Add(win, w)
				src := unsafe.Add(win, w-dist)
				if dist >= 8 {
					// Eight bytes at a time, the first sixteen whatever
					// the length (most matches are shorter), up to 15
					// past the match: each word read was written before.
					*(*uint64)(dst) = *(*uint64)(src)
					*(*uint64)(unsafe.Add(dst, 8)) = *(*uint64)(unsafe.Add(src, 8))
					for i := 16; i < length; i += 8 {
						*(*uint64)(unsafe.Add(dst, i)) = *(*uint64)(unsafe.Add(src, i))
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
		if err != nil {
			return err
		}
		z.settle()
		if eob {
			z.endBlock()
			return nil
		}
		if w >= limit {
			return nil
		}
		if z.eof {
			return io.ErrUnexpectedEOF
		}
		if err := z.fill(); err != nil {
			return err
		}
	}
}
