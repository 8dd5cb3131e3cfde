package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	mathbits "math/bits"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/internal/jsonl"
	"github.com/lambdafan/lambdafan/internal/lambdalog"
	"github.com/lambdafan/lambdafan/internal/progress"
	"github.com/lambdafan/lambdafan/internal/store"
)

// summaryOptions are the flags of `lambdafan summary`.
type summaryOptions struct {
	results     []string
	input       string
	shards      int
	summaryJSON string
	cost        costFlags
}

func parseSummaryFlags(args []string, stderr io.Writer) (*summaryOptions, error) {
	o := &summaryOptions{}
	fs := newFlagSet("summary", summaryUsage, stderr)
	fs.StringVar(&o.input, "input", "", "check that every request in `FILE` has exactly one result")
	fs.IntVar(&o.shards, "shards", 0, "with --input, group the requests without a result by shard, for a run split with --shard K/`N`")
	fs.StringVar(&o.summaryJSON, "summary-json", "", "also write the summary as JSON to `FILE`")
	o.cost.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() == 0 {
		return nil, usagef("summary takes one or more results files (or glob patterns such as 'part-*.jsonl')")
	}
	if o.shards < 0 || o.shards > 0 && o.input == "" {
		return nil, usagef("--shards N goes with --input and must be at least 1")
	}
	for _, arg := range fs.Args() {
		paths, err := expandResults(arg)
		if err != nil {
			return nil, err
		}
		o.results = append(o.results, paths...)
	}
	return o, nil
}

// expandResults expands a glob pattern (quoted so that the shell left it)
// to the files it matches; a plain path or S3 location stands for itself
// (an S3 prefix, s3://bucket/run1/, is listed later).
func expandResults(arg string) ([]string, error) {
	if strings.HasPrefix(arg, "s3://") || !strings.ContainsAny(arg, "*?[") {
		return []string{arg}, nil
	}
	paths, err := filepath.Glob(arg)
	if err != nil {
		return nil, usagef("results %q: %v", arg, err)
	}
	if len(paths) == 0 {
		return nil, usagef("results %q: no file matches", arg)
	}
	return paths, nil
}

// runSummary implements `lambdafan summary`: the summary of one or more
// results files as one run, and with --input the proof that every request
// has exactly one result.
func runSummary(ctx context.Context, args []string, stdio Stdio) int {
	o, err := parseSummaryFlags(args, stdio.Err)
	if err != nil {
		return exitStatus(err, stdio.Err)
	}
	prices, err := o.cost.prices()
	if err != nil {
		return exitStatus(err, stdio.Err)
	}
	st := newStore(ctx, "", stdio)
	sum := progress.NewSummary(time.Time{})
	usage := lambdalog.NewUsage()
	var lines lineTally
	for _, arg := range o.results {
		locs, err := resultLocations(ctx, st, arg)
		if err != nil {
			return exitStatus(err, stdio.Err)
		}
		for _, loc := range locs {
			if err := tallyResults(ctx, st, loc, sum, usage, &lines); err != nil {
				return exitStatus(err, stdio.Err)
			}
		}
	}
	report := sum.Report(time.Time{})
	report.WriteText(stdio.Out)
	lambda := usage.Summary(prices)
	lambda.WriteText(stdio.Out)
	status := ExitOK
	if o.summaryJSON != "" {
		doc := newSummaryDocument(&report, lambda)
		if err := writeDocument(ctx, func() store.Store { return st }, o.summaryJSON, doc.write); err != nil {
			fmt.Fprintf(stdio.Err, "lambdafan: cannot write summary: %v\n", err)
			status = ExitFailed
		}
	}
	if o.input != "" {
		complete, err := lines.check(ctx, st, o.input, o.shards, stdio.Out)
		if err != nil {
			return exitStatus(err, stdio.Err)
		}
		if !complete {
			status = ExitFailed
		}
	}
	return status
}

// summaryRecord is the part of a result line a summary counts.
type summaryRecord struct {
	Line      *int    `json:"line"`
	Outcome   *string `json:"outcome"`
	Status    int     `json:"status"`
	Attempts  int     `json:"attempts"`
	Throttles int     `json:"throttles"`
	LatencyMS float64 `json:"latency_ms"`
	// Status (also), Log and RequestID feed the cold starts and cost.
	Log       string `json:"log"`
	RequestID string `json:"request_id"`
	Error     *struct {
		Kind   string `json:"kind"`
		Type   string `json:"type"`
		Status int    `json:"status"`
	} `json:"error"`
}

// entry is what the summary counts of the result rec, whose outcome is o.
func (rec *summaryRecord) entry(o lambdafan.Outcome) progress.Entry {
	e := progress.Entry{Outcome: o, Status: rec.Status, Attempts: rec.Attempts, Throttles: rec.Throttles,
		Latency: time.Duration(rec.LatencyMS * float64(time.Millisecond))}
	if rec.Error != nil {
		e.ErrKind, e.ErrType, e.ErrStatus = rec.Error.Kind, rec.Error.Type, rec.Error.Status
	}
	return e
}

// maxSummaryLine bounds the line numbers a summary tracks, so that a
// damaged file cannot make it allocate without bound (a bit per line up
// to it: 128 MiB).
const maxSummaryLine = 1 << 30

