package runreport

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lambdafan/lambdafan"
)

// maxBuckets bounds the buckets of a time series: a chart is a few hundred
// pixels wide, and the series' memory must not grow with the run.
const maxBuckets = 300

// numOutcomes is the number of lambdafan outcomes.
const numOutcomes = int(lambdafan.OutcomeError) + 1

// bucket is what a series keeps of one time interval.
type bucket struct {
	outcomes  [numOutcomes]int64 // results settled in the interval
	throttles int64              // throttled attempts of requests started in it
	busy      time.Duration      // time requests were in flight in it, summed
	// limitSum and limits sum and count the adaptive limits seen with the
	// results settled in it.
	limitSum, limits int64
	latency          *hdrhistogram.Histogram
}

// newBucketHistogram records latencies in microseconds, 1 µs to 1 hour, at
// 2 significant digits: enough for percentiles on a chart, in a few KB.
func newBucketHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 2)
}

func (b *bucket) merge(o *bucket) {
	for i, n := range o.outcomes {
		b.outcomes[i] += n
	}
	b.throttles += o.throttles
	b.busy += o.busy
	b.limitSum += o.limitSum
	b.limits += o.limits
	switch {
	case o.latency == nil:
	case b.latency == nil:
		b.latency = o.latency
	default:
		b.latency.Merge(o.latency)
	}
}

// series is a run's time series: buckets of equal width, aligned on
// multiples of the width since the Unix epoch, covering every time added.
// When the times span more than maxBuckets buckets the width grows to the
// next of bucketWidths (each a multiple of the one before, so buckets
// merge whole) and the buckets merge.
type series struct {
	width   time.Duration
	first   int64 // the index (Unix time / width) of buckets[0]
	buckets []bucket
}

// nextWidth returns the bucket width after w: 10 ms, 20 ms, 100 ms, 200
// ms, 1 s, 2 s, 10 s, 20 s, 1 min, 2 min, 10 min, 20 min, 1 h, 2 h, 6 h,
// 12 h, 24 h, then doubling.
func nextWidth(w time.Duration) time.Duration {
	for _, n := range [...]time.Duration{
		10 * time.Millisecond, 20 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond,
		time.Second, 2 * time.Second, 10 * time.Second, 20 * time.Second, time.Minute, 2 * time.Minute,
		10 * time.Minute, 20 * time.Minute, time.Hour, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
	} {
		if n > w {
			return n
		}
	}
	return 2 * w
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func (s *series) index(t time.Time) int64 { return floorDiv(t.UnixNano(), int64(s.width)) }

// cover makes the series cover from..to (from not after to), coarsening
// it as needed.
func (s *series) cover(from, to time.Time) {
	if s.width == 0 {
		s.width = nextWidth(0)
	}
	if len(s.buckets) == 0 {
		s.first = s.index(from)
		s.buckets = make([]bucket, 1)
	}
	for {
		lo, hi := min(s.first, s.index(from)), max(s.first+int64(len(s.buckets))-1, s.index(to))
		if hi-lo < maxBuckets {
			if lo < s.first {
				s.buckets = append(make([]bucket, s.first-lo), s.buckets...)
				s.first = lo
			}
			if n := hi - s.first + 1; n > int64(len(s.buckets)) {
				s.buckets = append(s.buckets, make([]bucket, n-int64(len(s.buckets)))...)
			}
			return
		}
		s.coarsen()
	}
}

// coarsen merges the buckets into buckets of the next width.
func (s *series) coarsen() {
	next := nextWidth(s.width)
	k := int64(next / s.width)
	first := floorDiv(s.first, k)
	last := floorDiv(s.first+int64(len(s.buckets))-1, k)
	merged := make([]bucket, last-first+1)
	for i := range s.buckets {
		merged[floorDiv(s.first+int64(i), k)-first].merge(&s.buckets[i])
	}
	s.width, s.first, s.buckets = next, first, merged
}

// at returns the bucket of t, which the series must cover.
func (s *series) at(t time.Time) *bucket { return &s.buckets[s.index(t)-s.first] }

// start returns the start of bucket i.
func (s *series) start(i int) time.Time {
	return time.Unix(0, (s.first+int64(i))*int64(s.width)).UTC()
}

// addBusy spreads the interval from..to over the buckets it overlaps.
func (s *series) addBusy(from, to time.Time) {
	for i := s.index(from) - s.first; i <= s.index(to)-s.first; i++ {
		b0 := s.start(int(i))
		b1 := b0.Add(s.width)
		lo, hi := from, to
		if b0.After(lo) {
			lo = b0
		}
		if b1.Before(hi) {
			hi = b1
		}
		if hi.After(lo) {
			s.buckets[i].busy += hi.Sub(lo)
		}
	}
}
