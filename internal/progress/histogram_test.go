package progress

import (
	"testing"
	"time"
)

func TestBucketOf(t *testing.T) {
	tests := []struct {
		latency time.Duration
		want    int
	}{
		{0, 0},
		{time.Millisecond, 0}, // upper bounds are inclusive
		{time.Millisecond + 1, 1},
		{2 * time.Millisecond, 1},
		{3 * time.Millisecond, 2},
		{10 * time.Millisecond, 3},
		{999 * time.Second, 18},
		{1000 * time.Second, 18},
		{1000*time.Second + 1, 19},
		{time.Hour, 19},
	}
	for _, tt := range tests {
		if got := bucketOf(tt.latency); got != tt.want {
			t.Errorf("bucketOf(%v) = %d, want %d", tt.latency, got, tt.want)
		}
	}
}

func TestDecadeLine(t *testing.T) {
	counts := func(byBucket map[int]int64) []Bucket {
		var c [numBuckets]int64
		for i, n := range byBucket {
			c[i] = n
		}
		return histogramReport(&c)
	}
	tests := []struct {
		name    string
		buckets []Bucket
		want    string
	}{
		{"empty", counts(nil), ""},
		{"not ours", []Bucket{{FromMS: 0, ToMS: 1, Count: 3}}, ""},
		{"one decade", counts(map[int]int64{1: 2, 3: 5}), "1-10: 7"},
		{"trimmed, gaps kept", counts(map[int]int64{0: 1, 7: 4}), "0-1: 1  1-10: 0  10-100: 0  100-1k: 4"},
		{"unbounded", counts(map[int]int64{16: 1, 19: 2}), "100k-1M: 1  1M+: 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decadeLine(tt.buckets); got != tt.want {
				t.Errorf("decadeLine = %q, want %q", got, tt.want)
			}
		})
	}
}
