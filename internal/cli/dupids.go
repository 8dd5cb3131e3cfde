package cli

import (
	"hash/maphash"
	"strconv"
)

// Bounds of the duplicate ids validate lists: the ids shown, and the
// lines shown of each.
const (
	maxDupExamples     = 5
	maxDupExampleLines = 10
)

// dupIDs finds the request ids that appear on more than one input line,
// as they are read, and keeps the first few as examples with their lines.
// Unlike idTracker, which only counts them at the end, it keeps a map of
// the first line of every id (by a 64-bit hash of it: some 40 bytes per
// distinct id). It is not safe for concurrent use.
type dupIDs struct {
	seed     maphash.Seed
	first    map[uint64]int // hash → first line; -1 once counted as a repeat
	repeated int            // distinct ids seen on more than one line
	examples []dupExample
}

// dupExample is an id seen on more than one line.
type dupExample struct {
	hash    uint64
	id      string
	numeric bool
	lines   []int // the first maxDupExampleLines
	count   int   // the lines it is on
}

func newDupIDs() *dupIDs {
	return &dupIDs{seed: maphash.MakeSeed(), first: map[uint64]int{}}
}

// add records the id of one input line; empty ids are not tracked, and 1
// and "1" are different ids.
func (d *dupIDs) add(id string, numeric bool, line int) {
	if id == "" {
		return
	}
	h := hashID(d.seed, id, numeric)
	first, seen := d.first[h]
	switch {
	case !seen:
		d.first[h] = line
		return
	case first >= 0: // the second line with this id
		d.first[h] = -1
		d.repeated++
		if len(d.examples) < maxDupExamples {
			d.examples = append(d.examples, dupExample{hash: h, id: id, numeric: numeric, lines: []int{first}, count: 1})
		}
	}
	for i := range d.examples {
		if ex := &d.examples[i]; ex.hash == h {
			ex.count++
			if len(ex.lines) < maxDupExampleLines {
				ex.lines = append(ex.lines, line)
			}
		}
	}
}

// quoted returns the id as written in the input: a JSON number bare, a
// string quoted.
func (ex *dupExample) quoted() string {
	if ex.numeric {
		return ex.id
	}
	return strconv.Quote(ex.id)
}
