package emulator

import (
	"bytes"
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
// output and, when wantLog is set or a FunctionLog is configured, its log
// framed the way Lambda frames it (START, output, END, REPORT).
func (s *Server) execute(req *invokeRequest, wantLog bool) (Output, []byte) {
	return s.executeTo(req, wantLog, nil)
}

// executeTo is execute with the response streamed to stream, when not
// nil (InvokeWithResponseStream).
func (s *Server) executeTo(req *invokeRequest, wantLog bool, stream *eventStream) (Output, []byte) {
	s.executions.add()
	defer s.executions.done()
	s.stats.executions.Add(1)
	fn := req.fn
	if s.execs != nil {
		s.execs.add(req.payload)
	}

	var logBuf *bytes.Buffer
	logOut := io.Discard
	if wantLog || s.cfg.FunctionLog != nil {
		// Room for the framing lines and a short function output; the
		// lines are appended rather than formatted, which more than halved
		// what LogType Tail adds to an invocation.
		logBuf = bytes.NewBuffer(make([]byte, 0, 512))
		logOut = logBuf
		logBuf.WriteString("START RequestId: ")
		logBuf.WriteString(req.requestID)
		logBuf.WriteString(" Version: ")
		logBuf.WriteString(req.version)
		logBuf.WriteByte('\n')
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
		Region:             req.region,
		Payload:            req.payload,
		ClientContext:      req.clientContext,
		Deadline:           deadline,
		MemorySize:         fn.def.MemorySize,
		Log:                logOut,
	}
	stopStream := func() bool { return true }
	if stream != nil {
		inv.Stream = stream
		// A caller that stops reading cannot hold the invocation past its
		// deadline: the write in progress fails then.
		stopStream = context.AfterFunc(ctx, stream.abort)
	}
	fn.inFlight.Add(1)
	out := fn.handler.Invoke(ctx, inv)
	fn.inFlight.Add(-1)
	stopStream()
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
	if logBuf == nil {
		return out, nil
	}
	logBuf.WriteString("END RequestId: ")
	logBuf.WriteString(req.requestID)
	logBuf.WriteByte('\n')
	logBuf.Write(appendReport(logBuf.AvailableBuffer(), req.requestID, elapsed, fn.def.MemorySize, out))
	if s.cfg.FunctionLog != nil {
		s.writeFunctionLog(logBuf.Bytes())
	}
	return out, logBuf.Bytes()
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
