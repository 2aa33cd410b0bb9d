package chat

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/agent-trace/agent-trace/pkg/record"
)

// PyRepr returns what Python's str() gives for the value that json.loads
// makes of the JSON text raw: dicts and lists as their repr ({'k': [1, 2.5,
// None, True]}), members in their order (a repeated key keeps its first
// place and its last value, as a dict does), strings quoted and escaped as
// repr does, integers as written, other numbers as Python prints floats. A
// string at the top is itself, unquoted, as str() gives it.
func PyRepr(raw []byte) (string, error) {
	i := record.SkipSpace(raw, 0)
	if i < len(raw) && raw[i] == '"' {
		end, err := record.SkipValue(raw, i)
		if err != nil {
			return "", err
		}
		return record.DecodeString(raw[i:end])
	}
	var b strings.Builder
	end, err := appendRepr(&b, raw, i, 0)
	if err != nil {
		return "", err
	}
	if record.SkipSpace(raw, end) != len(raw) {
		return "", errors.New("extra data after the value")
	}
	return b.String(), nil
}

// maxReprDepth bounds the nesting PyRepr follows.
const maxReprDepth = 10000

// appendRepr writes the repr of the JSON value at raw[i] and returns the
// offset past it.
func appendRepr(b *strings.Builder, raw []byte, i, depth int) (int, error) {
	if depth > maxReprDepth {
		return 0, errors.New("nested too deep")
	}
	if i >= len(raw) {
		return 0, errors.New("unexpected end of the value")
	}
	switch c := raw[i]; {
	case c == '{':
		return appendDict(b, raw, i, depth)
	case c == '[':
		b.WriteByte('[')
		i = record.SkipSpace(raw, i+1)
		for k := 0; i < len(raw) && raw[i] != ']'; k++ {
			if k > 0 {
				if raw[i] != ',' {
					return 0, errors.New("want ',' in a list")
				}
				i = record.SkipSpace(raw, i+1)
				b.WriteString(", ")
			}
			end, err := appendRepr(b, raw, i, depth+1)
			if err != nil {
				return 0, err
			}
			i = record.SkipSpace(raw, end)
		}
		if i >= len(raw) {
			return 0, errors.New("unterminated list")
		}
		b.WriteByte(']')
		return i + 1, nil
	case c == '"':
		end, err := record.SkipValue(raw, i)
		if err != nil {
			return 0, err
		}
		s, err := record.DecodeString(raw[i:end])
		if err != nil {
			return 0, err
		}
		writeStrRepr(b, s)
		return end, nil
	}
	end, err := record.SkipValue(raw, i)
	if err != nil {
		return 0, err
	}
	switch lit := string(raw[i:end]); lit {
	case "null":
		b.WriteString("None")
	case "true":
		b.WriteString("True")
	case "false":
		b.WriteString("False")
	default:
		s, err := numberRepr(lit)
		if err != nil {
			return 0, err
		}
		b.WriteString(s)
	}
	return end, nil
}

// appendDict writes the repr of the JSON object at raw[i].
func appendDict(b *strings.Builder, raw []byte, i, depth int) (int, error) {
	type member struct {
		key   string
		value string
	}
	var members []member
	at := map[string]int{}
	i = record.SkipSpace(raw, i+1)
	for k := 0; i < len(raw) && raw[i] != '}'; k++ {
		if k > 0 {
			if raw[i] != ',' {
				return 0, errors.New("want ',' in an object")
			}
			i = record.SkipSpace(raw, i+1)
		}
		kend, err := record.SkipValue(raw, i)
		if err != nil || raw[i] != '"' {
			return 0, errors.New("want a member name")
		}
		key, err := record.DecodeString(raw[i:kend])
		if err != nil {
			return 0, err
		}
		i = record.SkipSpace(raw, kend)
		if i >= len(raw) || raw[i] != ':' {
			return 0, errors.New("want ':' after a member name")
		}
		var v strings.Builder
		end, err := appendRepr(&v, raw, record.SkipSpace(raw, i+1), depth+1)
		if err != nil {
			return 0, err
		}
		if j, ok := at[key]; ok {
			members[j].value = v.String()
		} else {
			at[key] = len(members)
			members = append(members, member{key, v.String()})
		}
		i = record.SkipSpace(raw, end)
	}
	if i >= len(raw) {
		return 0, errors.New("unterminated object")
	}
	b.WriteByte('{')
	for k, m := range members {
		if k > 0 {
			b.WriteString(", ")
		}
		writeStrRepr(b, m.key)
		b.WriteString(": ")
		b.WriteString(m.value)
	}
	b.WriteByte('}')
	return i + 1, nil
}

// numberRepr is Python's str() of the number json.loads makes of lit: an
// int for a literal without fraction or exponent, else a float.
func numberRepr(lit string) (string, error) {
	if !strings.ContainsAny(lit, ".eE") {
		if strings.Trim(lit, "-0") == "" {
			return "0", nil // -0 is the int 0
		}
		return lit, nil
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil && !math.IsInf(f, 0) {
		return "", fmt.Errorf("bad number %s", lit)
	}
	return FloatRepr(f), nil
}

// FloatRepr is Python's repr() of a float: the shortest digits that read
// back as f, in fixed notation when the exponent is in [-4, 16) (with at
// least one digit after the point), else as d.ddde+XX.
func FloatRepr(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // [-]d.ddde±XX
	sign := ""
	if e[0] == '-' {
		sign, e = "-", e[1:]
	}
	mant, expPart, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expPart)
	digits := strings.Replace(mant, ".", "", 1)
	if -4 <= exp && exp < 16 {
		var s string
		switch {
		case exp < 0:
			s = "0." + strings.Repeat("0", -exp-1) + digits
		case exp+1 >= len(digits):
			s = digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
		default:
			s = digits[:exp+1] + "." + digits[exp+1:]
		}
		return sign + s
	}
	m := digits[:1]
	if len(digits) > 1 {
		m += "." + digits[1:]
	}
	es := "+"
	if exp < 0 {
		es, exp = "-", -exp
	}
	return fmt.Sprintf("%s%se%s%02d", sign, m, es, exp)
}

// writeStrRepr writes Python's repr() of a str: single quotes unless the
// text holds a single quote and no double one; backslash, the quote, \t,
// \n and \r escaped; other characters that Python does not print as they
// are written as \xhh, \uhhhh or \Uhhhhhhhh.
func writeStrRepr(b *strings.Builder, s string) {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	b.WriteByte(quote)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(quote):
			b.WriteByte('\\')
			b.WriteByte(quote)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == ' ' || r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r < 0x7f || !unicode.IsPrint(r) && r != utf8.RuneError:
			switch {
			case r < 0x100:
				fmt.Fprintf(b, `\x%02x`, r)
			case r < 0x10000:
				fmt.Fprintf(b, `\u%04x`, r)
			default:
				fmt.Fprintf(b, `\U%08x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(quote)
}
