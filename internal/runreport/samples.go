package runreport

import (
	"container/heap"
	"time"
	"unicode/utf8"

	"github.com/lambdafan/lambdafan"
)

// Bounds of the report's tables, so that its size does not grow with the
// run.
const (
	maxErrorClasses  = 100 // classes past it are counted together, as kind "more"
	samplesPerClass  = 3   // sample results shown per error class
	maxSlowest       = 20  // slowest requests listed
	maxMessageLength = 300 // bytes of an error message kept per sample
)

// errorKey is what the error table counts by, as the summary does.
type errorKey struct {
	kind, typ string
	status    int
}

// Sample identifies one result in a table.
type Sample struct {
	Line      int
	ID        string
	RequestID string
	Function  string
	Region    string
	Message   string
}

// errorClass is one row of the error table.
type errorClass struct {
	count   int64
	samples []Sample
}

func (a *Aggregator) addError(rec *Record) {
	k := errorKey{rec.ErrKind, rec.ErrType, rec.ErrStatus}
	c, ok := a.errors[k]
	if !ok {
		if len(a.errors) >= maxErrorClasses {
			k = errorKey{kind: "more"}
			c = a.errors[k]
		}
		if c == nil {
			c = &errorClass{}
			a.errors[k] = c
		}
	}
	c.count++
	if len(c.samples) < samplesPerClass {
		c.samples = append(c.samples, Sample{Line: rec.Line, ID: rec.ID, RequestID: rec.RequestID,
			Function: rec.FunctionName, Region: rec.Region, Message: truncate(rec.ErrMessage, maxMessageLength)})
	}
}

// truncate cuts s to at most n bytes, at a character boundary, marking
// the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// Slow is one of the slowest requests.
type Slow struct {
	Sample
	Outcome   lambdafan.Outcome
	Latency   time.Duration
	Attempts  int
	StartedAt time.Time
}

// slowHeap keeps the slowest requests: a min-heap on latency, so that the
// fastest of them is the one a slower request replaces.
type slowHeap []Slow

// Len, Less, Swap, Push and Pop make slowHeap a heap.Interface.
func (h slowHeap) Len() int           { return len(h) }
func (h slowHeap) Less(i, j int) bool { return h[i].Latency < h[j].Latency }
func (h slowHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *slowHeap) Push(x any)        { *h = append(*h, x.(Slow)) }
func (h *slowHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (a *Aggregator) addSlow(rec *Record) {
	if len(a.slowest) == maxSlowest && rec.Latency <= a.slowest[0].Latency {
		return
	}
	s := Slow{Sample: Sample{Line: rec.Line, ID: rec.ID, RequestID: rec.RequestID, Function: rec.FunctionName,
		Region: rec.Region, Message: truncate(rec.ErrMessage, maxMessageLength)},
		Outcome: rec.Outcome, Latency: rec.Latency, Attempts: rec.Attempts, StartedAt: rec.StartedAt}
	if len(a.slowest) < maxSlowest {
		heap.Push(&a.slowest, s)
		return
	}
	a.slowest[0] = s
	heap.Fix(&a.slowest, 0)
}
