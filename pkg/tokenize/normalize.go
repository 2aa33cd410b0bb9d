package tokenize

import (
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Hugging Face tokenizers' NFC and NFKC normalizers (crate
// unicode-normalization-alignments) carry Unicode 9.0 data; Go's norm
// package carries 15.0. Unicode's stability policy keeps the
// normalization of characters assigned in 9.0 unchanged since, so the two
// differ only on characters assigned later: to Hugging Face those have no
// decomposition, combining class 0 and no composition (108 combining marks
// and a few composing pairs, such as U+11935 U+11930). Such a character is
// a boundary nothing moves across, so the text normalizes as Go does
// between those characters, which stay as they are.
//
// Go's norm also breaks runs of more than 30 combining marks with U+034F
// (Unicode's Stream-Safe Text Format; it counts Hangul jamo vowels and
// trailing consonants too); Hugging Face does not. A part where Go's norm
// does that is normalized here by the book (normalizeExact).

// isUnassigned9 reports whether r was unassigned in Unicode 9.0.
func isUnassigned9(r rune) bool {
	if r < 0x378 {
		return false
	}
	return inRanges(unassigned9, r)
}

// nextUnassigned9 returns the offset of the first character of s[i:]
// unassigned in Unicode 9.0 and its width, or len(s) and 0.
func nextUnassigned9(s string, i int) (int, int) {
	for i < len(s) {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if isUnassigned9(r) {
			return i, n
		}
		i += n
	}
	return len(s), 0
}

// isNormalHF reports whether Hugging Face's normalizer of form f (NFC or
// NFKC) leaves s as it is.
func isNormalHF(f norm.Form, s string) bool {
	for i := 0; i <= len(s); {
		j, n := nextUnassigned9(s, i)
		if part := s[i:j]; !f.IsNormalString(part) && normalizePart(f, part) != part {
			return false
		}
		if n == 0 {
			return true
		}
		i = j + n
	}
	return true
}

// normalizeHF returns s as Hugging Face's normalizer of form f (NFC or
// NFKC) gives it.
func normalizeHF(f norm.Form, s string) string {
	j, n := nextUnassigned9(s, 0)
	if n == 0 {
		return normalizePart(f, s)
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	for i := 0; ; {
		b.WriteString(normalizePart(f, s[i:j]))
		if n == 0 {
			return b.String()
		}
		b.WriteString(s[j : j+n])
		i = j + n
		j, n = nextUnassigned9(s, i)
	}
}

// normalizePart normalizes s, which holds no character unassigned in
// Unicode 9.0.
func normalizePart(f norm.Form, s string) string {
	out := f.String(s)
	if strings.Count(out, cgj) != strings.Count(s, cgj) {
		// Go's norm broke a long run of non-starters.
		return normalizeExact(f, s)
	}
	return out
}

// cgj is U+034F COMBINING GRAPHEME JOINER, which Go's norm inserts into
// runs of more than 30 non-starters; no normalization makes it otherwise.
const cgj = "\u034f"

// normalizeExact normalizes s to form f (NFC or NFKC) as Unicode defines
// it, with no limit on combining marks: full decomposition, canonical
// ordering, canonical composition. It is slow, and only used where Go's
// norm differs (normalizePart).
func normalizeExact(f norm.Form, s string) string {
	decompose := norm.NFD
	if f == norm.NFKC {
		decompose = norm.NFKD
	}
	ccc := func(r rune) uint8 { return norm.NFD.PropertiesString(string(r)).CCC() }
	var rs []rune
	for _, r := range s {
		// One character decomposes well within the stream-safe limit.
		rs = append(rs, []rune(decompose.String(string(r)))...)
	}
	// Canonical ordering: each run of non-starters, stably by class.
	for i := 0; i < len(rs); {
		if ccc(rs[i]) == 0 {
			i++
			continue
		}
		j := i
		for j < len(rs) && ccc(rs[j]) != 0 {
			j++
		}
		run := rs[i:j]
		sort.SliceStable(run, func(a, b int) bool { return ccc(run[a]) < ccc(run[b]) })
		i = j
	}
	// Canonical composition: each character joins the last starter when
	// nothing between them blocks it and they have a primary composite.
	out := make([]rune, 0, len(rs))
	starter, last := -1, uint8(0)
	for _, c := range rs {
		cc := ccc(c)
		if starter >= 0 && (last == 0 && starter == len(out)-1 || last != 0 && last < cc) {
			if comp := []rune(norm.NFC.String(string(out[starter]) + string(c))); len(comp) == 1 {
				out[starter] = comp[0]
				continue
			}
		}
		if cc == 0 {
			starter = len(out)
		}
		last = cc
		out = append(out, c)
	}
	return string(out)
}

// normalize applies t's normalizers and the text part of its Metaspace
// pre-tokenizer to seg, the text between two added tokens (at the start of
// the input when first), and reports whether that changed it.
func (t *Tokenizer) normalize(seg string, first bool) (string, bool) {
	out := seg
	for _, n := range t.normalizers {
		switch n.Kind {
		case "NFC", "NFKC":
			f := norm.NFC
			if n.Kind == "NFKC" {
				f = norm.NFKC
			}
			if !isNormalHF(f, out) {
				out = normalizeHF(f, out)
			}
		case "Prepend":
			if out != "" {
				out = n.To + out
			}
		case "Replace":
			out = strings.ReplaceAll(out, n.From, n.To)
		case "Strip", "StripLeft", "StripRight":
			isSpace := func(r rune) bool { return propsOf(r)&propSpace != 0 }
			if n.Kind != "StripRight" {
				out = strings.TrimLeftFunc(out, isSpace)
			}
			if n.Kind != "StripLeft" {
				out = strings.TrimRightFunc(out, isSpace)
			}
		}
	}
	if ms := t.metaspace; ms != nil {
		out = strings.ReplaceAll(out, " ", ms.Replacement)
		if (ms.Prepend == "always" || ms.Prepend == "first" && first) && !strings.HasPrefix(out, ms.Replacement) {
			out = ms.Replacement + out
		}
	}
	return out, len(out) != len(seg) || out != seg
}
