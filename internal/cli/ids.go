package cli

import (
	"hash/maphash"
	"slices"
)

// idTracker notices request ids that appear on more than one input line.
// Results are matched to requests by line, so repeated ids lose nothing,
// but a user who joins results to requests by id should know. It keeps a
// 64-bit hash per id (8 bytes per request), not the ids, and finds the
// repeats at the end by sorting. It is not safe for concurrent use.
type idTracker struct {
	seed   maphash.Seed
	hashes []uint64
}

func newIDTracker() *idTracker { return &idTracker{seed: maphash.MakeSeed()} }

// add records the id of one input line; empty ids are not tracked.
// Numeric and string ids are told apart (1 and "1" are not a repeat).
func (t *idTracker) add(id string, numeric bool) {
	if id == "" {
		return
	}
	t.hashes = append(t.hashes, hashID(t.seed, id, numeric))
}

// hashID hashes an id with seed, numeric and string ids apart.
func hashID(seed maphash.Seed, id string, numeric bool) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	if numeric {
		h.WriteByte('#')
	}
	h.WriteString(id)
	return h.Sum64()
}

// repeated returns the number of distinct ids that appeared more than
// once. (Two different ids with the same 64-bit hash would count as one
// repeat: with a million ids, a chance of about 3 in 10^8.)
func (t *idTracker) repeated() int {
	slices.Sort(t.hashes)
	n := 0
	for i := 1; i < len(t.hashes); i++ {
		if t.hashes[i] == t.hashes[i-1] && (i == 1 || t.hashes[i-1] != t.hashes[i-2]) {
			n++
		}
	}
	return n
}
