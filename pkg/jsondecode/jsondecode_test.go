package jsondecode

import (
	"strings"
	"testing"
)

func TestReplaceNonFinite(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":NaN,"b":[Infinity,-Infinity,-1]}`: `{"a":null,"b":[null,null,-1]}`,
		`{"s":"NaN \" Infinity","n":NaN}`:       `{"s":"NaN \" Infinity","n":null}`,
		`{"s":"x\\","n":-Infinity}`:             `{"s":"x\\","n":null}`,
	} {
		got, ok := ReplaceNonFinite([]byte(in))
		if !ok || string(got) != want {
			t.Errorf("%s: got %s %v, want %s", in, got, ok, want)
		}
	}
	if _, ok := ReplaceNonFinite([]byte(`{"a":"NaN"}`)); ok {
		t.Error("replaced inside a string")
	}
}

func TestUnmarshalErrorsAreOneLine(t *testing.T) {
	var v struct {
		A []int `json:"a"`
	}
	for in, want := range map[string]string{
		`{"a":"x"}`: `field "a" is a string, want a list`,
		`{"a":[1,`:  `the JSON ends too early`,
		`{"a" 1}`:   `invalid JSON at byte`,
		`[1]`:       `the value is an array, want an object`,
	} {
		err := Unmarshal([]byte(in), &v)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want one line with %q", in, err, want)
		}
	}
	var m map[string]any
	if err := Unmarshal([]byte(`{"a":NaN}`), &m); err != nil || m["a"] != nil {
		t.Errorf("NaN: %v %v", m, err)
	}
}
