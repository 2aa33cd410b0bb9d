package resolve

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/agent-trace/agent-trace/pkg/tokenize"
)

// cacheFile returns the one compiled file in dir's tokenizers folder.
func cacheFile(t *testing.T, dir string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "tokenizers", "*.bin"))
	if len(m) != 1 {
		t.Fatalf("cache files: %v", m)
	}
	return m[0]
}

// The compiled cache of a tokenizer.json gives the ids Hugging Face gives
// (the golden files), whether the cache is fresh, damaged, truncated, of
// another version, written by several runs at once, or impossible to
// write; a damaged file is rebuilt, and the cache is looked up by the
// file's content.
func TestCompiledCache(t *testing.T) {
	for _, dir := range []string{tinyDir, "../../../testdata/tokenizers/tiny-nfc"} {
		path := filepath.Join(dir, "tokenizer.json")
		golden := filepath.Join(dir, "golden.jsonl")
		cache := t.TempDir()
		o := Options{Getenv: env(map[string]string{"AGENTTRACE_CACHE_DIR": cache})}
		load := func(what string) *tokenize.Tokenizer {
			t.Helper()
			tok, _, err := Resolve(context.Background(), path, o)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			return tok
		}
		checkGolden(t, load("first load"), golden)
		file := cacheFile(t, cache)
		good, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		checkGolden(t, load("from the cache"), golden)

		for name, bad := range map[string][]byte{
			"damaged":   append(append([]byte{}, good[:len(good)/2]...), append([]byte{good[len(good)/2] ^ 0xff}, good[len(good)/2+1:]...)...),
			"truncated": good[:len(good)*2/3],
			"foreign":   append([]byte("ATCOMP01"), good[8:]...),
			"empty":     nil,
		} {
			if err := os.WriteFile(file, bad, 0o644); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, load(name), golden)
			if again, _ := os.ReadFile(file); string(again) != string(good) {
				t.Errorf("%s cache file not rebuilt", name)
			}
		}

		// Several runs at once with an empty cache: each gets right ids,
		// the file ends whole.
		os.Remove(file)
		var wg sync.WaitGroup
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tok, _, err := Resolve(context.Background(), path, o)
				if err != nil {
					t.Error(err)
					return
				}
				checkGolden(t, tok, golden)
			}()
		}
		wg.Wait()
		if again, _ := os.ReadFile(cacheFile(t, cache)); string(again) != string(good) {
			t.Error("the cache file written by concurrent runs is not whole")
		}

		// A cache folder that cannot be made: no cache, no error.
		blocked := filepath.Join(t.TempDir(), "file")
		os.WriteFile(blocked, []byte("x"), 0o644)
		ob := Options{Getenv: env(map[string]string{"AGENTTRACE_CACHE_DIR": filepath.Join(blocked, "sub")})}
		tok, _, err := Resolve(context.Background(), path, ob)
		if err != nil {
			t.Fatal(err)
		}
		checkGolden(t, tok, golden)

		// Looked up by content: a file whose bytes have a compiled entry
		// loads from it, even when it could not be parsed.
		fake := filepath.Join(t.TempDir(), "tokenizer.json")
		os.WriteFile(fake, []byte("{}"), 0o644)
		sum := compiledPath(o.Getenv, sha(t, []byte("{}")))
		os.WriteFile(sum, good, 0o644)
		tok, _, err = Resolve(context.Background(), fake, o)
		if err != nil {
			t.Fatalf("cached entry not used: %v", err)
		}
		checkGolden(t, tok, golden)
		os.Remove(sum)
	}
}

func sha(t *testing.T, b []byte) [32]byte {
	t.Helper()
	return sha256.Sum256(b)
}