// resultLocations returns the results arg names: itself, or the objects
// under an S3 prefix (those named like results: .jsonl or .jsonl.gz).
func resultLocations(ctx context.Context, st store.Store, arg string) ([]store.Location, error) {
	loc, err := store.Parse(arg)
	if err != nil {
		return nil, usagef("results %q: %v", arg, err)
	}
	if !loc.IsS3() || !loc.IsPrefix() {
		return []store.Location{loc}, nil
	}
	infos, err := st.List(ctx, loc)
	if err != nil {
		return nil, usagef("results %s: %v", arg, err)
	}
	var locs []store.Location
	for _, info := range infos {
		if name := info.Location.String(); strings.HasSuffix(name, ".jsonl") || strings.HasSuffix(name, ".jsonl.gz") {
			locs = append(locs, info.Location)
		}
	}
	if len(locs) == 0 {
		return nil, usagef("results %s: no .jsonl object there", arg)
	}
	return locs, nil
}

// tallyResults adds every result at loc to sum, usage and lines.
func tallyResults(ctx context.Context, st store.Store, loc store.Location, sum *progress.Summary, usage *lambdalog.Usage, lines *lineTally) error {
	path := loc.String()
	f, err := st.Open(ctx, loc)
	if err != nil {
		return usagef("cannot read results: %v", err)
	}
	defer f.Close()
	records, readErr := nonBlankLines(f)
	for n, line := range records {
		var rec summaryRecord
		outcome, ok := lambdafanOutcome(&rec, line)
		switch {
		case !ok:
			return usagef("%s line %d is not a lambdafan result", path, n)
		case *rec.Line > maxSummaryLine:
			return usagef("%s line %d: line number %d is out of range", path, n, *rec.Line)
		}
		sum.AddEntry(rec.entry(outcome))
		usage.Add(lambdalog.Invocation{Status: rec.Status, Tail: rec.Log, RequestID: rec.RequestID})
		lines.add(*rec.Line)
	}
	if err := readErr(); err != nil {
		return usagef("read %s: %v", path, err)
	}
	return nil
}

// lambdafanOutcome parses a result line into rec and returns its outcome;
// ok is false when the line is not a result.
func lambdafanOutcome(rec *summaryRecord, line []byte) (o lambdafan.Outcome, ok bool) {
	if json.Unmarshal(line, rec) != nil || rec.Line == nil || *rec.Line <= 0 || rec.Outcome == nil {
		return 0, false
	}
	return jsonl.ParseOutcome(*rec.Outcome)
}

// lineTally counts the results of each input line, a bit each for "has
// one" and "has more than one".
type lineTally struct {
	seen, again []uint64
	results     int
}

func (t *lineTally) add(line int) {
	t.results++
	w, bit := line/64, uint64(1)<<(line%64)
	if w >= len(t.seen) {
		t.seen = append(t.seen, make([]uint64, w+1-len(t.seen))...)
		t.again = append(t.again, make([]uint64, w+1-len(t.again))...)
	}
	if t.seen[w]&bit != 0 {
		t.again[w] |= bit
	}
	t.seen[w] |= bit
}

func (t *lineTally) has(bits []uint64, line int) bool {
	w := line / 64
	return w < len(bits) && bits[w]&(uint64(1)<<(line%64)) != 0
}

// check reads the requests file at input and reports, on w, the requests
// without a result (grouped by shard when shards > 0), the requests with
// more than one, and results for lines the input does not have. It
// returns whether every request has exactly one result.
func (t *lineTally) check(ctx context.Context, st store.Store, input string, shards int, w io.Writer) (bool, error) {
	loc, err := store.Parse(input)
	if err != nil {
		return false, usagef("--input: %v", err)
	}
	f, err := st.Open(ctx, loc)
	if err != nil {
		return false, usagef("--input: %v", err)
	}
	defer f.Close()
	items, readErr := jsonl.Decode(f, jsonl.Options{})
	var missing, repeated []int
	requests, matched := 0, 0
	for it := range items {
		requests++
		switch {
		case !t.has(t.seen, it.Line):
			missing = append(missing, it.Line)
		case t.has(t.again, it.Line):
			repeated = append(repeated, it.Line)
			matched++
		default:
			matched++
		}
	}
	if err := readErr(); err != nil {
		return false, usagef("--input: %v", err)
	}
	// Results whose line the input has not: the distinct lines with a
	// result, less those of requests.
	stray := -matched
	for _, bits := range t.seen {
		stray += mathbits.OnesCount64(bits)
	}
	fmt.Fprintf(w, "%d requests in %s: %d with one result, %d without, %d with more than one; %d results for lines %s does not have\n",
		requests, input, matched-len(repeated), len(missing), len(repeated), stray, input)
	writeLines(w, "without a result", missing, shards)
	writeLines(w, "with more than one result", repeated, shards)
	return len(missing) == 0 && len(repeated) == 0 && stray == 0, nil
}

// writeLines lists lines (the first 20 of each shard), grouped by shard
// when shards > 0, so a user knows which shard to resume.
func writeLines(w io.Writer, what string, lines []int, shards int) {
	if len(lines) == 0 {
		return
	}
	groups := map[int][]int{}
	for _, l := range lines {
		k := 0
		if shards > 0 {
			k = (l - 1) % shards
		}
		groups[k] = append(groups[k], l)
	}
	for _, k := range slices.Sorted(maps.Keys(groups)) {
		g := groups[k]
		label := "lines"
		if shards > 0 {
			label = fmt.Sprintf("shard %d/%d: lines", k, shards)
		}
		shown := g[:min(len(g), 20)]
		fmt.Fprintf(w, "%s %s (%d): %s", label, what, len(g), strings.Trim(fmt.Sprint(shown), "[]"))
		if len(g) > len(shown) {
			fmt.Fprint(w, " …")
		}
		fmt.Fprintln(w)
	}
}
