package emulator

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"

	"golang.org/x/sync/semaphore"

	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

const latest = lambdaapi.Latest

// function is a served function with its runtime state.
type function struct {
	def      Function
	handler  Handler
	aliases  map[string]string
	reserved *semaphore.Weighted // nil: shares the account pool
	// reservedZero marks ReservedConcurrency 0: every synchronous call is
	// throttled and events wait forever.
	reservedZero bool
	inFlight     atomic.Int64
	maxRetries   int
	// revisionID is the function's RevisionId, and aliasRevisions its
	// aliases', each fixed for the life of the server.
	revisionID     string
	aliasRevisions map[string]string
}

// Validate reports the first of f's settings that [New] would reject, in
// New's words. New also requires a Command's program to exist, which
// Validate does not look for.
func (f Function) Validate() error {
	_, err := newFunction(f)
	return err
}

// newFunction validates def and applies its defaults.
func newFunction(def Function) (*function, error) {
	if err := lambdaapi.CheckName(def.Name); err != nil {
		return nil, err
	}
	if (def.Handler == nil) == (len(def.Command) == 0) {
		return nil, fmt.Errorf("function %s: set exactly one of a handler and a command", def.Name)
	}
	if def.Timeout == 0 {
		def.Timeout = DefaultTimeout
	}
	if def.Timeout < 0 || def.Timeout > MaxTimeout {
		return nil, fmt.Errorf("function %s: timeout %v is outside 1s..%v", def.Name, def.Timeout, MaxTimeout)
	}
	if def.MemorySize == 0 {
		def.MemorySize = DefaultMemorySize
	}
	if def.MemorySize < 128 || def.MemorySize > 10240 {
		return nil, fmt.Errorf("function %s: memory size %d MB is outside 128..10240", def.Name, def.MemorySize)
	}
	f := &function{def: def, handler: def.Handler, aliases: maps.Clone(def.Aliases), maxRetries: DefaultMaxEventRetries,
		revisionID: lambdaapi.NewRequestID(), aliasRevisions: make(map[string]string, len(def.Aliases))}
	if def.MaxEventRetries != nil {
		if *def.MaxEventRetries < 0 || *def.MaxEventRetries > 2 {
			return nil, fmt.Errorf("function %s: max event retries %d is outside 0..2", def.Name, *def.MaxEventRetries)
		}
		f.maxRetries = *def.MaxEventRetries
	}
	// Settings of execution environments mean nothing to a Go handler;
	// one set there is a mistake, not something to ignore.
	switch c := def.MaxConcurrencyPerEnvironment; {
	case c < 0 || c > MaxConcurrencyPerEnvironment:
		return nil, fmt.Errorf("function %s: max concurrency per environment %d is outside 1..%d", def.Name, c, MaxConcurrencyPerEnvironment)
	case c != 0 && def.Handler != nil:
		return nil, fmt.Errorf("function %s: max concurrency per environment applies to command functions only", def.Name)
	}
	if def.Handler != nil {
		switch {
		case len(def.Environment) > 0:
			return nil, fmt.Errorf("function %s: environment applies to command functions only", def.Name)
		case def.CodeDir != "":
			return nil, fmt.Errorf("function %s: a code directory applies to command functions only", def.Name)
		case def.RuntimeHandler != "":
			return nil, fmt.Errorf("function %s: a runtime handler applies to command functions only", def.Name)
		}
	}
	for alias, version := range def.Aliases {
		if err := lambdaapi.CheckQualifier(alias); err != nil || alias == latest || isNumber(alias) {
			return nil, fmt.Errorf("function %s: %q is not a valid alias name", def.Name, alias)
		}
		if version != latest {
			return nil, fmt.Errorf("function %s: alias %s maps to version %q; only $LATEST exists", def.Name, alias, version)
		}
		f.aliasRevisions[alias] = lambdaapi.NewRequestID()
	}
	if r := def.ReservedConcurrency; r != nil {
		if *r < 0 {
			return nil, fmt.Errorf("function %s: reserved concurrency %d is negative", def.Name, *r)
		}
		f.reservedZero = *r == 0
		f.reserved = semaphore.NewWeighted(int64(*r))
	}
	return f, nil
}

// resolveQualifier maps a qualifier ("" , "$LATEST" or an alias) to the
// version that runs.
func (f *function) resolveQualifier(q string) (string, bool) {
	switch q {
	case "", latest:
		return latest, true
	}
	v, ok := f.aliases[q]
	return v, ok
}

// aliasNames lists the function's aliases, sorted.
func (f *function) aliasNames() []string {
	return slices.Sorted(maps.Keys(f.aliases))
}

func isNumber(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}
