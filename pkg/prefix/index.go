package prefix

// index is an open-addressing hash index from Key to id. Keys are already
// uniform hashes, so their low bits pick the slot. A slot holds id+1 (0 is
// empty); the key itself lives in Table.keys. It costs 4-8 bytes per entry
// beside the 16 of the key, and loads 10 million entries in about a second.
type index struct {
	slots []uint32
	mask  uint64
}

func newIndex(n int) index {
	size := 1024
	for size*3/4 < n+1 {
		size *= 2
	}
	return index{slots: make([]uint32, size), mask: uint64(size - 1)}
}

// find returns the id of k, or the slot where it would go.
func (x *index) find(keys []Key, k Key) (id uint32, slot uint64, ok bool) {
	for i := k.Lo & x.mask; ; i = (i + 1) & x.mask {
		s := x.slots[i]
		if s == 0 {
			return 0, i, false
		}
		if keys[s-1] == k {
			return s - 1, i, true
		}
	}
}

// insert records that keys[id] is at slot; grow may be needed first.
func (x *index) insert(slot uint64, id uint32) { x.slots[slot] = id + 1 }

// full reports whether one more entry would pass the load factor of 3/4.
func (x *index) full(n int) bool { return (n+1)*4 > len(x.slots)*3 }

// rebuild makes an index of twice the size holding keys.
func rebuild(keys []Key) index {
	x := newIndex(2 * len(keys))
	for id, k := range keys {
		_, slot, _ := x.find(keys, k)
		x.insert(slot, uint32(id))
	}
	return x
}
