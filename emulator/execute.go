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

// envHandler is a Handler whose invocations run in execution
// environments with an init phase of their own (commandHandler): Lambda
// gives a new environment's init 10 seconds of its own, and an
// invocation's timeout starts only when its environment is ready for it.
type envHandler interface {
	// invokeEnv runs inv. It calls begin once, on the calling goroutine,
	// when the invocation's execution begins; begin writes START to the
	// log and returns the deadline, which invokeEnv enforces (inv.Deadline
	// is not set). ctx is done when the server stops.
	invokeEnv(ctx context.Context, inv *Invocation, begin func() time.Time) envOutput
}

// envOutput is an envHandler's Output, with what Lambda reports of the
// execution environment.
type envOutput struct {
	Output
	// coldStart reports that a new environment was started for the
	// invocation, whether or not its init phase succeeded.
	coldStart bool
	// errorType is set when the environment failed rather than the
	// function (Runtime.ExitError, a failed init): REPORT shows
	// "Status: error", "Error Type: …". errorMessage is what Lambda
	// logs with a Runtime.ExitError.
	errorType, errorMessage string
}

// execution is one run of a function, as execute frames it. Executions
// are reused (Server.runs), with their begin method value made once.
type execution struct {
	s *Server
	// req is a copy of the request: a pointer kept in a reused execution
	// would move every request to the heap.
	req invokeRequest
	log *invocationLog // nil when nobody reads the log
	// start is when the function's execution began, and deadline when it
	// times out; zero until begin.
	start, deadline time.Time
	beginFunc       func() time.Time // x.begin
	// stream takes the response of an InvokeWithResponseStream; nil
	// otherwise. stopStream ends the watch that aborts it at the
	// deadline (a caller that stops reading cannot hold the invocation
	// past it).
	stream     *eventStream
	stopStream func()
}

// newExecution returns a (reused) execution of req.
func (s *Server) newExecution(req *invokeRequest, wantTail bool) *execution {
	x := s.runs.Get().(*execution)
	x.req, x.log = *req, s.newInvocationLog(wantTail)
	return x
}

// release returns x and its log for reuse.
func (x *execution) release() {
	x.log.release()
	*x = execution{s: x.s, beginFunc: x.beginFunc}
	x.s.runs.Put(x)
}

// execute runs one invocation under the function's timeout and returns its
// output and, when wantTail is set, the last 4 KB of its log, framed the
// way Lambda frames it (START, output, END, REPORT; INIT_START first in a
// new execution environment). A configured FunctionLog receives the log
// as it is written.
func (s *Server) execute(req *invokeRequest, wantTail bool) (Output, []byte) {
	return s.executeTo(req, wantTail, nil)
}

// executeTo is execute with the response streamed to stream, when not
// nil (InvokeWithResponseStream).
func (s *Server) executeTo(req *invokeRequest, wantTail bool, stream *eventStream) (Output, []byte) {
	s.executions.add()
	defer s.executions.done()
	s.stats.executions.Add(1)
	if s.execs != nil {
		s.execs.add(req.payload)
	}
	x := s.newExecution(req, wantTail)
	x.stream = stream
	out := x.run()
	req.cancelled = x.req.cancelled
	tail := x.log.tail()
	x.release()
	return out, tail
}

// begin starts the execution's clock and logs START. Execution time is
// real time: Config.Now is the clock of signature checks, and a context
// deadline is always measured on the real clock (a fixed Now made every
// invocation time out at once).
func (x *execution) begin() time.Time {
	x.start = time.Now()
	x.deadline = msDeadline(x.start, x.req.fn.def.Timeout)
	x.logStart()
	if x.stream != nil {
		ctx, cancel := context.WithDeadline(x.s.base, x.deadline)
		stop := context.AfterFunc(ctx, x.stream.abort)
		x.stopStream = func() { stop(); cancel() }
	}
	return x.deadline
}

