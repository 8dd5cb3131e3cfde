package cli

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"

	"github.com/lambdafan/lambdafan/internal/jsonl"
)

// resumeState is what a previous run left behind — its output and its
// journal — and what this run must do about each input line: skip it (it
// has a final result), give it an "unknown" result without invoking it
// (the journal says it may have been sent, and its result was lost), or
// invoke it. Results are matched to requests by input line, never by id:
// ids need not be unique.
type resumeState struct {
	path        string // the results file (for S3 or .gz results, their spool)
	name        string // what the user named: the path, or the S3 object
	retryUnsafe bool

	final   lineSet // lines with a final result: skipped
	lost    lineSet // lines the journal has and the output has not: "unknown"
	retried []int   // lines whose non-final results are dropped and invoked again

	// Counts for the message at the start and the summary at the end.
	repeatedIDs       int // ids that more than one previous result carries
	unreadable        int // a last line cut short by a crash
	skipped, lostSeen int
}

// previousRecord is the part of an output record that decides whether it
// is final.
type previousRecord struct {
	Line    *int            `json:"line"`
	ID      json.RawMessage `json:"id"`
	Outcome *string         `json:"outcome"`
	Error   *struct {
		Kind string `json:"kind"`
		Sent *bool  `json:"sent"`
	} `json:"error"`
}

// parseRecord checks that b is one result line of lambdafan's output and
// returns it.
func parseRecord(b []byte) (*previousRecord, error) {
	var rec previousRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	if rec.Line == nil || *rec.Line <= 0 {
		return nil, errors.New(`no "line" number`)
	}
	if rec.Outcome == nil {
		return nil, errors.New(`no "outcome"`)
	}
	switch *rec.Outcome {
	case "ok", "function_error", "throttled", "invalid", "not_sent", "unknown", "error":
	default:
		return nil, fmt.Errorf("unknown outcome %q", *rec.Outcome)
	}
	return &rec, nil
}

// final reports whether a record settles its request. Records that
// certainly did not run the function and could succeed on another try —
// throttled, refused credentials, never sent, cancelled or stopped before
// sending — are not final: a resumed run invokes those again. Everything
// else is final, so resuming never executes a request twice: also a
// request that may have run without an answer ("unknown"), unless
// retryUnsafe says to invoke those again.
func (r *previousRecord) final(retryUnsafe bool) bool {
	switch *r.Outcome {
	case "throttled", "not_sent":
		return false
	case "unknown":
		return !retryUnsafe
	}
	if r.Error == nil {
		return true
	}
	sent := r.Error.Sent != nil && *r.Error.Sent
	switch r.Error.Kind {
	case jsonl.KindCredentials:
		return false
	case jsonl.KindCancelled, jsonl.KindTransport, jsonl.KindStopped:
		return sent // output of older versions, whose outcome was "error"
	}
	return true
}

