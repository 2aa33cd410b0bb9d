package tokenize

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// PatternLlama3 is the pre-tokenizer split pattern of Llama 3 (and of
// OpenAI's cl100k_base). splitLlama3 implements it by hand.
const PatternLlama3 = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

// splitLlama3 appends to ends the end offset of each piece that
// PatternLlama3 cuts s into (the pieces cover s). At each position it takes
// the first alternative of the pattern that matches, as a backtracking
// regex engine does:
//
//  1. 's 't 're 've 'm 'll 'd, any case
//  2. one optional character that is not \r, \n, a letter or a number, then letters
//  3. one to three numbers
//  4. an optional space, characters that are not space, letter or number, then \r and \n
//  5. white space up to and including its last \r or \n
//  6. white space not followed by a non-space: a run followed by text loses its last character
//  7. white space
func splitLlama3(s string, ends []int) []int { return splitGPT4(s, ends, 3) }

// qwen2Pattern is the pre-tokenizer split pattern of Qwen2, Qwen2.5 and
// Qwen3: PatternLlama3 with single numbers (\p{N} for \p{N}{1,3}).
const qwen2Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

// splitQwen2 is splitLlama3 for qwen2Pattern.
func splitQwen2(s string, ends []int) []int { return splitGPT4(s, ends, 1) }

// splitGPT4 is splitLlama3 with numbers cut into runs of at most digits.
func splitGPT4(s string, ends []int, digits int) []int {
	i := 0
	for i < len(s) {
		// ASCII first, without a call: most pieces are a word with the
		// space or mark before it.
		var c0 uint8
		n0 := 1
		if b := s[i]; b < utf8.RuneSelf {
			c0 = asciiClass[b]
		} else {
			c0, n0 = classAt(s, i)
		}
		// 1. Contractions.
		if s[i] == '\'' {
			if m := contraction(s, i+1); m > 0 {
				i += 1 + m
				ends = append(ends, i)
				continue
			}
		}
		// 2. [^\r\n\p{L}\p{N}]?\p{L}+
		j := i + n0
		if c0 == clsOther || c0 == clsSpace {
			if j < len(s) {
				if b := s[j]; b < utf8.RuneSelf && asciiClass[b] == clsLetter {
					c0 = clsLetter
					j++
				} else if b >= utf8.RuneSelf {
					if c1, n1 := classAt(s, j); c1 == clsLetter {
						c0 = clsLetter
						j += n1
					}
				}
			}
		}
		if c0 == clsLetter {
			j = asciiLettersEnd(s, j)
			if j < len(s) && s[j] >= utf8.RuneSelf {
				j = skipClass(s, j, clsLetter)
			}
			i = j
			ends = append(ends, i)
			continue
		}
		// 3. \p{N}{1,3}
		if c0 == clsNumber {
			j := i + n0
			for k := 1; k < digits && j < len(s); k++ {
				c, n := classAt(s, j)
				if c != clsNumber {
					break
				}
				j += n
			}
			i = j
			ends = append(ends, i)
			continue
		}
		// 4. ' ?[^\s\p{L}\p{N}]+[\r\n]*'
		// classAt written out here and below (with its call it is too
		// large to inline): ASCII by table, the rest by classAtRune.
		j = i
		if s[i] == ' ' && i+1 < len(s) {
			c1 := asciiClass[s[i+1]&0x7f]
			if s[i+1] >= utf8.RuneSelf {
				c1, _ = classAtRune(s, i+1)
			}
			if c1 == clsOther {
				j = i + 1
			}
		}
		c := asciiClass[s[j]&0x7f]
		if s[j] >= utf8.RuneSelf {
			c, _ = classAtRune(s, j)
		}
		if c == clsOther {
			j = skipClass(s, j, clsOther)
			for j < len(s) && (s[j] == '\r' || s[j] == '\n') {
				j++
			}
			i = j
			ends = append(ends, i)
			continue
		}
		// 5-7: a run of white space.
		end, lastNL, lastStart := i, -1, i
		for end < len(s) {
			c, n := asciiClass[s[end]&0x7f], 1
			if s[end] >= utf8.RuneSelf {
				c, n = classAtRune(s, end)
			}
			if c != clsSpace && c != clsNewline {
				break
			}
			if c == clsNewline {
				lastNL = end
			}
			lastStart = end
			end += n
		}
		switch {
		case lastNL >= 0: // 5. \s*[\r\n]+
			i = lastNL + 1
		case end == len(s): // 6. at the end of the text
			i = end
		case lastStart > i: // 6. followed by text: all but the last character
			i = lastStart
		default: // 7. a single white-space character before text
			i = end
		}
		ends = append(ends, i)
	}
	return ends
}

// asciiLettersEnd returns the offset after the run of ASCII letters
// starting at i: eight bytes at a time, so that a word costs one test
// rather than a branch per letter.
func asciiLettersEnd(s string, i int) int {
	for i+8 <= len(s) {
		if other := nonLetters(binary.LittleEndian.Uint64([]byte(s[i : i+8]))); other != 0 {
			return i + bits.TrailingZeros64(other)>>3
		}
		i += 8
	}
	for i < len(s) && s[i] < utf8.RuneSelf && asciiClass[s[i]] == clsLetter {
		i++
	}
	return i
}

// nonLetters returns the eight bytes of x (little-endian) with the high
// bit set in each byte that is not an ASCII letter and the other bits
// clear. No sum carries into the next byte: each adds at most 0x1f to a
// byte of at most 0x7f.
func nonLetters(x uint64) uint64 {
	const ones, high = 0x0101010101010101, 0x8080808080808080
	lower := (x | 0x20*ones) &^ high // A-Z to a-z; bytes >= 0x80 are marked by x's high bits
	atLeastA := lower + (0x80-'a')*ones
	pastZ := lower + (0x80-'z'-1)*ones
	return (^atLeastA | pastZ | x) & high
}

// asciiClass is bmpClass for ASCII, as a value (no pointer to load).
var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for b := range t {
		t[b] = classify(rune(b))
	}
	return t
}()

// skipClass returns the offset after the run of class cls starting at i.
func skipClass(s string, i int, cls uint8) int {
	for i < len(s) {
		if b := s[i]; b < utf8.RuneSelf { // ASCII without a call
			if asciiClass[b] != cls {
				break
			}
			i++
			continue
		}
		c, n := classAt(s, i)
		if c != cls {
			break
		}
		i += n
	}
	return i
}

// contraction returns the byte length of s, re, ve, ll, t, m or d (any
// case; U+017F LONG S folds to s) at s[i:], or 0.
func contraction(s string, i int) int {
	if i >= len(s) {
		return 0
	}
	lower := func(c byte) byte { return c | 0x20 }
	switch lower(s[i]) {
	case 's', 't', 'm', 'd':
		return 1
	case 'r', 'v':
		if i+1 < len(s) && lower(s[i+1]) == 'e' {
			return 2
		}
	case 'l':
		if i+1 < len(s) && lower(s[i+1]) == 'l' {
			return 2
		}
	}
	if r, n := utf8.DecodeRuneInString(s[i:]); r == 'ſ' {
		return n
	}
	return 0
}
