package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"
)

// The journal is a run's write-ahead record of the requests that may have
// been sent: when a request is read, its input line is appended, and its
// first attempt waits until that record is synced to disk. If the process
// dies (SIGKILL, a crash, power loss), results still in memory or in the
// page cache are lost, but the journal says which requests may have run:
// --resume gives those an "unknown" result instead of invoking them again,
// and invokes only the requests that certainly were never sent. The sent
// marks (sentmarks.go) tell, after a crash of the process alone, which
// journaled requests were actually sent.
//
// Appends are group-committed: requests starting while a sync is under
// way, or less than commitInterval after the last one began, are written
// and synced together by the next one. An fsync costs about 100 µs of CPU
// on the project's machine whatever it writes, so the cost is one fsync
// per batch, at most 1/commitInterval a second, not one per request; each
// request waits at most about commitInterval plus one fsync before its
// first attempt.
//
// The journal lives beside the output, at journalPath(output). It is
// removed when a run ends in order (every result is then in the output)
// and kept when a crashed run's requests are still unresolved.

// commitInterval is the shortest time between the starts of two syncs.
// At 2 ms, at most 500 syncs a second: measured with go run ./bench
// (docs/BENCHMARKS.md), the journal then costs a few percent of the CLI's
// throughput instead of a quarter with a sync as soon as the last ended.
const commitInterval = 2 * time.Millisecond

// journalHeader begins the first line of every journal file. The line goes
// on with " boot=" and the boot the journal was written in (see
// sentmarks.go), when it is known.
const journalHeader = "lambdafan journal v1"

// journalPath returns where the journal of a run writing output lives.
func journalPath(output string) string { return output + ".journal" }

// previousJournal is what a crashed run's journal says: the input lines it
// recorded, sorted and without duplicates, and, when the marks can be
// trusted (same boot), which of them were sent.
type previousJournal struct {
	lines []int
	sent  *sentMarks // nil: every recorded line may have been sent
}

// maySend reports whether the request on line may have been sent.
func (pj *previousJournal) maySend(line int) bool {
	if pj.sent == nil || !pj.sent.covers(line) {
		return true
	}
	return pj.sent.marked(line)
}

func (pj *previousJournal) close() {
	if pj.sent != nil {
		pj.sent.close()
	}
}

// readJournal reads the journal of the run writing output, if any. A last
// line cut short by a crash was never synced, so its request was never
// sent: it is ignored.
func readJournal(output string) (*previousJournal, error) {
	path := journalPath(output)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &previousJournal{}, nil
	}
	if err != nil {
		return nil, usagef("--resume: read the journal: %v", pathErr(err))
	}
	header, b, _ := bytes.Cut(b, []byte{'\n'})
	if !bytes.HasPrefix(header, []byte(journalHeader)) {
		return nil, usagef("--resume: %s is not a lambdafan journal; move it away if it is yours", path)
	}
	pj := &previousJournal{}
	for n := 1; len(b) > 0; n++ {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break // cut short by a crash: never synced
		}
		line, err := strconv.Atoi(string(b[:i]))
		if err != nil || line <= 0 {
			return nil, usagef("--resume: %s record %d is not a line number: the journal is damaged", path, n)
		}
		pj.lines = append(pj.lines, line)
		b = b[i+1:]
	}
	slices.Sort(pj.lines)
	pj.lines = slices.Compact(pj.lines)
	if boot := bootID(); boot != "" && string(header) == journalHeader+" boot="+boot {
		// The machine has not restarted since: the marks the crashed
		// process set are in the page cache, whether or not on disk.
		if pj.sent, err = readSentMarks(sentMarksPath(output)); err != nil {
			pj.sent = nil // unreadable: fall back on the journal alone
		}
	}
	return pj, nil
}

// writeJournal starts the journal of the run writing output, recording
// lines (the lost requests a resumed run carries over), and returns it open
// for appending. The sent marks come first, with lines marked: until the
// new journal replaces the old one, the old one stays right.
func writeJournal(output string, lines []int) (*journal, error) {
	header := journalHeader
	boot := bootID()
	var marks *sentMarks
	if boot != "" {
		var err error
		if marks, err = createSentMarks(sentMarksPath(output), lines); err == nil {
			header += " boot=" + boot
		}
	}
	path := journalPath(output)
	err := writeFileAtomically(path, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		bw.WriteString(header + "\n")
		var b []byte
		for _, l := range lines {
			b = strconv.AppendInt(b[:0], int64(l), 10)
			b = append(b, '\n')
			bw.Write(b)
		}
		return bw.Flush()
	})
	if err != nil {
		if marks != nil {
			marks.close()
		}
		return nil, fmt.Errorf("write the journal: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		if marks != nil {
			marks.close()
		}
		return nil, fmt.Errorf("open the journal: %w", err)
	}
	j := newJournal(f)
	j.marks = marks
	return j, nil
}

