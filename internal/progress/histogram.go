package progress

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// The latency histogram has fixed, log-scaled buckets: their upper bounds,
// inclusive, are a 1-2-5 series from 1 ms to 1,000 s, and a last bucket
// without an upper bound holds what is longer. Fixed edges, rather than
// those of the percentile histogram, keep the histogram's shape the same
// in every summary, so that two runs compare bucket by bucket.
const (
	numEdges   = 19
	numBuckets = numEdges + 1
)

// bucketEdge returns the upper bound of bucket i (i < numEdges): 1, 2, 5,
// 10, 20, 50, … ms.
func bucketEdge(i int) time.Duration {
	mantissa := [3]int64{1, 2, 5}[i%3]
	return time.Duration(mantissa*int64(math.Pow10(i/3))) * time.Millisecond
}

// bucketOf returns the index of the bucket that holds latency d.
func bucketOf(d time.Duration) int {
	for i := range numEdges {
		if d <= bucketEdge(i) {
			return i
		}
	}
	return numEdges
}

// Bucket is one bar of the latency histogram: the number of requests
// whose latency was above FromMS and at most ToMS milliseconds. The last
// bucket has no upper bound: its ToMS is 0 (and left out of the JSON).
type Bucket struct {
	FromMS float64 `json:"from_ms"`
	ToMS   float64 `json:"to_ms,omitempty"`
	Count  int64   `json:"count"`
}

// histogramReport turns bucket counts into the report's buckets, every
// one of them, empty ones included.
func histogramReport(counts *[numBuckets]int64) []Bucket {
	buckets := make([]Bucket, numBuckets)
	from := 0.0
	for i := range buckets {
		buckets[i] = Bucket{FromMS: from, Count: counts[i]}
		if i < numEdges {
			buckets[i].ToMS = float64(bucketEdge(i)) / float64(time.Millisecond)
			from = buckets[i].ToMS
		}
	}
	return buckets
}

// numDecades is the number of decades decadeLine merges the buckets into:
// 0-1 ms, six decades up to 1,000 s, and the unbounded last bucket.
const numDecades = 8

// decadeOf returns the decade of bucket i: bucket 0 (0-1 ms) is decade
// 0, buckets 1-3 (up to 2, 5 and 10 ms) decade 1, and so on; the
// unbounded last bucket is a decade of its own.
func decadeOf(i int) int { return (i + 2) / 3 }

// decadeLine renders a histogram for the terminal, on one line: its
// buckets merged into decades, from the first decade with a request to
// the last, e.g. "0-1: 3  1-10: 120  10-100: 4800  100-1k: 0  1k-10k: 2"
// (milliseconds). It is "" when every bucket is empty, or when the
// buckets are not this package's.
func decadeLine(buckets []Bucket) string {
	if len(buckets) != numBuckets {
		return ""
	}
	var counts [numDecades]int64
	for i, b := range buckets {
		counts[decadeOf(i)] += b.Count
	}
	first, last := -1, -1
	for d, n := range counts {
		if n > 0 {
			if first < 0 {
				first = d
			}
			last = d
		}
	}
	if first < 0 {
		return ""
	}
	var b strings.Builder
	for d := first; d <= last; d++ {
		if d > first {
			b.WriteString("  ")
		}
		switch {
		case d == 0:
			fmt.Fprintf(&b, "0-1: %d", counts[d])
		case d == numDecades-1:
			fmt.Fprintf(&b, "%s+: %d", shortMS(math.Pow10(d-1)), counts[d])
		default:
			fmt.Fprintf(&b, "%s-%s: %d", shortMS(math.Pow10(d-1)), shortMS(math.Pow10(d)), counts[d])
		}
	}
	return b.String()
}

// shortMS writes a power of ten of milliseconds with thousands as "k" and
// millions as "M": 1, 100, 1k, 1M.
func shortMS(ms float64) string {
	switch {
	case ms >= 1e6:
		return fmt.Sprintf("%gM", ms/1e6)
	case ms >= 1e3:
		return fmt.Sprintf("%gk", ms/1e3)
	}
	return fmt.Sprintf("%g", ms)
}
