package tokenize

import "unicode/utf8"

// deepSeekPatterns are the pre-tokenizer Split patterns of DeepSeek V3 and
// R1, applied in turn (each to the pieces of the one before).
// splitDeepSeek implements them by hand.
var deepSeekPatterns = []string{
	`\p{N}{1,3}`,
	"[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+",
	"[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
}

// splitDeepSeek appends to ends the end offset of each piece that
// deepSeekPatterns cut s into (the pieces cover s):
//
//  1. runs of one to three numbers, and the text between them;
//  2. in that text, runs of CJK ideographs (U+4E00 to U+9FA5), hiragana
//     and katakana, and the text between them;
//  3. each piece of step 2 cut by the third pattern (splitDeepSeekWords).
func splitDeepSeek(s string, ends []int) []int {
	i := 0
	for i < len(s) {
		// Text up to the next number.
		j := i
		for j < len(s) {
			p, n := propsAt(s, j)
			if p&propN != 0 {
				break
			}
			j += n
		}
		if j > i {
			ends = splitDeepSeekKana(s, i, j, ends)
		}
		if j == len(s) {
			break
		}
		// A piece made of numbers alone is one piece in step 3: no
		// alternative of its pattern matches a number.
		i, _ = skipProps(s, j, len(s), propN, 3)
		ends = append(ends, i)
	}
	return ends
}

// isKana reports whether r is in the class of deepSeekPatterns[1].
func isKana(r rune) bool {
	return r >= 0x4e00 && r <= 0x9fa5 || r >= 0x3040 && r <= 0x30ff
}

// splitDeepSeekKana cuts s[from:to] by step 2 of splitDeepSeek, and each
// piece by step 3.
func splitDeepSeekKana(s string, from, to int, ends []int) []int {
	i := from
	for i < to {
		j, kana := i, false
		for j < to {
			r, n := rune(s[j]), 1
			if r >= utf8.RuneSelf {
				r, n = utf8.DecodeRuneInString(s[j:])
			}
			if j == i {
				kana = isKana(r)
			} else if isKana(r) != kana {
				break
			}
			j += n
		}
		ends = splitDeepSeekWords(s, i, j, ends)
		i = j
	}
	return ends
}

// splitDeepSeekWords cuts s[from:to] by the third of deepSeekPatterns,
// taking at each position the first alternative that matches, as a
// backtracking regex engine does; text where none matches is kept as
// pieces of its own (behaviour Isolated):
//
//  1. an ASCII punctuation character, then ASCII letters
//  2. an optional character that is not \r, \n, a letter, punctuation or a
//     symbol, then letters and marks
//  3. an optional space, punctuation and symbols, then \r and \n
//     4-6. white space, as in splitLlama3
func splitDeepSeekWords(s string, from, to int, ends []int) []int {
	i, gap := from, false
	for i < to {
		end := deepSeekWord(s, i, to)
		if end == 0 {
			_, n := propsAt(s, i)
			i += n
			gap = true
			continue
		}
		if gap {
			ends = append(ends, i)
			gap = false
		}
		ends = append(ends, end)
		i = end
	}
	if gap {
		ends = append(ends, to)
	}
	return ends
}

// deepSeekWord returns the end of the match of the third of
// deepSeekPatterns at s[i] in the text s[:to], or 0.
func deepSeekWord(s string, i, to int) int {
	p0, n0 := propsAt(s, i)
	// 1. [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+
	if isASCIIPunct(s[i]) && i+1 < to && isASCIILetter(s[i+1]) {
		j := i + 2
		for j < to && isASCIILetter(s[j]) {
			j++
		}
		return j
	}
	// 2. [^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+
	if s[i] != '\r' && s[i] != '\n' && p0&(propL|propP|propS) == 0 && i+n0 < to {
		if end, n := skipProps(s, i+n0, to, propL|propM, -1); n > 0 {
			return end
		}
	}
	if p0&(propL|propM) != 0 {
		end, _ := skipProps(s, i, to, propL|propM, -1)
		return end
	}
	// 3. ' ?[\p{P}\p{S}]+[\r\n]*'
	j := i
	if s[i] == ' ' && i+1 < to {
		if p1, _ := propsAt(s, i+1); p1&(propP|propS) != 0 {
			j = i + 1
		}
	}
	if p, _ := propsAt(s, j); p&(propP|propS) != 0 {
		j, _ = skipProps(s, j, to, propP|propS, -1)
		for j < to && (s[j] == '\r' || s[j] == '\n') {
			j++
		}
		return j
	}
	// 4-6. White space.
	if p0&propSpace != 0 {
		return spaceRunEnd(s, i, to)
	}
	return 0
}

func isASCIIPunct(c byte) bool {
	return c >= '!' && c <= '/' || c >= ':' && c <= '@' || c >= '[' && c <= '`' || c >= '{' && c <= '~'
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
