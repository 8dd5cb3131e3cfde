package runreport

import (
	"testing"
	"time"
)

func TestFormatElapsed(t *testing.T) {
	for s, want := range map[float64]string{0: "0", 0.25: "250ms", 1.5: "1.5s", 150: "2m30s", 530: "8m50s", 120: "2m", 3900: "1h5m", 7200: "2h"} {
		if got := formatElapsed(s); got != want {
			t.Errorf("formatElapsed(%v) = %q, want %q", s, got, want)
		}
	}
}

func TestSeries_coarsens(t *testing.T) {
	// Times an hour apart: the buckets widen until the hour fits in
	// maxBuckets, and what was counted is kept.
	var s series
	t0 := mustTime("2026-11-30T05:00:00.005Z")
	s.cover(t0, t0)
	s.at(t0).outcomes[0] = 7
	t1 := t0.Add(time59m)
	s.cover(t1, t1)
	s.at(t1).outcomes[0]++
	if len(s.buckets) > maxBuckets || s.width.Seconds() != 20 {
		t.Fatalf("%d buckets of %v", len(s.buckets), s.width)
	}
	var total int64
	for _, b := range s.buckets {
		total += b.outcomes[0]
	}
	if total != 8 || s.at(t0).outcomes[0] != 7 {
		t.Errorf("counted %d (first bucket %d), want 8 (7)", total, s.at(t0).outcomes[0])
	}
	if !s.start(0).Equal(mustTime("2026-11-30T05:00:00Z")) {
		t.Errorf("first bucket starts at %v", s.start(0))
	}
}

const time59m = 59 * 60 * 1e9

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}
