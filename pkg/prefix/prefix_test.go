package prefix

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agent-trace/agent-trace/pkg/fuzzseed"
)

func ids(t *testing.T, tab *Table, tokens ...uint32) []int64 {
	t.Helper()
	out, err := tab.HashIDs(tokens, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Hand-computed cases with blocks of 2 tokens.
func TestHashIDsByHand(t *testing.T) {
	tab := New(2, "tok")
	for _, tc := range []struct {
		tokens []uint32
		want   []int64
	}{
		{[]uint32{1, 2, 3, 4, 5}, []int64{0, 1, 2}},    // blocks [1 2] [3 4] [5]
		{[]uint32{1, 2, 3, 4, 5, 6}, []int64{0, 1, 3}}, // [5 6] is not [5]
		{[]uint32{1, 2, 3, 4}, []int64{0, 1}},          // a prefix: all seen
		{[]uint32{3, 4}, []int64{4}},                   // same tokens, other parent
		{[]uint32{1, 2, 9, 9}, []int64{0, 5}},
		{nil, nil},                                  // empty input, no blocks
		{[]uint32{1, 2, 3, 4, 5}, []int64{0, 1, 2}}, // identical text, identical ids
	} {
		if got := ids(t, tab, tc.tokens...); !slices.Equal(got, tc.want) {
			t.Errorf("%v: got %v, want %v", tc.tokens, got, tc.want)
		}
	}
	if tab.Len() != 6 {
		t.Errorf("%d blocks, want 6", tab.Len())
	}
}

// exact is a straightforward implementation of the reference's semantics:
// interning the exact (parent, block) pair.
type exact struct {
	bs  int
	ids map[string]int64
}

func (e *exact) hash(tokens []uint32) []int64 {
	var out []int64
	parent := int64(-1)
	for i := 0; i < len(tokens); i += e.bs {
		var b strings.Builder
		b.WriteString(strconv.FormatInt(parent, 10) + "|")
		for _, tok := range tokens[i:min(i+e.bs, len(tokens))] {
			b.WriteString(strconv.Itoa(int(tok)) + ",")
		}
		id, ok := e.ids[b.String()]
		if !ok {
			id = int64(len(e.ids))
			e.ids[b.String()] = id
		}
		out = append(out, id)
		parent = id
	}
	return out
}

// genSessions makes many sessions of growing prompts sharing system prompts.
func genSessions(rng *rand.Rand, n int) [][]uint32 {
	systems := make([][]uint32, 4)
	for i := range systems {
		for j := 0; j < 50+rng.IntN(200); j++ {
			systems[i] = append(systems[i], uint32(rng.IntN(1000)))
		}
	}
	var prompts [][]uint32
	for s := 0; s < n; s++ {
		cur := slices.Clone(systems[rng.IntN(len(systems))])
		for c := 0; c < 1+rng.IntN(8); c++ {
			for j := rng.IntN(300); j > 0; j-- {
				cur = append(cur, uint32(rng.IntN(1000)))
			}
			prompts = append(prompts, slices.Clone(cur))
		}
	}
	return prompts
}

func TestMatchesExactInterning(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, bs := range []int{1, 7, 64, 128} {
		tab, ref := New(bs, "tok"), &exact{bs: bs, ids: map[string]int64{}}
		for i, p := range genSessions(rng, 200) {
			if got, want := ids(t, tab, p...), ref.hash(p); !slices.Equal(got, want) {
				t.Fatalf("block size %d, prompt %d: got %v, want %v", bs, i, got, want)
			}
			if n := len(ids(t, tab, p...)); n != (len(p)+bs-1)/bs {
				t.Fatalf("%d ids for %d tokens", n, len(p))
			}
		}
	}
}

// Two runs over one saved table give the ids of a single run.
func TestSaveLoadContinues(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	prompts := genSessions(rng, 100)
	half := len(prompts) / 2
	single := New(64, "tok")
	var want [][]int64
	for _, p := range prompts {
		want = append(want, ids(t, single, p...))
	}
	path := filepath.Join(t.TempDir(), "table")
	a := New(64, "tok")
	for _, p := range prompts[:half] {
		ids(t, a, p...)
	}
	if err := a.Save(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	b, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if b.BlockSize() != 64 || b.Tokenizer() != "tok" || b.Len() != a.Len() || b.Added() != 0 {
		t.Fatalf("loaded %d/%s/%d", b.BlockSize(), b.Tokenizer(), b.Len())
	}
	for i, p := range prompts[half:] {
		if got := ids(t, b, p...); !slices.Equal(got, want[half+i]) {
			t.Fatalf("prompt %d after reload: got %v, want %v", half+i, got, want[half+i])
		}
	}
	if _, err := os.Stat(path + ".tmp"); err == nil {
		t.Error("temporary file left behind")
	}
}

func TestLoadRefusesDamage(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "table")
	tab := New(16, "tok")
	ids(t, tab, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20)
	if err := tab.Save(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(path)
	cases := map[string][]byte{
		"empty":       {},
		"not a table": []byte("{\"session_id\": 1}\n"),
		"truncated":   good[:len(good)-5],
		"extended":    append(slices.Clone(good), 0),
	}
	for i := 0; i < len(good); i += 7 {
		flipped := slices.Clone(good)
		flipped[i] ^= 0x10
		cases["bit flip at "+strconv.Itoa(i)] = flipped
	}
	for name, data := range cases {
		p := filepath.Join(dir, "bad")
		os.WriteFile(p, data, 0o644)
		if _, err := Load(p); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Load = %v, want ErrCorrupt", name, err)
		}
		if after, _ := os.ReadFile(p); !slices.Equal(after, data) {
			t.Errorf("%s: Load changed the file", name)
		}
	}
}

func TestCancelledSaveLeavesOldTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "table")
	old := New(4, "tok")
	ids(t, old, 1, 2, 3, 4)
	if err := old.Save(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	big := New(4, "tok")
	for i := 0; i < 300000; i++ {
		ids(t, big, uint32(i), uint32(i+1), uint32(i+2), uint32(i+3))
	}
	ctx, cancel := context.WithCancel(context.Background())
	saveHook = cancel
	defer func() { saveHook = nil }()
	if err := big.Save(ctx, path); !errors.Is(err, context.Canceled) {
		t.Fatalf("Save = %v, want context.Canceled", err)
	}
	after, _ := os.ReadFile(path)
	if !slices.Equal(before, after) {
		t.Error("a cancelled save changed the table")
	}
	if _, err := os.Stat(path + ".tmp"); err == nil {
		t.Error("a cancelled save left its temporary file")
	}
}

func TestLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "table")
	unlock, err := Lock(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(path, 100_000_000); !errors.Is(err, ErrLocked) { // another open file description
		t.Errorf("second lock: %v, want ErrLocked", err)
	}
	unlock()
	unlock2, err := Lock(path, 0)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	unlock2()
}

