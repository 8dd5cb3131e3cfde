package cli

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/internal/jsonl"
	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// requestTally is what validate counts of an input: its requests, the
// valid ones by function, region and invocation type, their payload
// sizes, and the ids on more than one line. Its memory is bounded but for
// the ids (see dupIDs).
type requestTally struct {
	requests, validCount int
	functions            keyCounts
	regions              keyCounts
	types                keyCounts
	payloads             *hdrhistogram.Histogram // bytes
	ids                  *dupIDs
}

func newRequestTally() *requestTally {
	return &requestTally{
		// Every payload size a line can hold, at 3 significant digits.
		payloads: hdrhistogram.New(1, jsonl.MaxLineBytes, 3),
		ids:      newDupIDs(),
	}
}

// invalid counts a line that is not a valid request and prints why.
func (t *requestTally) invalid(line int, err error, w io.Writer) {
	t.requests++
	var le *jsonl.LineError
	if errors.As(err, &le) {
		fmt.Fprintln(w, err) // it names its line
		return
	}
	fmt.Fprintf(w, "line %d: %v\n", line, err)
}

// valid counts a valid request; region is the default region.
func (t *requestTally) valid(req *lambdafan.Request, region string) {
	t.requests++
	t.validCount++
	t.functions.add(req.FunctionName)
	t.regions.add(requestRegion(req, region))
	t.types.add(string(cmp.Or(req.InvocationType, lambdafan.RequestResponse)))
	_ = t.payloads.RecordValue(int64(payloadSize(req.Payload))) // a valid payload is in range
}

// requestRegion returns the region a valid request is sent to, as the
// client chooses it: the request's, its ARN's, or else the default.
func requestRegion(req *lambdafan.Request, defaultRegion string) string {
	if req.Region != "" {
		return req.Region
	}
	if fn, err := lambdaapi.Parse(req.FunctionName); err == nil && fn.Region != "" {
		return fn.Region
	}
	return defaultRegion
}

// payloadSize returns the size of a decoded request's payload: the bytes
// sent.
func payloadSize(p any) int {
	switch p := p.(type) {
	case []byte:
		return len(p)
	case json.RawMessage:
		return len(p)
	}
	return 0
}

// write prints the tally of the input called name.
func (t *requestTally) write(w io.Writer, name string) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d requests, %d valid, %d invalid\n", name, t.requests, t.validCount, t.requests-t.validCount)
	if t.validCount > 0 {
		fmt.Fprintf(&b, "valid requests by function: %s\n", t.functions.String())
		fmt.Fprintf(&b, "valid requests by region: %s\n", t.regions.String())
		fmt.Fprintf(&b, "valid requests by invocation type: %s\n", t.types.String())
		p := t.payloads
		fmt.Fprintf(&b, "payload bytes: min %d  p50 %d  p90 %d  p99 %d  max %d\n",
			p.Min(), p.ValueAtQuantile(50), p.ValueAtQuantile(90), p.ValueAtQuantile(99), p.Max())
	}
	if d := t.ids; d.repeated > 0 {
		fmt.Fprintf(&b, "duplicate ids: %d on more than one line (each request still gets its own result: match results to requests by \"line\", not by \"id\"):", d.repeated)
		for i, ex := range d.examples {
			if i > 0 {
				b.WriteByte(';')
			}
			lines := make([]string, len(ex.lines))
			for i, l := range ex.lines {
				lines[i] = strconv.Itoa(l)
			}
			fmt.Fprintf(&b, " %s on lines %s", ex.quoted(), strings.Join(lines, ", "))
			if ex.count > len(ex.lines) {
				fmt.Fprintf(&b, " … (%d lines)", ex.count)
			}
		}
		if more := d.repeated - len(d.examples); more > 0 {
			fmt.Fprintf(&b, "; and %d more", more)
		}
		b.WriteByte('\n')
	}
	io.WriteString(w, b.String())
}

// maxKeys bounds the distinct keys a keyCounts holds: a fan-out targets
// few functions and regions, and an input with millions must not take
// memory for each.
const maxKeys = 10_000

// shownKeys is how many keys a keyCounts lists.
const shownKeys = 10

// keyCounts counts occurrences of keys, at most maxKeys distinct ones;
// later keys are counted together. Its zero value is ready to use.
type keyCounts struct {
	m      map[string]int
	others int // occurrences of keys past maxKeys
}

func (k *keyCounts) add(key string) {
	if k.m == nil {
		k.m = map[string]int{}
	}
	if _, ok := k.m[key]; !ok && len(k.m) >= maxKeys {
		k.others++
		return
	}
	k.m[key]++
}

// String lists the most frequent keys with their counts, e.g. "echo 4,
// sleep 1", and says how many more there are.
func (k *keyCounts) String() string {
	keys := slices.SortedFunc(maps.Keys(k.m), func(a, b string) int {
		return cmp.Or(cmp.Compare(k.m[b], k.m[a]), cmp.Compare(a, b))
	})
	var parts []string
	for _, key := range keys[:min(len(keys), shownKeys)] {
		parts = append(parts, fmt.Sprintf("%s %d", key, k.m[key]))
	}
	s := strings.Join(parts, ", ")
	rest := 0
	for _, key := range keys[min(len(keys), shownKeys):] {
		rest += k.m[key]
	}
	switch {
	case k.others > 0:
		s += fmt.Sprintf(", and more than %d others (%d requests)", len(keys)-shownKeys, rest+k.others)
	case len(keys) > shownKeys:
		s += fmt.Sprintf(", and %d others (%d requests)", len(keys)-shownKeys, rest)
	}
	return s
}
