package tokenize

// splitGPT2 appends to ends the end offset of each piece that gpt2Pattern
// (a ByteLevel pre-tokenizer with use_regex: GPT-2, GPT-J, GPT-NeoX,
// Pythia, ...) cuts s into (the pieces cover s), taking at each position
// the first alternative that matches, as a backtracking regex engine does:
//
//  1. 's 't 're 've 'm 'll 'd, lower case only
//  2. an optional space, then letters
//  3. an optional space, then numbers
//  4. an optional space, then characters that are not space, letter or number
//  5. white space not followed by a non-space: a run followed by text loses its last character
//  6. white space
func splitGPT2(s string, ends []int) []int {
	i := 0
	for i < len(s) {
		if s[i] == '\'' {
			if m := lowerContraction(s, i+1); m > 0 {
				i += 1 + m
				ends = append(ends, i)
				continue
			}
		}
		// 2-4: the class of the character after an optional space.
		j := i
		if s[i] == ' ' && i+1 < len(s) {
			j = i + 1
		}
		switch c, _ := classAt(s, j); {
		case c == clsLetter || c == clsNumber || c == clsOther:
			i = skipClass(s, j, c)
		default:
			// 5-6: a run of white space (\r and \n are white space here).
			end, lastStart := i, i
			for end < len(s) {
				c, n := classAt(s, end)
				if c != clsSpace && c != clsNewline {
					break
				}
				lastStart = end
				end += n
			}
			switch {
			case end == i: // cannot happen: every character is of a class
				_, n := classAt(s, i)
				i += n
			case end == len(s) || lastStart == i:
				i = end
			default:
				i = lastStart
			}
		}
		ends = append(ends, i)
	}
	return ends
}

// lowerContraction returns the byte length of s, t, re, ve, m, ll or d at
// s[i:] (lower case), or 0.
func lowerContraction(s string, i int) int {
	if i >= len(s) {
		return 0
	}
	switch s[i] {
	case 's', 't', 'm', 'd':
		return 1
	case 'r', 'v':
		if i+1 < len(s) && s[i+1] == 'e' {
			return 2
		}
	case 'l':
		if i+1 < len(s) && s[i+1] == 'l' {
			return 2
		}
	}
	return 0
}
