package checkpoint

import (
	"encoding/json"
	"hash/maphash"
)

// recentScans remembers the scans answered lately, in two generations of
// recentMax, each answer as its JSON: a replay reads the answer back, and
// the first answer is written from the same bytes.
//
// The bytes are appended to chunks of recentChunk, a client id followed
// by its answer, and the index holds offsets: no pointers, so that the
// collector neither marks the 65,536 answers kept at all times nor scans
// the index, and a scan's answer costs no allocation of its own. The
// index is a table of recentSlots, open-addressed by a hash of the scan's
// key and probed linearly (BenchmarkRecentScansPut: some 40 ns a scan
// less than the runtime's map); an entry is taken only if its checkpoint
// and client id are the scan's, so a hash shared by two keys answers only
// its own. A second key with the same hash takes the place of the first,
// which then is forgotten early, as if its generation had gone. A
// generation's index is used again, emptied, two generations later (its
// chunks are not: an answer's bytes may still be being written).
type recentScans struct {
	seed     maphash.Seed
	cur, old *recentGen
}

// recentChunk is the size of the chunks answers are appended to (an
// answer with its pass is some 800 bytes).
const recentChunk = 1 << 20

type recentGen struct {
	index  *[recentSlots]recentSlot // an allocation of its own, without pointers
	n      int                      // entries in index
	chunks [][]byte
	// seen has a bit set for each hash in index (its top recentSeenBits
	// bits): a key whose bit is clear is not there, without a probe of
	// the index, which at this size is a miss of the processor's caches.
	// Nearly every scan is new, so nearly every lookup is such a miss —
	// two of them, one a generation.
	seen [1 << (recentSeenBits - 6)]uint64
}

// recentSeenBits is log2 of the bits of recentGen.seen: 64 KiB, of which
// a full generation sets at most one bit in sixteen.
const recentSeenBits = 19

// recentSlots is the size of a generation's index: twice its entries, so
// that a probe seldom goes past the first slot.
const recentSlots = 2 * recentMax

// recentSlot is an entry of the index; hash 0 is an empty slot (the
// stored hash has its lowest bit set).
type recentSlot struct {
	hash uint64
	ref  recentRef
}

type recentRef struct {
	checkpoint int64
	chunk      uint32
	off        uint32 // of the client id; the answer follows it
	idLen      uint32
	jsonLen    uint32
}

func (r *recentScans) hash(k scanKey) uint64 {
	return maphash.String(r.seed, k.clientID) ^ uint64(k.checkpoint)*0x9e3779b97f4a7c15
}

// find is the answer g remembers for k (hash h), nil when none.
func (g *recentGen) find(h uint64, k scanKey) []byte {
	if g == nil {
		return nil
	}
	if bit := h >> (64 - recentSeenBits); g.seen[bit/64]&(1<<(bit%64)) == 0 {
		return nil
	}
	e, ok := g.lookup(h)
	if !ok || e.checkpoint != k.checkpoint || int(e.idLen) != len(k.clientID) {
		return nil
	}
	c := g.chunks[e.chunk]
	end := e.off + e.idLen
	if string(c[e.off:end]) != k.clientID {
		return nil
	}
	return c[end : end+e.jsonLen : end+e.jsonLen]
}

// slot is the index of h's slot in g: the one holding h, else the empty
// one where h goes.
func (g *recentGen) slot(h uint64) (int, uint64) {
	h |= 1
	i := int(h>>1) & (recentSlots - 1)
	for g.index[i].hash != 0 && g.index[i].hash != h {
		i = (i + 1) & (recentSlots - 1)
	}
	return i, h
}

func (g *recentGen) lookup(h uint64) (recentRef, bool) {
	i, _ := g.slot(h)
	return g.index[i].ref, g.index[i].hash != 0
}

func (g *recentGen) store(h uint64, e recentRef) {
	i, h := g.slot(h)
	if g.index[i].hash == 0 {
		g.n++
	}
	g.index[i] = recentSlot{hash: h, ref: e}
}

// rotate starts a new generation, the current one becoming the old; the
// index of the one forgotten is emptied for the new.
func (r *recentScans) rotate() {
	g := r.old
	if g == nil {
		g = &recentGen{index: new([recentSlots]recentSlot)}
	} else {
		index := g.index
		clear(index[:])
		*g = recentGen{index: index} // its chunks stay with whoever still holds an answer
	}
	r.old, r.cur = r.cur, g
}

func (r *recentScans) get(k scanKey) *Scan {
	if r.cur == nil {
		return nil // nothing put yet (nor a seed made)
	}
	h := r.hash(k)
	b := r.cur.find(h, k)
	if b == nil {
		if b = r.old.find(h, k); b == nil {
			return nil
		}
	}
	var s Scan
	if err := json.Unmarshal(b, &s); err != nil {
		return nil // not reached: it is what AppendJSON wrote
	}
	return &s
}

// put remembers s and returns its JSON (shared: not to be changed).
func (r *recentScans) put(k scanKey, s *Scan) []byte {
	if r.cur == nil {
		r.seed = maphash.MakeSeed()
	}
	if r.cur == nil || r.cur.n >= recentMax {
		r.rotate()
	}
	g := r.cur
	n := len(g.chunks) - 1
	if n < 0 || cap(g.chunks[n])-len(g.chunks[n]) < recentChunk/64 {
		g.chunks = append(g.chunks, make([]byte, 0, recentChunk))
		n++
	}
	c := g.chunks[n]
	off := len(c)
	c = append(c, k.clientID...)
	c = s.AppendJSON(c) // a rare answer longer than the room left moves the chunk, offsets and all
	g.chunks[n] = c
	end := off + len(k.clientID)
	h := r.hash(k)
	bit := h >> (64 - recentSeenBits)
	g.seen[bit/64] |= 1 << (bit % 64)
	g.store(h, recentRef{checkpoint: k.checkpoint, chunk: uint32(n), off: uint32(off), idLen: uint32(len(k.clientID)),
		jsonLen: uint32(len(c) - end)})
	return c[end:len(c):len(c)]
}
