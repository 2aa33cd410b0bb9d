package jsonwalk

import (
	"encoding/json"
	"errors"
	"testing"
)

// Value ends where encoding/json's decoder ends a value, on values with
// escaped quotes and backslashes, brackets inside strings and nesting.
func TestValueEndsLikeDecoder(t *testing.T) {
	for _, v := range []string{
		`"plain"`, `"a \"quoted\" ]} word"`, `"ends in a backslash\\"`, `"\\\"\\"`, `""`,
		`{"a":"}","b":[1,{"c":"\\"}],"d":{}}`, `[[],{},"[",-1.5e3,true,null]`, `12.5e-1`, `null`, `false`,
	} {
		in := []byte(v + `, "after"`)
		end, err := Value(in, 0)
		if err != nil || end != len(v) {
			t.Errorf("%s: end %d, %v; want %d", v, end, err, len(v))
		}
		if !json.Valid(in[:end]) {
			t.Errorf("%s: %q is not a whole value", v, in[:end])
		}
	}
	for _, bad := range []string{`"unterminated`, `{"a":[1,2}`, ``, `,`} {
		if _, err := Value([]byte(bad), 0); !errors.Is(err, ErrSyntax) {
			t.Errorf("%q: %v, want ErrSyntax", bad, err)
		}
	}
}

// Members and Elements visit every member and element in order, with keys
// as written; null is an empty array.
func TestMembersAndElements(t *testing.T) {
	in := []byte(` { "k1" : [ 1 , "two" , {"x":null} ] , "k\u0032" : null , "k3":[] } `)
	var keys []string
	var elems []string
	end, err := Members(in, SkipSpace(in, 0), func(key []byte, vs int) (int, error) {
		keys = append(keys, string(key))
		return Elements(in, vs, func(es int) (int, error) {
			ee, err := Value(in, es)
			elems = append(elems, string(in[es:ee]))
			return ee, err
		})
	})
	if err != nil || end != len(in)-1 {
		t.Fatalf("end %d, %v", end, err)
	}
	if want := `[k1 k\u0032 k3]`; fmtStrings(keys) != want {
		t.Errorf("keys %s, want %s", fmtStrings(keys), want)
	}
	if want := `[1 "two" {"x":null}]`; fmtStrings(elems) != want {
		t.Errorf("elements %s, want %s", fmtStrings(elems), want)
	}
	if _, err := Members([]byte(`[1]`), 0, nil); !errors.Is(err, ErrSyntax) {
		t.Errorf("an array as an object: %v", err)
	}
}

func fmtStrings(s []string) string {
	out := "["
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out + "]"
}
