package telemetry

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// layouts are the ISO-8601 forms ParseTime accepts, tried in order; a
// layout without a zone is read as UTC.
var layouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02",
}

// ParseTime returns the time s names in milliseconds since the Unix epoch,
// or NaN when s is not understood. It accepts ISO-8601 date-times with or
// without a zone (no zone means UTC; a comma decimal separator is allowed)
// and epoch numbers written as strings (see epochMs).
func ParseTime(s string) float64 {
	s = strings.TrimSpace(s)
	if s == "" {
		return math.NaN()
	}
	if numberish(s) {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return epochMs(f)
		}
	}
	s = strings.Replace(s, ",", ".", 1)
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return float64(t.UnixNano()) / 1e6
		}
	}
	return math.NaN()
}

// numberish reports whether s is made of the characters of a decimal
// number (ParseFloat's error, made for every ISO time, is an allocation).
// ParseFloat also reads "Inf", "NaN" and hexadecimal: those go to it too.
func numberish(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9', c == '.', c == '+', c == '-', c == 'e', c == 'E', c == '_':
		default:
			return strings.ContainsAny(s, "iInNxXpP")
		}
	}
	return true
}

// epochMs reads an epoch number: seconds, or milliseconds when it is too
// large to be seconds (after the year 5138), or microseconds beyond that.
func epochMs(f float64) float64 {
	switch a := math.Abs(f); {
	case a >= 1e14:
		return f / 1e3 // microseconds
	case a >= 1e11:
		return f // milliseconds
	}
	return f * 1e3
}
