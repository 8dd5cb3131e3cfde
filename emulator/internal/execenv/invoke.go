package execenv

import (
	"context"
	"io"
	"time"

	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// Invocation is one invocation to run in an execution environment.
type Invocation struct {
	// RequestID is the invocation's AWS request ID.
	RequestID string
	// InvokedFunctionARN is the ARN the caller invoked, qualified when the
	// caller named a version or alias.
	InvokedFunctionARN string
	// Payload is the event, as JSON.
	Payload []byte
	// ClientContext is the decoded client context (JSON), or nil.
	ClientContext []byte
	// Begin, when set, starts the invocation's clock and returns its
	// deadline, a whole millisecond (the runtime receives it in Unix
	// milliseconds). Invoke calls it once, on the calling goroutine, when
	// the invocation's execution begins: when its environment's runtime
	// is ready for it (a new environment's init phase is over), or when a
	// failed init phase is retried for it, which its timeout covers.
	// Without Begin, Deadline is the deadline from the start.
	Begin func() time.Time
	// Deadline is when the invocation times out: Begin's answer once the
	// clock runs.
	Deadline time.Time
	// Log receives the invocation's log: INIT_START and INIT_REPORT lines
	// for the environment started for it, what the process prints while
	// it runs the invocation, and what it printed since the last one.
	// io.Discard drops it, and spares measuring the process's memory for
	// Output.MaxMemoryUsedMB.
	Log io.Writer
	// Stream, when not nil, takes a response the runtime streams
	// (runtimestream.go) as it arrives, one Write per piece read, up to
	// MaxStreamedResponseBytes; Output.Streamed then reports it. Writes
	// happen on the goroutine calling Pool.Invoke, before Invoke returns;
	// after a Write fails the rest of the response is read and dropped.
	// Nil takes a streamed response whole, into Output.Payload, up to
	// 6 MB as any response.
	Stream io.Writer

	started bool // the clock runs
}

// begin starts inv's clock, once.
func (inv *Invocation) begin() {
	if inv.started {
		return
	}
	inv.started = true
	if inv.Begin != nil {
		inv.Deadline = inv.Begin()
	}
}

// Output is the outcome of an invocation.
type Output struct {
	// Payload is the function's response, or its error document when
	// Error is set.
	Payload []byte
	// Error reports that the invocation failed; Payload then holds the
	// error document ({"errorMessage": …, "errorType": …}).
	Error bool
	// InitDuration is the init phase of a new environment started for
	// this invocation (a cold start), spawn to the runtime's first /next;
	// zero when a warm one ran it, or when the init phase failed.
	InitDuration time.Duration
	// ColdStart reports that a new environment was started for the
	// invocation, whether or not its init phase succeeded.
	ColdStart bool
	// MaxMemoryUsedMB is the peak memory of the environment's processes,
	// or 0 when unknown or not measured (Invocation.Log is io.Discard).
	MaxMemoryUsedMB int
	// Streamed reports that the response went to Invocation.Stream, with
	// Payload empty; a streamed response that failed midway has Error
	// set and its error document in Payload.
	Streamed bool
	// ErrorType is set when the environment failed rather than the
	// function: "Runtime.ExitError" when its process exited, or the
	// error type of a failed init phase; Lambda's REPORT line shows it
	// as "Status: error", "Error Type: …". ErrorMessage is the message
	// Lambda logs with a Runtime.ExitError.
	ErrorType, ErrorMessage string
}

// invoke runs inv in e, in a slot the caller took from the pool; fresh
// reports that e was started for it. It waits for e's init phase, starts
// inv's clock and hands inv to the runtime. retry reports that e had
// died before the runtime took inv, so inv never ran and may go to
// another environment.
func (e *environment) invoke(ctx context.Context, inv *Invocation, fresh bool) (out Output, retry bool) {
	if <-e.spawnTried; e.cmd.Process == nil {
		return Output{}, true // it could not start; it is out of the pool already
	}
	e.thaw()
	if fresh && !inv.started {
		writeInitStart(inv.Log, e.pool.region)
	}
	e.out.attach(inv.Log)
	if !e.isInitialized() {
		if res := e.awaitInit(ctx, e.initLimit(inv)); res.status != initReady {
			return e.failInit(ctx, inv, res, fresh)
		}
		// What the runtime printed during init precedes the invocation's
		// own lines.
		e.out.drain()
	}
	inv.begin()
	return e.run(ctx, inv, fresh)
}

// run hands inv, whose clock runs, to e's runtime and waits for its answer
// until inv's deadline. When the deadline or ctx comes first it returns
// at once, with an Output that is not the function's and that the caller
// replaces by its timeout (or cancellation) error; an environment running
// one invocation at a time is killed then, one running several lets the
// invocation run on.
func (e *environment) run(ctx context.Context, inv *Invocation, fresh bool) (out Output, retry bool) {
	p := e.pool
	ctx, cancel := context.WithDeadline(ctx, inv.Deadline)
	defer cancel()
	call := &envCall{inv: inv, result: make(chan runtimeResult, 1)}
	e.offer(call)

	select {
	case res := <-call.result:
		res = takeStream(ctx, inv, res)
		out = e.output(inv, res, fresh)
		e.invocationDone()
		if e.slots == 1 && nearDeadline(ctx) {
			// The answer came at or near the deadline (a handler's own
			// context expires then too): the caller, which decides a
			// little later, may well report a timeout, and a timed-out
			// environment is never reused.
			e.kill()
			e.awaitDeath(reapWait)
			p.discard(e)
		} else {
			p.put(e)
		}
		return out, false
	case <-e.dead:
	case <-ctx.Done():
		out.InitDuration, out.ColdStart = e.initTime(fresh), fresh
		if inv.Log != io.Discard {
			out.MaxMemoryUsedMB = e.peakMemoryMB() // before the kill
		}
		if e.slots > 1 {
			// Lambda Managed Instances report the timeout but let the
			// invocation run on: its slot is freed when the runtime
			// answers (or at once if it never took the invocation).
			e.out.detach(inv.Log)
			if e.abandon(call) {
				dropStream(call)
				p.put(e)
			}
			return out, false
		}
		e.kill()
		e.awaitDeath(reapWait)
		e.out.detach(inv.Log)
		p.discard(e)
		e.abandon(call)
		dropStream(call)
		return out, false
	}

	// The process exited. It may have answered first.
	select {
	case res := <-call.result:
		res = takeStream(ctx, inv, res)
		out = e.output(inv, res, fresh)
		p.discard(e)
		return out, false
	default:
	}
	taken := !e.unqueue(call)
	e.out.detach(inv.Log)
	p.discard(e)
	if taken {
		// A response posted just before the process died may still be
		// on its way: nobody reads it now.
		e.abandon(call)
		dropStream(call)
	}
	if !taken && !fresh {
		return Output{}, true
	}
	out.Error = true
	out.ErrorType = "Runtime.ExitError"
	out.ErrorMessage = "RequestId: " + inv.RequestID + " Error: " + e.exitMessage()
	out.Payload = lambdaapi.ErrorDocument(out.ErrorType, out.ErrorMessage)
	out.InitDuration, out.ColdStart = e.initTime(fresh), fresh
	if inv.Log != io.Discard {
		out.MaxMemoryUsedMB = e.exitPeakMemoryMB()
	}
	return out, false
}

// nearDeadline reports that ctx is done or about to be.
func nearDeadline(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && time.Until(d) < deadlineMargin
}

// output finishes an invocation the runtime answered.
func (e *environment) output(inv *Invocation, res runtimeResult, fresh bool) Output {
	e.out.detach(inv.Log)
	out := Output{Payload: res.payload, Error: res.isError, Streamed: res.streamed, InitDuration: e.initTime(fresh), ColdStart: fresh}
	// Reading /proc costs a few microseconds; only the REPORT line shows
	// the figure, and the emulator writes that only when it keeps a log.
	if inv.Log != io.Discard {
		out.MaxMemoryUsedMB = e.peakMemoryMB()
	}
	return out
}

// initTime is the environment's init duration to report for an
// invocation: spawn to first /next for the invocation that started it,
// else 0.
func (e *environment) initTime(fresh bool) time.Duration {
	if !fresh {
		return 0
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.initDuration
}
