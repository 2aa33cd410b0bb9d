package prefix

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"time"
)

// The file: magic, a header, the keys in id order, and a trailer.
//
//	"AGENTTRACE-PREFIX-TABLE 1\n"
//	uint32 block size, uint32 length of the tokenizer name, the name,
//	uint64 number of entries                       (little-endian)
//	entries × (uint64 Lo, uint64 Hi)
//	uint32 CRC-32C of everything above, "END\n"
const magic = "AGENTTRACE-PREFIX-TABLE 1\n"

const trailer = "END\n"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt is wrapped by Load's error for a file that is not a whole,
// intact table.
var ErrCorrupt = errors.New("not an intact prefix table")

// MaxBlockSize and MaxTokenizerName bound the header of a table file.
const (
	MaxBlockSize     = 1 << 20
	MaxTokenizerName = 4096
)

// Load reads a table file. The file is never modified. A path that names
// something other than a regular file (a folder, a FIFO) is an error, not
// read.
func Load(path string) (*Table, error) {
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s): give the path of a prefix table file", path, kind(st.Mode()))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	corrupt := func(format string, args ...any) error {
		return fmt.Errorf("%s: %w: %s", path, ErrCorrupt, fmt.Sprintf(format, args...))
	}
	crc := crc32.New(castagnoli)
	br := bufio.NewReaderSize(f, 1<<20)
	r := io.TeeReader(br, crc) // the checksum covers what is read through r
	head := make([]byte, len(magic))
	if _, err := io.ReadFull(r, head); err != nil || string(head) != magic {
		return nil, corrupt("it does not start with %q (is it a prefix table?)", magic[:len(magic)-1])
	}
	var fixed [8]byte
	if _, err := io.ReadFull(r, fixed[:]); err != nil {
		return nil, corrupt("truncated header")
	}
	bs := binary.LittleEndian.Uint32(fixed[:4])
	nameLen := binary.LittleEndian.Uint32(fixed[4:])
	if bs == 0 || bs > MaxBlockSize || nameLen > MaxTokenizerName {
		return nil, corrupt("bad header (block size %d, name length %d)", bs, nameLen)
	}
	name := make([]byte, nameLen)
	if _, err := io.ReadFull(r, name); err != nil {
		return nil, corrupt("truncated header")
	}
	if _, err := io.ReadFull(r, fixed[:]); err != nil {
		return nil, corrupt("truncated header")
	}
	n := binary.LittleEndian.Uint64(fixed[:])
	headerLen := int64(len(magic)) + 8 + int64(nameLen) + 8
	if want := headerLen + int64(n)*16 + 4 + int64(len(trailer)); n > MaxBlocks || st.Size() != want {
		return nil, corrupt("%d bytes for %d entries, want %d (truncated or extended)", st.Size(), n, want)
	}
	t := &Table{blockSize: int(bs), tokenizer: string(name), index: newIndex(int(n)), keys: make([]Key, 0, n)}
	chunk := make([]byte, 16*min(n, 1<<16))
	for i := 0; i < int(n); {
		m := min(int(n)-i, len(chunk)/16)
		if _, err := io.ReadFull(r, chunk[:16*m]); err != nil {
			return nil, corrupt("truncated at entry %d", i)
		}
		for j := 0; j < m; j++ {
			k := Key{Lo: binary.LittleEndian.Uint64(chunk[16*j:]), Hi: binary.LittleEndian.Uint64(chunk[16*j+8:])}
			_, slot, dup := t.index.find(t.keys, k)
			if dup {
				return nil, corrupt("entry %d repeats an earlier one", i)
			}
			t.keys = append(t.keys, k)
			t.index.insert(slot, uint32(i))
			i++
		}
	}
	sum := crc.Sum32()
	var tail [8]byte
	if _, err := io.ReadFull(br, tail[:]); err != nil {
		return nil, corrupt("truncated trailer")
	}
	if got := binary.LittleEndian.Uint32(tail[:4]); got != sum || string(tail[4:]) != trailer {
		return nil, corrupt("checksum mismatch (the file was damaged)")
	}
	t.loaded = len(t.keys)
	return t, nil
}

// saveHook, when set (by tests), runs in the middle of writing a table.
var saveHook func()

// Save writes the table to path atomically: to path+".tmp", synced, then
// renamed over path, and the folder synced. A crash at any moment leaves
// either the old file or the new one. When ctx is cancelled during the save,
// the temporary file is removed and path is untouched.
func (t *Table) Save(ctx context.Context, path string) (err error) {
	if t.blockSize < 1 || t.blockSize > MaxBlockSize || len(t.tokenizer) > MaxTokenizerName {
		return fmt.Errorf("a table of blocks of %d tokens and a tokenizer name of %d bytes cannot be saved (at most %d and %d)",
			t.blockSize, len(t.tokenizer), MaxBlockSize, MaxTokenizerName)
	}
	// A link is written through: the file it names is replaced, and keeps
	// its mode.
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	}
	mode, existed := os.FileMode(0o644), false
	if st, err := os.Stat(path); err == nil {
		mode, existed = st.Mode().Perm(), true
	}
	tmp := path + ".tmp"
	os.Remove(tmp) // left by a process killed while saving
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if existed { // the umask may have taken bits away
		if err := f.Chmod(mode); err != nil {
			f.Close()
			os.Remove(tmp)
			return err
		}
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	crc := crc32.New(castagnoli)
	w := bufio.NewWriterSize(io.MultiWriter(f, crc), 1<<20)
	w.WriteString(magic)
	var b [16]byte
	binary.LittleEndian.PutUint32(b[:4], uint32(t.blockSize))
	binary.LittleEndian.PutUint32(b[4:8], uint32(len(t.tokenizer)))
	w.Write(b[:8])
	w.WriteString(t.tokenizer)
	binary.LittleEndian.PutUint64(b[:8], uint64(len(t.keys)))
	w.Write(b[:8])
	chunk := make([]byte, 0, 16<<16)
	hooked := false
	for i := 0; i < len(t.keys); i += 1 << 16 {
		if err := ctx.Err(); err != nil {
			return err
		}
		if i >= len(t.keys)/2 && !hooked && saveHook != nil {
			hooked = true
			saveHook()
		}
		chunk = chunk[:0]
		for _, k := range t.keys[i:min(i+1<<16, len(t.keys))] {
			chunk = binary.LittleEndian.AppendUint64(chunk, k.Lo)
			chunk = binary.LittleEndian.AppendUint64(chunk, k.Hi)
		}
		w.Write(chunk)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	var tail bytes.Buffer
	binary.Write(&tail, binary.LittleEndian, crc.Sum32())
	tail.WriteString(trailer)
	if _, err := f.Write(tail.Bytes()); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	t.loaded = len(t.keys)
	return nil
}

// kind names a file mode that is not a regular file's.
func kind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file"
}

// ErrLocked is returned by Lock when another process holds the table.
var ErrLocked = errors.New("the prefix table is in use by another process")

// Lock takes an exclusive lock on the table at path (on path+".lock", since
// saving replaces the table file), waiting up to timeout. The returned
// function releases it.
func Lock(path string, timeout time.Duration) (unlock func(), err error) {
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, err
		}
		if ok {
			return func() {
				unlockFile(f)
				f.Close()
			}, nil
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("%s: %w (waited %s; see --lock-timeout)", path, ErrLocked, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
