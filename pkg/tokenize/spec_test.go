package tokenize

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

// tinyWith returns testdata/tokenizers/tiny's tokenizer.json with change
// applied to its decoded JSON.
func tinyWith(t *testing.T, change func(map[string]any)) []byte {
	t.Helper()
	raw, err := os.ReadFile("../../testdata/tokenizers/tiny/tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	change(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func split(pattern string) map[string]any {
	return map[string]any{"type": "Sequence", "pretokenizers": []any{
		map[string]any{"type": "Split", "pattern": map[string]any{"Regex": pattern}, "behavior": "Isolated", "invert": false},
		map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false},
	}}
}

// ParseJSON refuses, naming the part, what it does not implement exactly;
// it does not refuse what Hugging Face treats as nothing.
func TestParseJSONRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(map[string]any)
		want   string // in the error
	}{
		{"lowercase normalizer", func(m map[string]any) { m["normalizer"] = map[string]any{"type": "Lowercase"} }, `normalizer "Lowercase"`},
		{"two normalizers", func(m map[string]any) {
			m["normalizer"] = map[string]any{"type": "Sequence", "normalizers": []any{map[string]any{"type": "NFC"}, map[string]any{"type": "Lowercase"}}}
		}, "normalizer"},
		{"POSIX class", func(m map[string]any) { m["pre_tokenizer"] = split(`[[:alpha:]]+|\s+`) }, "POSIX class"},
		{"Split Contiguous", func(m map[string]any) {
			p := split(`\s+`)
			p["pretokenizers"].([]any)[0].(map[string]any)["behavior"] = "Contiguous"
			m["pre_tokenizer"] = p
		}, `Split behaviour "Contiguous" (invert=false)`},
		{"Metaspace with no byte fallback or unknown token", func(m map[string]any) {
			m["pre_tokenizer"] = map[string]any{"type": "Metaspace", "replacement": "▁"}
		}, "byte_fallback or unk_token"},
		{"Metaspace prepend scheme", func(m map[string]any) {
			m["pre_tokenizer"] = map[string]any{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "sometimes"}
		}, `prepend_scheme "sometimes"`},
		{"byte fallback on bytes", func(m map[string]any) { m["model"].(map[string]any)["byte_fallback"] = true }, "ByteLevel with Metaspace or byte_fallback"},
		{"Replace of a regex", func(m map[string]any) {
			m["normalizer"] = map[string]any{"type": "Replace", "pattern": map[string]any{"Regex": " +"}, "content": "▁"}
		}, "Replace of a regex"},
		{"Unigram", func(m map[string]any) { m["model"].(map[string]any)["type"] = "Unigram" }, `model type "Unigram"`},
		{"Split MergedWithPrevious inverted", func(m map[string]any) {
			p := split(`\s+`)
			p["pretokenizers"].([]any)[0].(map[string]any)["behavior"] = "MergedWithPrevious"
			p["pretokenizers"].([]any)[0].(map[string]any)["invert"] = true
			m["pre_tokenizer"] = p
		}, `Split behaviour "MergedWithPrevious" (invert=true)`},
		{"a vocabulary entry no byte-level model makes", func(m map[string]any) { m["model"].(map[string]any)["vocab"].(map[string]any)["<｜x｜>"] = 271.0 }, "is not byte-level"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseJSON(tinyWith(t, tc.change))
			if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want ErrUnsupported naming %q", err, tc.want)
			}
		})
	}
}

func TestParseJSONAcceptsNoOps(t *testing.T) {
	want := func(spec *Spec) []int {
		tok, err := New("tiny", spec)
		if err != nil {
			t.Fatal(err)
		}
		return tok.NewEncoder().Encode("hello<|end|>the world  \n\nhell's")
	}
	base, err := ParseJSON(tinyWith(t, func(map[string]any) {}))
	if err != nil {
		t.Fatal(err)
	}
	ids := want(base)
	for _, tc := range []struct {
		name   string
		change func(map[string]any)
		check  func(*Spec) bool
	}{
		{"empty normalizer sequence (DeepSeek V3)", func(m map[string]any) {
			m["normalizer"] = map[string]any{"type": "Sequence", "normalizers": []any{}}
		}, func(s *Spec) bool { return len(s.Normalizers) == 0 }},
		{"a sequence of NFC alone", func(m map[string]any) {
			m["normalizer"] = map[string]any{"type": "Sequence", "normalizers": []any{map[string]any{"type": "NFC"}}}
		}, func(s *Spec) bool { return len(s.Normalizers) == 1 && s.Normalizers[0].Kind == "NFC" }},
		{"an added token's own vocabulary entry (DeepSeek V3's <｜begin▁of▁sentence｜>)", func(m map[string]any) {
			m["model"].(map[string]any)["vocab"].(map[string]any)["<｜begin▁of▁sentence｜>"] = 271.0
			m["added_tokens"] = append(m["added_tokens"].([]any), map[string]any{"id": 271.0, "content": "<｜begin▁of▁sentence｜>", "special": true})
		}, func(s *Spec) bool { return len(s.Added) == 2 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := ParseJSON(tinyWith(t, tc.change))
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(spec) {
				t.Errorf("spec %+v", spec.Added)
			}
			if got := want(spec); !slices.Equal(got, ids) {
				t.Errorf("ids %v, want %v", got, ids)
			}
		})
	}
}
