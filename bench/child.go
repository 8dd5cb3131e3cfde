package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"time"
)

// childResult is what a client child process reports on standard output.
// CPU time and peak RSS are not in it: the parent reads them from the
// child's rusage when it exits.
type childResult struct {
	Wall       float64 `json:"wall_s"`      // the invocations only, not process start-up
	Allocs     uint64  `json:"allocs"`      // heap objects allocated during the invocations
	AllocBytes uint64  `json:"alloc_bytes"` // heap bytes allocated during the invocations
	Failed     int64   `json:"failed"`
}

// runClient is the -client mode: run one variant and report.
func runClient(variant string, j job, cpuProfile string) int {
	run, ok := variants[variant]
	if !ok {
		fmt.Fprintf(os.Stderr, "bench: unknown client %q\n", variant)
		return 2
	}
	res, err := measure(context.Background(), run, j, cpuProfile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench client %s: %v\n", variant, err)
		return 1
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		return 1
	}
	return 0
}

func measure(ctx context.Context, run func(context.Context, job) (int64, error), j job, cpuProfile string) (childResult, error) {
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return childResult{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return childResult{}, err
		}
		defer pprof.StopCPUProfile()
	}
	samples := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}, {Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(samples)
	objects, bytes := samples[0].Value.Uint64(), samples[1].Value.Uint64()
	start := time.Now()
	failed, err := run(ctx, j)
	wall := time.Since(start)
	metrics.Read(samples)
	return childResult{
		Wall:       wall.Seconds(),
		Allocs:     samples[0].Value.Uint64() - objects,
		AllocBytes: samples[1].Value.Uint64() - bytes,
		Failed:     failed,
	}, err
}