// loadResume reads the output of a previous run at path and its journal,
// and works out what this run must do. It changes nothing: apply does,
// once everything else is checked. A missing file is an empty state, so a
// first run can use --resume too. Every complete line must be a lambdafan
// result, or the file is refused: --resume never rewrites a file that is
// not its own. A last line cut short (a run killed mid-write) is dropped.
func loadResume(path string, retryUnsafe bool) (*resumeState, error) {
	st := &resumeState{path: path, retryUnsafe: retryUnsafe}
	var final, nonFinal []int
	ids := newIDTracker()
	err := scanRecords(path, func(n int, rec *previousRecord, line []byte) error {
		if rec != nil && len(rec.ID) > 0 {
			ids.add(string(rec.ID), false) // the JSON text: 1 and "1" differ
		}
		switch {
		case rec == nil:
			st.unreadable++
		case rec.final(retryUnsafe):
			final = append(final, *rec.Line)
		default:
			nonFinal = append(nonFinal, *rec.Line)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	journal, err := readJournal(path)
	if err != nil {
		return nil, err
	}
	defer journal.close()
	st.repeatedIDs = ids.repeated()
	st.final = newLineSet(final)
	slices.Sort(nonFinal)
	st.retried = slices.Compact(nonFinal)
	if !retryUnsafe {
		// A request the journal has, without a result of any kind, may
		// have been sent by a run that then died — unless the sent marks
		// say it was not: its result is lost. One with a non-final
		// result was answered (throttled, not sent): that result was
		// written after the journal record.
		var lost []int
		for _, l := range journal.lines {
			if !sortedContains(st.final.lines, l) && !sortedContains(st.retried, l) && journal.maySend(l) {
				lost = append(lost, l)
			}
		}
		st.lost = newLineSet(lost)
	}
	return st, nil
}

// scanRecords calls fn for each line of the results file at path, with the
// parsed record, or nil for a last line cut short. A complete line that is
// not a result ends the scan with a usage error.
func scanRecords(path string, fn func(n int, rec *previousRecord, line []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return usagef("--resume: %v", pathErr(err))
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return usagef("--resume: %s is a directory; name the results file of the run to finish", path)
	}
	br := bufio.NewReaderSize(f, 1<<20)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 && len(bytes.TrimSpace(line)) > 0 {
			rec, perr := parseRecord(line)
			switch {
			case perr == nil:
			case isLastLine(br, err) && !json.Valid(line):
				// Cut short by a crash: a record is written whole, so
				// only the last line can be, and then it is not JSON.
				rec = nil
			default:
				return usagef("--resume: %s line %d is not a lambdafan result (%v): --resume takes the output of an earlier run, e.g. lambdafan invoke --resume results.jsonl requests.jsonl", path, n, perr)
			}
			if err := fn(n, rec, line); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return usagef("--resume: read %s: %v", path, err)
		}
	}
}

// isLastLine reports whether the line just read (with error err) is the
// last of br's input.
func isLastLine(br *bufio.Reader, err error) bool {
	if err != nil {
		return true
	}
	_, peekErr := br.Peek(1)
	return peekErr != nil
}

// apply makes the files what this run continues from: first the journal
// (the lost requests, until this run gives them their results), then the
// output, rewritten with its final records only (atomically: the old file
// stays whole if anything fails). It returns the journal, open for this
// run's records.
func (st *resumeState) apply() (*journal, error) {
	j, err := writeJournal(st.path, st.lost.lines)
	if err != nil {
		return nil, err
	}
	err = writeFileAtomically(st.path, func(w io.Writer) error {
		err := scanRecords(st.path, func(_ int, rec *previousRecord, line []byte) error {
			if rec == nil || !rec.final(st.retryUnsafe) {
				return nil
			}
			if line[len(line)-1] != '\n' {
				line = append(line, '\n')
			}
			_, err := w.Write(line)
			return err
		})
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	})
	if err != nil {
		j.close()
		return nil, fmt.Errorf("--resume: rewrite %s: %w", st.path, err)
	}
	return j, nil
}

// action says what to do with the request on input line line: skip it
// (already final), report it lost, or invoke it. Lines must be asked in
// increasing order.
func (st *resumeState) action(line int) resumeAction {
	switch {
	case st.final.contains(line):
		st.skipped++
		return resumeSkip
	case st.lost.contains(line):
		st.lostSeen++
		return resumeLost
	}
	return resumeInvoke
}

type resumeAction int

const (
	resumeInvoke resumeAction = iota
	resumeSkip
	resumeLost
)

// unresolved reports whether lost requests remain that this run has not
// reached: the journal must then be kept.
func (st *resumeState) unresolved() bool { return st.lostSeen < len(st.lost.lines) }

func (st *resumeState) describe() string {
	msg := fmt.Sprintf("resuming from %s: %d requests have a final result there and are skipped", cmp.Or(st.name, st.path), len(st.final.lines))
	if n := len(st.retried); n > 0 {
		msg += fmt.Sprintf("; %d non-final results (throttled, not sent) were removed and are invoked again", n)
	}
	if st.unreadable > 0 {
		msg += fmt.Sprintf("; %d line cut short (a run killed mid-write) was removed", st.unreadable)
	}
	if st.repeatedIDs > 0 {
		msg += fmt.Sprintf("; warning: %d ids appear in more than one result: results are matched to requests by line, so each request still gets its own", st.repeatedIDs)
	}
	if n := len(st.lost.lines); n > 0 {
		msg += fmt.Sprintf("; %d requests may have been sent by a run that died before writing their results: they get an \"unknown\" result and are not invoked again (--retry-unsafe would invoke them)", n)
	}
	return msg
}

// lineSet is a sorted set of input lines, asked in increasing order: a
// cursor walks it, so each question costs O(1) amortised and the set
// costs one int per line, whatever the line numbers.
type lineSet struct {
	lines []int
	next  int
}

func newLineSet(lines []int) lineSet {
	slices.Sort(lines)
	return lineSet{lines: slices.Compact(lines)}
}

// contains reports whether line is in the set. Successive calls must ask
// about increasing lines.
func (s *lineSet) contains(line int) bool {
	for s.next < len(s.lines) && s.lines[s.next] < line {
		s.next++
	}
	return s.next < len(s.lines) && s.lines[s.next] == line
}

func sortedContains(sorted []int, v int) bool {
	_, ok := slices.BinarySearch(sorted, v)
	return ok
}
