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
)

// The journal is a run's write-ahead record of the requests that may have
// been sent: before a request's first attempt, its input line is appended
// and synced to disk, and only then does the attempt start. If the
// process dies (SIGKILL, a crash, power loss), results still in memory or
// in the page cache are lost, but the journal says which requests may have
// run: --resume gives those an "unknown" result instead of invoking them
// again, and invokes only the requests that certainly were never sent.
//
// Appends are group-committed: requests starting while a sync is under
// way are written and synced together by the next one, so the cost is one
// fsync per batch, not per request.
//
// The journal lives beside the output, at journalPath(output). It is
// removed when a run ends in order (every result is then in the output)
// and kept when a crashed run's requests are still unresolved.

// journalHeader is the first line of every journal file.
const journalHeader = "lambdafan journal v1\n"

// journalPath returns where the journal of a run writing output lives.
func journalPath(output string) string { return output + ".journal" }

// readJournal returns the input lines the journal at path records, sorted
// and without duplicates, or nil when there is no journal. A last line cut
// short by a crash was never synced, so its request was never sent: it is
// ignored.
func readJournal(path string) ([]int, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, usagef("--resume: read the journal: %v", pathErr(err))
	}
	if !bytes.HasPrefix(b, []byte(journalHeader)) {
		return nil, usagef("--resume: %s is not a lambdafan journal; move it away if it is yours", path)
	}
	b = b[len(journalHeader):]
	var lines []int
	for n := 1; len(b) > 0; n++ {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break // cut short by a crash: never synced
		}
		line, err := strconv.Atoi(string(b[:i]))
		if err != nil || line <= 0 {
			return nil, usagef("--resume: %s record %d is not a line number: the journal is damaged", path, n)
		}
		lines = append(lines, line)
		b = b[i+1:]
	}
	slices.Sort(lines)
	return slices.Compact(lines), nil
}

// writeJournal replaces the journal at path with one recording lines, and
// returns it open for appending.
func writeJournal(path string, lines []int) (*journal, error) {
	err := writeFileAtomically(path, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		bw.WriteString(journalHeader)
		var b []byte
		for _, l := range lines {
			b = strconv.AppendInt(b[:0], int64(l), 10)
			b = append(b, '\n')
			bw.Write(b)
		}
		return bw.Flush()
	})
	if err != nil {
		return nil, fmt.Errorf("write the journal: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("open the journal: %w", err)
	}
	return newJournal(f), nil
}

// journal appends records to a journal file with group commit. It is safe
// for concurrent use.
type journal struct {
	f *os.File

	mu      sync.Mutex
	pending []byte        // records not yet written
	batch   *journalBatch // the batch pending records belong to
	closed  bool
	kick    chan struct{} // wakes the committer; capacity 1
	done    chan struct{} // closed when the committer has returned
}

// journalBatch is a group of records made durable by one write and sync.
type journalBatch struct {
	synced chan struct{} // closed once the batch is durable, or failed
	err    error
}

func newJournal(f *os.File) *journal {
	j := &journal{
		f:     f,
		batch: &journalBatch{synced: make(chan struct{})},
		kick:  make(chan struct{}, 1),
		done:  make(chan struct{}),
	}
	go j.commit()
	return j
}

// record appends line and returns once it is on disk.
func (j *journal) record(ctx context.Context, line int) error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return errors.New("journal closed")
	}
	j.pending = strconv.AppendInt(j.pending, int64(line), 10)
	j.pending = append(j.pending, '\n')
	b := j.batch
	select {
	case j.kick <- struct{}{}:
	default: // the committer is already woken
	}
	j.mu.Unlock()
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
	for range j.kick {
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

// close stops the committer after it has committed what is pending and
// closes the file.
func (j *journal) close() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	close(j.kick)
	j.mu.Unlock()
	<-j.done
	return j.f.Close()
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
	return syncDir(filepath.Dir(j.f.Name()))
}