// BenchmarkHashIDs: tokens per second through the table (new blocks).
func BenchmarkHashIDs(b *testing.B) {
	tokens := make([]uint32, 1<<20)
	for i := range tokens {
		tokens[i] = uint32(i * 2654435761)
	}
	b.SetBytes(int64(len(tokens))) // "bytes" are tokens: MB/s reads as M tokens/s
	for b.Loop() {
		tab := New(64, "tok")
		tab.HashIDs(tokens, -1, nil)
	}
}

// BenchmarkHashIDsSeen: prompts whose blocks are already in the table, the
// common case in agent traces.
func BenchmarkHashIDsSeen(b *testing.B) {
	tokens := make([]uint32, 1<<20)
	for i := range tokens {
		tokens[i] = uint32(i * 2654435761)
	}
	tab := New(64, "tok")
	tab.HashIDs(tokens, -1, nil)
	b.SetBytes(int64(len(tokens)))
	var dst []int64
	for b.Loop() {
		dst, _ = tab.HashIDs(tokens, -1, dst[:0])
	}
}

// BenchmarkSaveLoad10M: a table of 10 million blocks saved and loaded.
func BenchmarkSaveLoad10M(b *testing.B) {
	tab := New(64, "tok")
	for i := 0; i < 10_000_000; i++ {
		k := Key{Lo: uint64(i) * 0x9e3779b97f4a7c15, Hi: uint64(i)}
		tab.keys = append(tab.keys, k)
	}
	tab.index = rebuild(tab.keys)
	path := filepath.Join(b.TempDir(), "table")
	for b.Loop() {
		if err := tab.Save(context.Background(), path); err != nil {
			b.Fatal(err)
		}
		if _, err := Load(path); err != nil {
			b.Fatal(err)
		}
	}
}

