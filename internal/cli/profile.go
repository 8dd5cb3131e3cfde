package cli

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// Diagnostics: environment variables that make `lambdafan invoke` write Go
// profiles of itself, for performance work (go run ./bench -cpuprofile
// sets the first for its CLI runs). They are not flags: they change
// nothing a run does, and nobody needs them to use lambdafan.
const (
	// envCPUProfile names a file to write a CPU profile of the whole run
	// to (go tool pprof FILE).
	envCPUProfile = "LAMBDAFAN_CPUPROFILE"
	// envMemProfile names a file to write, at the end of the run, a heap
	// profile: what was allocated during the run and what is still live.
	envMemProfile = "LAMBDAFAN_MEMPROFILE"
)

// startProfiles starts the profiles the environment asks for and returns
// the function that finishes them.
func startProfiles(getenv func(string) string) (stop func() error, err error) {
	var cpu *os.File
	if path := getenv(envCPUProfile); path != "" {
		if cpu, err = os.Create(path); err != nil {
			return nil, fmt.Errorf("%s: %w", envCPUProfile, err)
		}
		if err := pprof.StartCPUProfile(cpu); err != nil {
			cpu.Close()
			return nil, fmt.Errorf("%s: %w", envCPUProfile, err)
		}
	}
	memPath := getenv(envMemProfile)
	return func() error {
		var errs []error
		if cpu != nil {
			pprof.StopCPUProfile()
			errs = append(errs, cpu.Close())
		}
		if memPath != "" {
			runtime.GC() // the live heap as of the end of the run
			f, err := os.Create(memPath)
			if err == nil {
				err = errors.Join(pprof.Lookup("allocs").WriteTo(f, 0), f.Close())
			}
			errs = append(errs, err)
		}
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("profile: %w", err)
		}
		return nil
	}, nil
}
