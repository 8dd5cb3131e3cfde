package cli

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// shard is this process's share of the input when a run is split over N
// processes: the requests on input lines with (line-1) mod N = K. Lines
// keep their numbers in the results, so the shards' results together
// describe the whole input. The zero value is the whole input.
type shard struct {
	k, n int // n == 0: not sharded
}

// Environment variables that give a worker its index: Kubernetes Indexed
// Jobs and AWS Batch array jobs.
const (
	envJobCompletionIndex = "JOB_COMPLETION_INDEX"
	envBatchArrayIndex    = "AWS_BATCH_JOB_ARRAY_INDEX"
)

// parseShard reads --shard K/N or auto/N, taking K for auto from getenv.
func parseShard(s string, getenv func(string) string) (shard, error) {
	if s == "" {
		return shard{}, nil
	}
	ks, ns, ok := strings.Cut(s, "/")
	n, err := strconv.Atoi(ns)
	if !ok || err != nil || n < 1 {
		return shard{}, usagef("--shard %q: use K/N, with N the number of shards (e.g. 0/4), or auto/N", s)
	}
	if ks == "auto" {
		name := envJobCompletionIndex
		ks = getenv(name)
		if ks == "" {
			name = envBatchArrayIndex
			ks = getenv(name)
		}
		if ks == "" {
			return shard{}, usagef("--shard auto/%d: neither %s (Kubernetes Indexed Job) nor %s (AWS Batch array job) is set; pass --shard K/%d", n, envJobCompletionIndex, envBatchArrayIndex, n)
		}
		k, err := strconv.Atoi(ks)
		if err != nil || k < 0 || k >= n {
			return shard{}, usagef("--shard auto/%d: %s=%q is not a shard index from 0 to %d", n, name, ks, n-1)
		}
		return shard{k: k, n: n}, nil
	}
	k, err := strconv.Atoi(ks)
	if err != nil || k < 0 || k >= n {
		return shard{}, usagef("--shard %q: K must be a number from 0 to %d", s, n-1)
	}
	return shard{k: k, n: n}, nil
}

// owns reports whether the request on input line line is this shard's.
func (s shard) owns(line int) bool { return s.n == 0 || (line-1)%s.n == s.k }

// expand replaces {shard} in a path with K (or nothing when not sharded).
func (s shard) expand(path string) string {
	if s.n == 0 {
		return strings.ReplaceAll(path, "{shard}", "")
	}
	return strings.ReplaceAll(path, "{shard}", strconv.Itoa(s.k))
}

func (s shard) String() string {
	if s.n == 0 {
		return "all"
	}
	return fmt.Sprintf("%d/%d", s.k, s.n)
}

// osGetenv is the process environment's getenv, the default for flags
// that read it.
func osGetenv(name string) string { return os.Getenv(name) }
