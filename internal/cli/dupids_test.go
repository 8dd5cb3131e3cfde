package cli

import (
	"fmt"
	"reflect"
	"testing"
)

// TestDupIDs: repeated ids are counted once each, numbers and strings
// apart, with the first few kept as examples and their first lines.
func TestDupIDs(t *testing.T) {
	d := newDupIDs()
	d.add("a", false, 1)
	d.add("1", true, 2)
	d.add("1", false, 3) // "1" is not 1
	d.add("", false, 4)  // no id
	d.add("", false, 5)
	d.add("a", false, 6)
	d.add("1", true, 7)
	d.add("a", false, 8)
	for line := 100; line < 120; line++ {
		d.add("many", false, line)
	}
	for i := range 10 { // more repeated ids than examples
		d.add(fmt.Sprint("x", i), false, 200+i)
		d.add(fmt.Sprint("x", i), false, 300+i)
	}
	if d.repeated != 13 {
		t.Errorf("%d repeated ids, want 13", d.repeated)
	}
	want := []dupExample{
		{id: "a", lines: []int{1, 6, 8}, count: 3},
		{id: "1", numeric: true, lines: []int{2, 7}, count: 2},
		{id: "many", lines: []int{100, 101, 102, 103, 104, 105, 106, 107, 108, 109}, count: 20},
		{id: "x0", lines: []int{200, 300}, count: 2},
		{id: "x1", lines: []int{201, 301}, count: 2},
	}
	for i := range d.examples {
		d.examples[i].hash = 0
	}
	if !reflect.DeepEqual(d.examples, want) {
		t.Errorf("examples\n%+v\nwant\n%+v", d.examples, want)
	}
	if got := d.examples[1].quoted() + " " + d.examples[0].quoted(); got != `1 "a"` {
		t.Errorf("quoted: %s", got)
	}
}

// TestKeyCounts: the most frequent keys first, and a bounded number of
// them.
func TestKeyCounts(t *testing.T) {
	var k keyCounts
	for i := range maxKeys + 5 {
		k.add(fmt.Sprintf("f%05d", i))
	}
	k.add("f00003")
	k.add("f00003")
	k.add("f00007")
	got := k.String()
	want := "f00003 3, f00007 2, f00000 1, f00001 1, f00002 1, f00004 1, f00005 1, f00006 1, f00008 1, f00009 1, " +
		"and more than 9990 others (9995 requests)"
	if len(k.m) != maxKeys || got != want {
		t.Errorf("%d keys: %s\nwant %s", len(k.m), got, want)
	}
	var few keyCounts
	few.add("b")
	few.add("a")
	if got := few.String(); got != "a 1, b 1" {
		t.Errorf("few: %s", got)
	}
}