// run invokes the function's handler and turns what it returns into the
// invocation's output and the end of its log.
func (x *execution) run() Output {
	s, req, fn := x.s, &x.req, x.req.fn
	logOut := io.Discard
	if x.log != nil {
		logOut = x.log
	}
	inv := &Invocation{
		RequestID:          req.requestID,
		FunctionName:       fn.def.Name,
		InvokedFunctionARN: req.invokedARN,
		Region:             req.region,
		Version:            req.version,
		Payload:            req.payload,
		ClientContext:      req.clientContext,
		MemorySize:         fn.def.MemorySize,
		Log:                logOut,
	}
	if x.stream != nil {
		inv.Stream = x.stream
	}
	fn.inFlight.Add(1)
	var eo envOutput
	if h, ok := fn.handler.(envHandler); ok {
		eo = h.invokeEnv(s.base, inv, x.beginFunc)
	} else {
		inv.Deadline = x.begin()
		ctx, cancel := context.WithDeadline(s.base, inv.Deadline)
		eo.Output = fn.handler.Invoke(ctx, inv)
		cancel()
	}
	fn.inFlight.Add(-1)
	if x.stopStream != nil {
		x.stopStream()
	}
	end := time.Now()

	out := eo.Output
	// Decided by the deadline handed out, not by elapsed time: a runtime
	// whose own context expired answers at the deadline, maybe before
	// the emulator's timer has fired.
	timedOut := !x.deadline.IsZero() && !end.Before(x.deadline)
	switch {
	case timedOut:
		s.stats.timeouts.Add(1)
		out = Output{Error: true, InitDuration: out.InitDuration, MaxMemoryUsedMB: out.MaxMemoryUsedMB,
			Payload: ErrorDocument("Sandbox.Timedout", fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", req.requestID, fn.def.Timeout.Seconds()))}
		eo.errorType = ""
	case s.base.Err() != nil:
		// The server is closing. The caller answers a synchronous call
		// with a ServiceException; the log shows why.
		req.cancelled = true
		out = Output{Error: true, Payload: ErrorDocument("Runtime.Cancelled", fmt.Sprintf("RequestId: %s Error: the emulator stopped before the invocation finished", req.requestID))}
		eo.errorType = ""
	}
	if out.Error && !req.cancelled {
		s.stats.functionErrors.Add(1)
	}
	if out.InitDuration > 0 || eo.coldStart {
		s.stats.coldStarts.Add(1)
	}
	if x.log != nil {
		var d time.Duration
		switch {
		case timedOut:
			// Lambda reports the whole timeout ("Duration: 3000.00 ms").
			d = fn.def.Timeout
		case !x.start.IsZero():
			d = end.Sub(x.start)
		}
		x.logEnd(out, timedOut, eo, d)
	}
	return out
}

// logStart writes START.
func (x *execution) logStart() {
	if x.log == nil {
		return
	}
	b := append(x.log.scratch[:0], "START RequestId: "...)
	b = append(b, x.req.requestID...)
	b = append(b, " Version: "...)
	b = append(b, x.req.version...)
	x.log.scratch = append(b, '\n')
	_, _ = x.log.Write(x.log.scratch)
}

// logEnd writes the end of the log: the timeout or crash lines Lambda
// adds, END and REPORT (with a START first when the execution never
// began, as after a failed init phase).
//
// Lambda's lines, from its documentation's examples of a timeout and a
// runtime crash (AWS Lambda Developer Guide,
// lambda-runtime-environment.html, "Failures during the invoke phase"):
//
//	2024-03-04T17:22:38.033Z b70435cc-… Task timed out after 3.00 seconds
//	RequestId: c3252230-… Error: Runtime exited with error: exit status 1
//	Runtime.ExitError
func (x *execution) logEnd(out Output, timedOut bool, eo envOutput, d time.Duration) {
	l, id := x.log, x.req.requestID
	l.endLine()
	if x.start.IsZero() {
		x.logStart()
	}
	b := l.scratch[:0]
	switch {
	case timedOut:
		b = x.deadline.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
		b = append(b, ' ')
		b = append(b, id...)
		b = append(b, " Task timed out after "...)
		b = strconv.AppendFloat(b, x.req.fn.def.Timeout.Seconds(), 'f', 2, 64)
		b = append(b, " seconds\n"...)
	case eo.errorType == "Runtime.ExitError" && eo.errorMessage != "":
		b = append(b, eo.errorMessage...)
		b = append(b, '\n')
		b = append(b, eo.errorType...)
		b = append(b, '\n')
	}
	b = append(b, "END RequestId: "...)
	b = append(b, id...)
	b = append(b, '\n')
	b = appendReport(b, id, d, x.req.fn.def.MemorySize, out, timedOut, eo.errorType)
	l.scratch = b
	_, _ = l.Write(b)
	l.finish()
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
// plus "Init Duration: 4.56 ms\t" after a cold start, and, since Lambda's
// 2024 log format, "Status: timeout" after a timeout or "Status:
// error\tError Type: Runtime.ExitError" when the execution environment
// failed (errorType), the line then ending without a tab:
//
//	… Max Memory Used: 1035 MB\tInit Duration: 476.75 ms\tStatus: timeout
//
// (AWS Lambda Developer Guide, lambda-runtime-environment.html: "The new
// format for CloudWatch logs includes an additional status field in the
// REPORT line. In the case of a runtime or extension crash, the REPORT
// line also includes a field ErrorType."; captured lines show the tabs).
// Max Memory Used is the handler's measurement, or the configured memory
// size when it has none (in-process Go handlers cannot be measured
// separately).
func appendReport(b []byte, requestID string, d time.Duration, memoryMB int, out Output, timedOut bool, errorType string) []byte {
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
	switch {
	case timedOut:
		b = append(b, "Status: timeout"...)
	case errorType != "":
		b = append(b, "Status: error\tError Type: "...)
		b = append(b, errorType...)
	}
	return append(b, '\n')
}