// TestKillDuringSave kills (SIGKILL) a process in the middle of saving a
// table over an existing one; the table on disk must still load, as it was.
func TestKillDuringSave(t *testing.T) {
	if os.Getenv("PREFIX_SAVE_CHILD") != "" {
		return // run as the child by TestSaveChild
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "table")
	old := New(4, "tok")
	ids(t, old, 1, 2, 3, 4, 5)
	if err := old.Save(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	marker := filepath.Join(dir, "saving")
	cmd := exec.Command(os.Args[0], "-test.run=^TestSaveChild$")
	cmd.Env = append(os.Environ(), "PREFIX_SAVE_CHILD="+path, "PREFIX_SAVE_MARKER="+marker)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(marker); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the child never reached the middle of its save")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if _, err := os.Stat(path + ".tmp"); err != nil {
		t.Fatalf("expected the killed save's temporary file: %v", err)
	}
	tab, err := Load(path)
	if err != nil {
		t.Fatalf("table after kill -9 during save: %v", err)
	}
	after, _ := os.ReadFile(path)
	if tab.Len() != old.Len() || !slices.Equal(before, after) {
		t.Fatal("the table changed")
	}
	// The next save replaces the stale temporary file.
	ids(t, tab, 9, 9, 9, 9)
	if err := tab.Save(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".tmp"); err == nil {
		t.Error("stale temporary file still there")
	}
}

// TestSaveChild is the child of TestKillDuringSave: it saves a large table
// and stops in the middle, telling the parent by creating a marker file.
func TestSaveChild(t *testing.T) {
	path := os.Getenv("PREFIX_SAVE_CHILD")
	if path == "" {
		t.Skip("helper process for TestKillDuringSave")
	}
	big := New(4, "tok")
	for i := 0; i < 200000; i++ {
		ids(t, big, uint32(i), uint32(i+1), uint32(i+2), uint32(i+3))
	}
	saveHook = func() {
		os.WriteFile(os.Getenv("PREFIX_SAVE_MARKER"), nil, 0o644)
		time.Sleep(time.Minute)
	}
	big.Save(context.Background(), path)
	t.Fatal("the parent should have killed this process")
}

// FuzzTableLoad: any file is a table or an ErrCorrupt error, never a panic;
// a table that loads keeps working.
func FuzzTableLoad(f *testing.F) {
	fuzzseed.Add(f)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "t")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		tab, err := Load(p)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error is not ErrCorrupt: %v", err)
			}
			return
		}
		n := tab.Len()
		if _, err := tab.HashIDs([]uint32{1, 2, 3}, -1, nil); err != nil {
			t.Fatal(err)
		}
		if tab.Len() > n+1 {
			t.Fatalf("one block added %d entries", tab.Len()-n)
		}
	})
}

// A table saved through a link replaces the file the link names (the link
// stays a link) and keeps the file's mode; a folder or FIFO is refused,
// not read; headers out of range are refused on save.
func TestSaveThroughLinkKeepsMode(t *testing.T) {
	dir := t.TempDir()
	real, link := filepath.Join(dir, "real.bin"), filepath.Join(dir, "link.bin")
	a := New(4, "tok")
	ids(t, a, 1, 2, 3, 4)
	if err := a.Save(context.Background(), real); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(real, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real.bin", link); err != nil {
		t.Skip("no symlinks here:", err)
	}
	b, err := Load(link)
	if err != nil {
		t.Fatal(err)
	}
	ids(t, b, 5, 6, 7, 8)
	if err := b.Save(context.Background(), link); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v %v", fi.Mode(), err)
	}
	fi, err := os.Stat(real)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600 (%v)", fi.Mode().Perm(), err)
	}
	if c, err := Load(real); err != nil || c.Len() != b.Len() {
		t.Fatalf("the linked file was not updated: %v", err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "not a regular file (a folder)") {
		t.Errorf("a folder: %v", err)
	}
	if err := New(MaxBlockSize+1, "tok").Save(context.Background(), filepath.Join(dir, "big.bin")); err == nil {
		t.Error("a block size beyond the header was saved")
	}
	if err := New(4, strings.Repeat("x", MaxTokenizerName+1)).Save(context.Background(), filepath.Join(dir, "long.bin")); err == nil {
		t.Error("a tokenizer name beyond the header was saved")
	}
}
