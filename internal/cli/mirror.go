package cli

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/lambdafan/lambdafan/internal/store"
)

// Results that go to S3 (or to a local .gz file) are written first to a
// local spool file, with the journal and the sent marks beside it in the
// journal directory, exactly as results written to a local file are: so
// the crash guarantees of docs/RELIABILITY.md hold unchanged. A mirror
// copies the spool to its target as it grows — every second into an S3
// multipart upload, which sends each part as it fills, completed at every
// checkpoint (every checkpointInterval, and at the end), so the object in
// S3 is never older than that — and the spool is removed once the target
// holds everything.
//
// While a run writes to S3, a marker object beside the results
// (KEY.lambdafan-running) says so. A resumed run that finds the marker but
// not the spool (the run died on another machine, or its journal
// directory was lost) cannot know which requests that run had in flight:
// it refuses, unless --retry-unsafe accepts running them again.

// checkpointInterval is how often a mirror makes its target hold every
// result so far; copyInterval, how often it passes new results on to the
// upload, which sends each part as it fills.
const (
	checkpointInterval = 30 * time.Second
	copyInterval       = time.Second
)

// isMirrored reports whether results for loc go through a spool: S3
// objects, and local files compressed by extension.
func isMirrored(loc store.Location) bool {
	return loc.IsS3() || (!loc.IsStdio() && loc.Gzip())
}

// defaultJournalDir is where spools and their journals live unless
// --journal-dir says otherwise: $XDG_STATE_HOME/lambdafan, or
// ~/.local/state/lambdafan.
func defaultJournalDir(getenv func(string) string) string {
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "lambdafan")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "lambdafan")
	}
	return filepath.Join(os.TempDir(), "lambdafan")
}

// spoolPath is the local spool of the results for target: named after
// the target's file name, made unique by a hash of the whole location.
func spoolPath(dir string, target store.Location) string {
	sum := sha256.Sum256([]byte(target.String()))
	base := filepath.Base(strings.TrimSuffix(target.String(), "/"))
	base = strings.TrimSuffix(base, filepath.Ext(base)) // drop .gz
	return filepath.Join(dir, base+"-"+hex.EncodeToString(sum[:6])+".jsonl")
}

// markerFor is the marker object of an S3 target.
func markerFor(target store.Location) (store.Location, error) {
	return store.Parse(target.String() + ".lambdafan-running")
}

// mirror copies a growing spool file to its target.
type mirror struct {
	st     store.Store
	target store.Location
	spool  string
	marker *store.Location // nil for a local target

	obj      store.Object
	src      *os.File // the spool, read from offset
	offset   int64    // bytes of the spool copied to obj
	stop     chan struct{}
	done     sync.WaitGroup
	mu       sync.Mutex // serialises copies: the periodic one and finish
	err      error      // the first copy or checkpoint error
	finished bool
}

// checkMirrorTarget checks, without changing anything, that a fresh run
// may write target: a marker means a run did not finish, and an existing
// object must hold lambdafan results.
func checkMirrorTarget(ctx context.Context, st store.Store, target store.Location) error {
	if err := checkBucket(ctx, st, target); err != nil {
		return err
	}
	if target.IsS3() {
		marker, err := markerFor(target)
		if err != nil {
			return usagef("output %s: %v", target, err)
		}
		if _, err := st.Stat(ctx, marker); err == nil {
			return usagef("a run writing %s did not finish (%s exists): finish it with --resume %s", target, marker, target)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return usagef("cannot write output: %v", err)
		}
	}
	r, err := st.Open(ctx, target)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		if target.IsS3() {
			return usagef("cannot write output: %v", err)
		}
		return nil // checked as a local file elsewhere
	}
	defer r.Close()
	line, err := bufio.NewReaderSize(r, 64*1024).ReadSlice('\n')
	if len(line) == 0 && (errors.Is(err, io.EOF) || err == nil) {
		return nil
	}
	if _, perr := parseRecord(line); perr != nil {
		return usagef("output %s exists and does not hold lambdafan results (line 1: %v); refusing to overwrite it: remove it or choose another name", target, perr)
	}
	return nil
}

// checkBucket checks that target's bucket exists and can be listed (which
// a missing object's Stat does not tell apart from a missing bucket).
func checkBucket(ctx context.Context, st store.Store, target store.Location) error {
	if !target.IsS3() {
		return nil
	}
	dir, err := store.Parse("s3://" + target.Bucket() + "/" + target.Key() + "/")
	if err == nil {
		_, err = st.List(ctx, dir)
	}
	if err != nil {
		return usagef("cannot write output %s: %v", target, err)
	}
	return nil
}

