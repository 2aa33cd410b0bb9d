package tokenize

import "strings"

// PatternO200k is the pre-tokenizer split pattern of OpenAI's o200k_base
// (GPT-4o, gpt-oss). splitO200k implements it by hand.
var PatternO200k = strings.Join([]string{
	`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?`,
	`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?`,
	`\p{N}{1,3}`,
	` ?[^\s\p{L}\p{N}]+[\r\n/]*`,
	`\s*[\r\n]+`,
	`\s+(?!\S)`,
	`\s+`,
}, "|")

// The two letter classes of PatternO200k: "upper" [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
// and "lower" [\p{Ll}\p{Lm}\p{Lo}\p{M}]; they share \p{Lm}, \p{Lo} and \p{M}.
const (
	o200kUpper = propUpper | propOtherLetter | propM
	o200kLower = propLower | propOtherLetter | propM
)

// splitO200k appends to ends the end offset of each piece that PatternO200k
// cuts s into (the pieces cover s), taking at each position the first
// alternative that matches, as a backtracking regex engine does:
//
//  1. an optional character that is not \r, \n, a letter or a number, then
//     upper-class characters and at least one lower-class one, then an
//     optional contraction ('s 't 're 've 'm 'll 'd, any case)
//  2. the same with at least one upper-class character and any lower-class ones
//  3. one to three numbers
//  4. an optional space, characters that are not space, letter or number, then \r, \n and /
//     5-7. white space, as in splitLlama3
func splitO200k(s string, ends []int) []int {
	i := 0
	for i < len(s) {
		p0, n0 := propsAt(s, i)
		if end := o200kWord(s, i, p0, n0); end > 0 {
			i = end
		} else if p0&propN != 0 {
			i, _ = skipProps(s, i, len(s), propN, 3)
		} else if end := o200kOther(s, i); end > 0 {
			i = end
		} else {
			i = spaceRunEnd(s, i, len(s))
		}
		ends = append(ends, i)
	}
	return ends
}

// o200kWord returns the end of alternatives 1 and 2 of PatternO200k at
// s[i] (whose properties are p0 and width n0), or 0.
func o200kWord(s string, i int, p0 uint16, n0 int) int {
	prefix := s[i] != '\r' && s[i] != '\n' && p0&(propL|propN) == 0 && i+n0 < len(s)
	end := 0
	if prefix {
		end = upperLower(s, i+n0)
	}
	if end == 0 {
		end = upperLower(s, i)
	}
	if end == 0 && prefix {
		end = upperThenLower(s, i+n0)
	}
	if end == 0 {
		end = upperThenLower(s, i)
	}
	if end == 0 {
		return 0
	}
	if end < len(s) && s[end] == '\'' {
		if m := contraction(s, end+1); m > 0 {
			end += 1 + m
		}
	}
	return end
}

// upperLower matches [upper]*[lower]+ at s[j] as a backtracking engine
// does, returning the end of the match or 0: the upper run is taken whole
// and followed by the lower run after it; when no lower character follows,
// the upper run gives back characters down to its last one that is also of
// the lower class (\p{Lm}, \p{Lo}, \p{M}).
func upperLower(s string, j int) int {
	k, lastLower := j, 0
	for k < len(s) {
		p, n := propsAt(s, k)
		if p&o200kUpper == 0 {
			break
		}
		k += n
		if p&o200kLower != 0 {
			lastLower = k
		}
	}
	if k < len(s) {
		if p, _ := propsAt(s, k); p&o200kLower != 0 {
			end, _ := skipProps(s, k, len(s), o200kLower, -1)
			return end
		}
	}
	return lastLower
}

// upperThenLower matches [upper]+[lower]* at s[j], returning the end of
// the match or 0.
func upperThenLower(s string, j int) int {
	k, n := skipProps(s, j, len(s), o200kUpper, -1)
	if n == 0 {
		return 0
	}
	end, _ := skipProps(s, k, len(s), o200kLower, -1)
	return end
}

// o200kOther returns the end of alternative 4 of PatternO200k at s[i],
// ` ?[^\s\p{L}\p{N}]+[\r\n/]*`, or 0.
func o200kOther(s string, i int) int {
	const notOther = propSpace | propL | propN
	j := i
	if s[i] == ' ' && i+1 < len(s) {
		if p1, _ := propsAt(s, i+1); p1&notOther == 0 {
			j = i + 1
		}
	}
	if p, _ := propsAt(s, j); p&notOther != 0 {
		return 0
	}
	for j < len(s) {
		p, n := propsAt(s, j)
		if p&notOther != 0 {
			break
		}
		j += n
	}
	for j < len(s) && (s[j] == '\r' || s[j] == '\n' || s[j] == '/') {
		j++
	}
	return j
}
