package emulator

import (
	"maps"
	"sync"
	"sync/atomic"
)

// Stats counts what a Server has done since it started.
type Stats struct {
	// Requests is the number of API calls received, of every operation.
	Requests int64
	// Executions is the number of times a function ran (Event retries
	// included).
	Executions int64
	// FunctionErrors counts executions that failed, timeouts included.
	FunctionErrors int64
	// Timeouts counts executions stopped at the function's timeout.
	Timeouts int64
	// ColdStarts counts executions that started a new environment.
	ColdStarts int64
	// Throttles counts calls answered 429 because of concurrency limits,
	// a full Event queue or a spent request-bytes budget (injected
	// throttles are counted in Faults).
	Throttles int64
	// Errors counts calls answered with another error status (invalid
	// requests, unknown functions or operations, bad signatures).
	Errors int64
	// Faults counts injected faults by kind.
	Faults map[Fault]int64
	// EventsQueued, EventsSucceeded, EventsFailed and EventsDropped count
	// Event invocations: accepted, finally succeeded, finally failed
	// after their retries, and dropped (the server stopped first, or the
	// function's reserved concurrency is 0). EventRetries counts retried
	// executions.
	EventsQueued, EventsSucceeded, EventsFailed, EventsDropped, EventRetries int64
}

// counters are the live counts behind Stats.
type counters struct {
	requests, executions, functionErrors, timeouts, coldStarts, throttles, errors atomic.Int64
	events                                                                        eventCounters
}

// Stats returns a snapshot of the server's counters.
func (s *Server) Stats() Stats {
	c := &s.stats
	st := Stats{
		Requests: c.requests.Load(), Executions: c.executions.Load(),
		FunctionErrors: c.functionErrors.Load(), Timeouts: c.timeouts.Load(), ColdStarts: c.coldStarts.Load(),
		Throttles: c.throttles.Load(), Errors: c.errors.Load(),
		EventsQueued: c.events.queued.Load(), EventsSucceeded: c.events.succeeded.Load(),
		EventsFailed: c.events.failed.Load(), EventsDropped: c.events.dropped.Load(), EventRetries: c.events.retries.Load(),
		Faults: map[Fault]int64{},
	}
	for f := range s.faults.injected {
		if n := s.faults.injected[f].Load(); n > 0 {
			st.Faults[Fault(f)] = n
		}
	}
	return st
}

// executionCounter counts executions per distinct payload. It is safe for
// concurrent use.
type executionCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func newExecutionCounter() *executionCounter {
	return &executionCounter{counts: map[string]int{}}
}

func (c *executionCounter) add(payload []byte) {
	c.mu.Lock()
	c.counts[string(payload)]++
	c.mu.Unlock()
}

// Executions returns how many times each distinct payload was executed,
// when Config.CountExecutions is set (nil otherwise). Tests give every
// request a unique payload and check that no count exceeds 1.
func (s *Server) Executions() map[string]int {
	if s.execs == nil {
		return nil
	}
	s.execs.mu.Lock()
	defer s.execs.mu.Unlock()
	return maps.Clone(s.execs.counts)
}