// journal appends records to a journal file with group commit. It is safe
// for concurrent use.
type journal struct {
	f     *os.File
	marks *sentMarks // nil when sent marks are not used

	mu      sync.Mutex
	pending []byte        // records not yet written
	batch   *journalBatch // the batch pending records belong to
	closed  bool
	kick    chan struct{} // wakes the committer; capacity 1
	closing chan struct{} // closed by close: commit what is pending now
	done    chan struct{} // closed when the committer has returned
}

// journalBatch is a group of records made durable by one write and sync.
type journalBatch struct {
	synced chan struct{} // closed once the batch is durable, or failed
	err    error
}

// closedBatch is the answer to a record added after close: it is never
// written.
func closedBatch() *journalBatch {
	b := &journalBatch{synced: make(chan struct{}), err: errors.New("journal closed")}
	close(b.synced)
	return b
}

func newJournal(f *os.File) *journal {
	j := &journal{
		f:       f,
		batch:   &journalBatch{synced: make(chan struct{})},
		kick:    make(chan struct{}, 1),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
	}
	go j.commit()
	return j
}

// record appends line and returns once it is on disk.
func (j *journal) record(ctx context.Context, line int) error {
	return j.add(line).wait(ctx)
}

// add appends line without waiting: the returned batch says when it is on
// disk. Adding a request's line as soon as it is read, and waiting only
// right before sending it, keeps the sync off the request's path.
func (j *journal) add(line int) *journalBatch {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return closedBatch()
	}
	j.pending = strconv.AppendInt(j.pending, int64(line), 10)
	j.pending = append(j.pending, '\n')
	select {
	case j.kick <- struct{}{}:
	default: // the committer is already woken
	}
	return j.batch
}

// wait returns once the batch is on disk, or why it cannot be.
func (b *journalBatch) wait(ctx context.Context) error {
	select {
	case <-b.synced:
		if b.err != nil {
			return fmt.Errorf("journal: %w", b.err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// commit writes and syncs the pending records, a batch at a time, until
// the journal is closed.
func (j *journal) commit() {
	defer close(j.done)
	var spare []byte
	var failed error
	var last time.Time // when the last sync began
	pause := time.NewTimer(0)
	defer pause.Stop()
	for range j.kick {
		// Let more records join this batch, unless the journal is closing.
		if wait := commitInterval - time.Since(last); !last.IsZero() && wait > 0 {
			pause.Reset(wait)
			select {
			case <-pause.C:
			case <-j.closing:
			}
		}
		last = time.Now()
		j.mu.Lock()
		buf, b, closed := j.pending, j.batch, j.closed
		j.pending, j.batch = spare[:0], &journalBatch{synced: make(chan struct{})}
		j.mu.Unlock()
		if len(buf) > 0 {
			if failed == nil {
				if _, err := j.f.Write(buf); err != nil {
					failed = err
				} else if err := j.f.Sync(); err != nil {
					failed = err
				}
			}
			b.err = failed // once a write failed, nothing later is durable
		}
		close(b.synced)
		spare = buf
		if closed {
			return
		}
	}
}

// markSent records, in the sent marks, that the request on line is about
// to be sent. Its journal record must be on disk already.
func (j *journal) markSent(line int) {
	if j.marks != nil {
		j.marks.mark(line)
	}
}

// close stops the committer after it has committed what is pending and
// closes the files.
func (j *journal) close() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	close(j.kick)
	close(j.closing)
	j.mu.Unlock()
	<-j.done
	err := j.f.Close()
	if j.marks != nil {
		err = errors.Join(err, j.marks.close())
	}
	return err
}

// remove closes the journal and deletes its file: the output now holds a
// result for every request it recorded.
func (j *journal) remove() error {
	if err := j.close(); err != nil {
		return err
	}
	if err := os.Remove(j.f.Name()); err != nil {
		return err
	}
	if j.marks != nil {
		os.Remove(j.marks.path())
	}
	return syncDir(filepath.Dir(j.f.Name()))
}
