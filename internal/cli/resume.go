package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/lambdafan/lambdafan/internal/jsonl"
)

// resumeState is what a previous run's output says is finished: the
// requests that have a final result, by id when the request had one and by
// input line otherwise.
type resumeState struct {
	ids   map[string]struct{}
	lines map[int]struct{}
	// final and retry count the previous records; skipped counts the
	// requests of this run that were found finished.
	final, retry, unreadable, skipped int
}

// previousRecord is the part of an output record that decides whether it
// is final.
type previousRecord struct {
	Line    int    `json:"line"`
	ID      string `json:"id"`
	Outcome string `json:"outcome"`
	Error   *struct {
		Kind string `json:"kind"`
		Sent *bool  `json:"sent"`
	} `json:"error"`
}

// final reports whether a record settles its request. Records that
// certainly did not run the function and could succeed on another try —
// throttled, refused credentials, never sent, cancelled before sending —
// are not final: a resumed run invokes those again. Everything else,
// including a request cancelled after it was sent (it may have run), is
// final, so resuming never executes a request twice.
func (r *previousRecord) final() bool {
	if r.Outcome == "throttled" {
		return false
	}
	if r.Error == nil {
		return true
	}
	sent := r.Error.Sent != nil && *r.Error.Sent
	switch r.Error.Kind {
	case jsonl.KindCredentials:
		return false
	case jsonl.KindCancelled, jsonl.KindTransport:
		return sent
	}
	return true
}

// loadResume reads the output of a previous run and rewrites it with its
// final records only, so that after the resumed run appends to it the file
// holds exactly one result per request. The rewrite goes to a temporary
// file renamed over the original, which stays intact if anything fails. A
// missing file is an empty state, so a first run can use --resume too;
// lines that cannot be read (a run killed mid-write) are counted and
// dropped like the other non-final records.
func loadResume(path string) (*resumeState, error) {
	st := &resumeState{ids: map[string]struct{}{}, lines: map[int]struct{}{}}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, usagef("--resume: %v", err)
	}
	defer f.Close()
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".resume-*")
	if err != nil {
		return nil, usagef("--resume: %v", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	out := bufio.NewWriterSize(tmp, 1<<20)
	br := bufio.NewReaderSize(f, 1<<20)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			var rec previousRecord
			switch {
			case line[len(line)-1] != '\n' || json.Unmarshal(line, &rec) != nil || rec.Line <= 0:
				st.unreadable++
			case rec.final():
				st.final++
				if rec.ID != "" {
					st.ids[rec.ID] = struct{}{}
				} else {
					st.lines[rec.Line] = struct{}{}
				}
				out.Write(line) // errors surface at Flush
			default:
				st.retry++
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			tmp.Close()
			return nil, usagef("--resume: read %s: %v", path, err)
		}
	}
	if err := errors.Join(out.Flush(), tmp.Close()); err != nil {
		return nil, fmt.Errorf("--resume: rewrite %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, fmt.Errorf("--resume: rewrite %s: %w", path, err)
	}
	return st, nil
}

// done reports whether the input item already has a final result.
func (st *resumeState) done(it *jsonl.Item) bool {
	if it.Err == nil && it.Request.ID != "" {
		if _, ok := st.ids[it.Request.ID]; ok {
			return true
		}
	}
	_, ok := st.lines[it.Line]
	return ok
}

func (st *resumeState) describe(path string) string {
	msg := fmt.Sprintf("resuming from %s: %d requests have a final result there and are skipped", path, st.final)
	if st.retry > 0 {
		msg += fmt.Sprintf("; %d non-final results (throttled, not sent) were removed and are retried", st.retry)
	}
	if st.unreadable > 0 {
		msg += fmt.Sprintf("; %d unreadable lines (an interrupted write) were removed", st.unreadable)
	}
	return msg
}
