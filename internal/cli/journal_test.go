package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func TestJournal_RecordIsOnDiskWhenItReturns(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out.jsonl")
	j, err := writeJournal(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				line := g*1000 + i + 1
				if err := j.record(t.Context(), line); err != nil {
					t.Error(err)
					return
				}
				// What a crash would leave: the file as it is now.
				b, _ := os.ReadFile(journalPath(out))
				if !strings.Contains(string(b), "\n"+strconv.Itoa(line)+"\n") {
					t.Errorf("line %d recorded but not in the file", line)
				}
			}
		})
	}
	wg.Wait()
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	pj, err := readJournal(out)
	if err != nil {
		t.Fatal(err)
	}
	defer pj.close()
	if len(pj.lines) != 400 {
		t.Errorf("%d lines read back, want 400", len(pj.lines))
	}
	if j.record(t.Context(), 99999) == nil {
		t.Error("a record after close succeeded")
	}
}

func TestReadJournal(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		out := filepath.Join(dir, name)
		if err := os.WriteFile(journalPath(out), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return out
	}
	// A last record cut short was never synced: its request was not sent.
	pj, err := readJournal(write("torn", journalHeader+"\n7\n3\n7\n12"))
	if err != nil || !slices.Equal(pj.lines, []int{3, 7}) {
		t.Errorf("torn journal: %v %v", pj, err)
	}
	if _, err := readJournal(write("damaged", journalHeader+"\n3\nx\n5\n")); err == nil || !strings.Contains(err.Error(), "record 2 is not a line number") {
		t.Errorf("damaged journal: %v", err)
	}
	if _, err := readJournal(write("foreign", "my notes\n")); err == nil || !strings.Contains(err.Error(), "not a lambdafan journal") {
		t.Errorf("foreign file: %v", err)
	}
	if pj, err := readJournal(filepath.Join(dir, "none")); err != nil || len(pj.lines) != 0 {
		t.Errorf("no journal: %v %v", pj, err)
	}
}

func TestJournal_SentMarks(t *testing.T) {
	if bootID() == "" {
		t.Skip("sent marks need the boot id (Linux)")
	}
	out := filepath.Join(t.TempDir(), "out.jsonl")
	// A resumed run carries lines 3 and 5 over (sent by a run that died).
	j, err := writeJournal(out, []int{3, 5})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []int{10, 11, 12} {
		if err := j.record(t.Context(), l); err != nil {
			t.Fatal(err)
		}
	}
	j.markSent(11)
	// The process dies here: the journal and the marks stay as they are.
	j.close()

	pj, err := readJournal(out)
	if err != nil {
		t.Fatal(err)
	}
	var maySend []int
	for _, l := range pj.lines {
		if pj.maySend(l) {
			maySend = append(maySend, l)
		}
	}
	pj.close()
	if want := []int{3, 5, 11}; !slices.Equal(maySend, want) {
		t.Errorf("lines that may have been sent: %v, want %v (10 and 12 were journaled, never sent)", maySend, want)
	}

	// After a reboot the marks may not have reached the disk: every
	// journaled request may have been sent.
	b, _ := os.ReadFile(journalPath(out))
	rebooted := strings.Replace(string(b), "boot="+bootID(), "boot=another-boot", 1)
	os.WriteFile(journalPath(out), []byte(rebooted), 0o644)
	pj, err = readJournal(out)
	if err != nil {
		t.Fatal(err)
	}
	defer pj.close()
	for _, l := range pj.lines {
		if !pj.maySend(l) {
			t.Errorf("after a reboot, line %d is said not sent", l)
		}
	}
}

func BenchmarkJournal_Record(b *testing.B) {
	j, err := writeJournal(filepath.Join(b.TempDir(), "out.jsonl"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer j.close()
	var line atomic.Int64
	b.SetParallelism(32) // 64 goroutines on 2 cores, like -c 64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := j.record(b.Context(), int(line.Add(1))); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
