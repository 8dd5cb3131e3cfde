package emulator

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
)

// tryAcquire takes one concurrent execution of fn without waiting, or
// returns the throttle Lambda answers with.
func (s *Server) tryAcquire(fn *function) (release func(), _ *apiError) {
	if fn.reserved != nil {
		if !fn.reserved.TryAcquire(1) {
			return nil, errThrottled("ReservedFunctionConcurrentInvocationLimitExceeded")
		}
		return func() { fn.reserved.Release(1) }, nil
	}
	if !s.account.TryAcquire(1) {
		return nil, errThrottled("ConcurrentInvocationLimitExceeded")
	}
	return func() { s.account.Release(1) }, nil
}

// acquire waits for one concurrent execution of fn, for Event
// invocations, which Lambda queues rather than throttles.
func (s *Server) acquire(ctx context.Context, fn *function) (release func(), err error) {
	sem := s.account
	if fn.reserved != nil {
		sem = fn.reserved
	}
	if err := sem.Acquire(ctx, 1); err != nil {
		return nil, err
	}
	return func() { sem.Release(1) }, nil
}

// execute runs one invocation under the function's timeout and returns its
// output and, when wantTail is set, the last 4 KB of its log, framed the
// way Lambda frames it (START, output, END, REPORT). A configured
// FunctionLog receives the log as it is written.
func (s *Server) execute(req *invokeRequest, wantTail bool) (Output, []byte) {
	s.executions.add()
	defer s.executions.done()
	s.stats.executions.Add(1)
	fn := req.fn
	if s.execs != nil {
		s.execs.add(req.payload)
	}

	log := s.newInvocationLog(wantTail)
	defer log.release()
	var logOut io.Writer = io.Discard
	if log != nil {
		logOut = log
		// The lines are appended rather than formatted, which more than
		// halved what LogType Tail adds to an invocation.
		b := append(log.scratch[:0], "START RequestId: "...)
		b = append(b, req.requestID...)
		b = append(b, " Version: "...)
		b = append(b, req.version...)
		log.scratch = append(b, '\n')
		_, _ = log.Write(log.scratch)
	}
	// Execution time is real time: Config.Now is the clock of signature
	// checks, and a context deadline is always measured on the real clock
	// (a fixed Now made every invocation time out at once).
	start := time.Now()
	deadline := msDeadline(start, fn.def.Timeout)
	ctx, cancel := context.WithDeadline(s.base, deadline)
	inv := &Invocation{
		RequestID:          req.requestID,
		FunctionName:       fn.def.Name,
		InvokedFunctionARN: req.invokedARN,
		Version:            req.version,
		Payload:            req.payload,
		ClientContext:      req.clientContext,
		Deadline:           deadline,
		MemorySize:         fn.def.MemorySize,
		Log:                logOut,
	}
	fn.inFlight.Add(1)
	out := fn.handler.Invoke(ctx, inv)
	fn.inFlight.Add(-1)
	end := time.Now()
	elapsed := end.Sub(start)
	switch {
	// Decided by the deadline handed out, not by elapsed time: a runtime
	// whose own context expired answers at the deadline, maybe before
	// ctx's timer has fired here.
	case ctx.Err() == context.DeadlineExceeded || !end.Before(deadline):
		s.stats.timeouts.Add(1)
		out = Output{Error: true, InitDuration: out.InitDuration, MaxMemoryUsedMB: out.MaxMemoryUsedMB,
			Payload: ErrorDocument("Sandbox.Timedout", fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", req.requestID, fn.def.Timeout.Seconds()))}
	case ctx.Err() != nil:
		// The server is closing. The caller answers a synchronous call
		// with a ServiceException; the log shows why.
		req.cancelled = true
		out = Output{Error: true, Payload: ErrorDocument("Runtime.Cancelled", fmt.Sprintf("RequestId: %s Error: the emulator stopped before the invocation finished", req.requestID))}
	}
	cancel()
	if out.Error && !req.cancelled {
		s.stats.functionErrors.Add(1)
	}
	if out.InitDuration > 0 {
		s.stats.coldStarts.Add(1)
	}
	if log == nil {
		return out, nil
	}
	log.endLine()
	b := append(log.scratch[:0], "END RequestId: "...)
	b = append(b, req.requestID...)
	b = append(b, '\n')
	log.scratch = appendReport(b, req.requestID, elapsed, fn.def.MemorySize, out)
	_, _ = log.Write(log.scratch)
	log.finish()
	return out, log.tail()
}

// msDeadline is start+timeout truncated to the millisecond: the deadline
// a runtime reads from Lambda-Runtime-Deadline-Ms, which carries Unix
// milliseconds. The invocation times out there, not up to a millisecond
// later, so that a runtime whose own context expires answers at or after
// the emulator's deadline, never before it. Unlike Truncate, subtracting
// keeps start's monotonic clock reading.
func msDeadline(start time.Time, timeout time.Duration) time.Time {
	d := start.Add(timeout)
	return d.Add(-(time.Duration(d.Nanosecond()) % time.Millisecond))
}

// appendReport appends Lambda's REPORT line to b, e.g.
//
//	REPORT RequestId: …\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\t
//
// plus "Init Duration: 4.56 ms\t" after a cold start. Max Memory Used is
// the handler's measurement, or the configured memory size when it has
// none (in-process Go handlers cannot be measured separately).
func appendReport(b []byte, requestID string, d time.Duration, memoryMB int, out Output) []byte {
	ms := float64(d) / float64(time.Millisecond)
	used := out.MaxMemoryUsedMB
	if used <= 0 {
		used = memoryMB
	}
	b = append(b, "REPORT RequestId: "...)
	b = append(b, requestID...)
	b = append(b, "\tDuration: "...)
	b = strconv.AppendFloat(b, ms, 'f', 2, 64)
	b = append(b, " ms\tBilled Duration: "...)
	b = strconv.AppendInt(b, int64(math.Ceil(ms)), 10)
	b = append(b, " ms\tMemory Size: "...)
	b = strconv.AppendInt(b, int64(memoryMB), 10)
	b = append(b, " MB\tMax Memory Used: "...)
	b = strconv.AppendInt(b, int64(used), 10)
	b = append(b, " MB\t"...)
	if out.InitDuration > 0 {
		b = append(b, "Init Duration: "...)
		b = strconv.AppendFloat(b, float64(out.InitDuration)/float64(time.Millisecond), 'f', 2, 64)
		b = append(b, " ms\t"...)
	}
	return append(b, '\n')
}