// prepareMirroredResume makes the spool of a resumed run hold what the
// target holds, when there is no spool yet (the last run ended in order,
// or this is a first run): it copies the target into the spool, so that
// the resume works on the spool like on a local file. A marker without a
// spool means the run died where its journal was: refused unless
// retryUnsafe.
func prepareMirroredResume(ctx context.Context, st store.Store, target store.Location, spool string, retryUnsafe bool) error {
	if err := checkBucket(ctx, st, target); err != nil {
		return err
	}
	if _, err := os.Stat(spool); err == nil {
		return nil // this machine's spool, with its journal: the resume is exact
	}
	if target.IsS3() {
		marker, err := markerFor(target)
		if err != nil {
			return usagef("--resume %s: %v", target, err)
		}
		if _, err := st.Stat(ctx, marker); err == nil && !retryUnsafe {
			return usagef("--resume %s: the run writing it did not finish (%s exists), and its journal is not in this journal directory (%s): "+
				"the requests it had in flight cannot be told from those it never sent. Resume where it ran (or with --journal-dir pointing at its journal), "+
				"or add --retry-unsafe to invoke every request without a final result again (some may then run twice)", target, marker, filepath.Dir(spool))
		}
	}
	r, err := st.Open(ctx, target)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // a first run
	}
	if err != nil {
		return usagef("--resume: %v", err)
	}
	defer r.Close()
	if err := os.MkdirAll(filepath.Dir(spool), 0o700); err != nil {
		return usagef("--journal-dir: %v", err)
	}
	return writeFileAtomically(spool, func(w io.Writer) error {
		_, err := io.Copy(w, r)
		return err
	})
}

// startMirror begins copying spool to target: for S3 it puts the marker,
// then starts the upload, which a checkpoint completes every
// checkpointInterval.
func startMirror(ctx context.Context, st store.Store, target store.Location, spool string) (*mirror, error) {
	m := &mirror{st: st, target: target, spool: spool, stop: make(chan struct{})}
	ctx = context.WithoutCancel(ctx) // the results of an interrupted run are uploaded too
	if target.IsS3() {
		marker, err := markerFor(target)
		if err != nil {
			return nil, err
		}
		if err := putMarker(ctx, st, marker, spool); err != nil {
			return nil, fmt.Errorf("cannot write %s: %w", marker, err)
		}
		m.marker = &marker
	}
	var err error
	if m.src, err = os.Open(spool); err != nil {
		return nil, err
	}
	if m.obj, err = st.Create(ctx, target); err != nil {
		m.src.Close()
		return nil, fmt.Errorf("cannot write output: %w", err)
	}
	m.done.Go(func() { m.run(ctx) })
	return m, nil
}

// putMarker writes the marker object: who runs, and where its journal is.
func putMarker(ctx context.Context, st store.Store, marker store.Location, spool string) error {
	host, _ := os.Hostname()
	b, _ := json.Marshal(map[string]any{"host": host, "pid": os.Getpid(), "spool": spool, "started": time.Now().UTC()})
	obj, err := st.Create(ctx, marker)
	if err != nil {
		return err
	}
	if _, err := obj.Write(append(b, '\n')); err != nil {
		obj.Abort(ctx)
		return err
	}
	return obj.Close()
}

func (m *mirror) run(ctx context.Context) {
	copyTick, checkpointTick := time.NewTicker(copyInterval), time.NewTicker(checkpointInterval)
	defer copyTick.Stop()
	defer checkpointTick.Stop()
	for {
		select {
		case <-copyTick.C:
			m.copy()
		case <-checkpointTick.C:
			m.checkpoint(ctx)
		case <-m.stop:
			return
		}
	}
}

// copy passes the spool's new complete lines on to the upload.
func (m *mirror) copy() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err == nil && !m.finished {
		m.err = m.copyLocked()
	}
}

// checkpoint copies what the spool holds beyond offset (whole lines) and
// makes the target hold everything so far.
func (m *mirror) checkpoint(ctx context.Context) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil || m.finished {
		return
	}
	if m.err = m.copyLocked(); m.err == nil {
		m.err = m.obj.Checkpoint(ctx)
	}
}

// copyLocked appends the spool's complete lines after offset to obj. A
// line longer than the buffer (a result with a payload of megabytes)
// grows it.
func (m *mirror) copyLocked() error {
	buf := make([]byte, 1<<20)
	for {
		n, err := m.src.ReadAt(buf, m.offset)
		whole := lastNewline(buf[:n]) + 1 // 0: no complete line yet
		if whole > 0 {
			if _, werr := m.obj.Write(buf[:whole]); werr != nil {
				return werr
			}
			m.offset += int64(whole)
		}
		switch {
		case err != nil && !errors.Is(err, io.EOF):
			return err
		case n < len(buf):
			return nil // the end of what is written so far
		case whole == 0:
			buf = make([]byte, 2*len(buf))
		}
	}
}

func lastNewline(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' {
			return i
		}
	}
	return -1
}

// finish copies the rest of the spool (which holds every result by now)
// and completes the target, then removes the marker. On failure the
// upload is aborted and the target keeps its last checkpoint; the spool
// and its journal stay for --resume.
func (m *mirror) finish(ctx context.Context) error {
	close(m.stop)
	m.done.Wait()
	ctx = context.WithoutCancel(ctx)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.finished = true
	defer m.src.Close()
	err := m.err
	if err == nil {
		err = m.copyLocked()
	}
	if err != nil {
		m.obj.Abort(ctx)
		return fmt.Errorf("cannot write results to %s: %w", m.target, err)
	}
	if err := m.obj.Close(); err != nil {
		return fmt.Errorf("cannot write results to %s: %w", m.target, err)
	}
	if m.marker != nil {
		if err := m.st.Remove(ctx, *m.marker); err != nil {
			return fmt.Errorf("results written to %s, but its marker stays: %w", m.target, err)
		}
	}
	return nil
}
