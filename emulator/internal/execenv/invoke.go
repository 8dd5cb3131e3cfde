package execenv

import (
	"context"
	"io"
	"time"

	"github.com/lambdafan/lambdafan/emulator/internal/wire"
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
	// Deadline is when the invocation times out, a whole millisecond: the
	// runtime receives it in Unix milliseconds.
	Deadline time.Time
	// Log receives what the process prints while it runs the invocation,
	// and what it printed since the last one. io.Discard drops it, and
	// spares measuring the process's memory for Output.MaxMemoryUsedMB.
	Log io.Writer
	// Stream, when not nil, takes a response the runtime streams
	// (runtimestream.go) as it arrives, one Write per piece read, up to
	// MaxStreamedResponseBytes; Output.Streamed then reports it. Writes
	// happen on the goroutine calling Pool.Invoke, before Invoke returns;
	// after a Write fails the rest of the response is read and dropped.
	// Nil takes a streamed response whole, into Output.Payload, up to
	// 6 MB as any response.
	Stream io.Writer
}

// Output is the outcome of an invocation.
type Output struct {
	// Payload is the function's response, or its error document when
	// Error is set.
	Payload []byte
	// Error reports that the invocation failed; Payload then holds the
	// error document ({"errorMessage": …, "errorType": …}).
	Error bool
	// InitDuration is the time spent starting a new execution environment
	// for this invocation (a cold start); zero when a warm one ran it.
	InitDuration time.Duration
	// MaxMemoryUsedMB is the process's peak memory, or 0 when unknown or
	// not measured (Invocation.Log is io.Discard).
	MaxMemoryUsedMB int
	// Streamed reports that the response went to Invocation.Stream, with
	// Payload empty; a streamed response that failed midway has Error
	// set and its error document in Payload.
	Streamed bool
}

// invoke runs inv in e, in a slot the caller took from the pool; fresh
// reports that e was started for it. retry reports that e had died
// before the runtime took inv, so inv never ran and may go to another
// environment.
func (e *environment) invoke(ctx context.Context, inv *Invocation, fresh bool) (out Output, retry bool) {
	p := e.pool
	call := &envCall{inv: inv, result: make(chan runtimeResult, 1)}
	e.out.attach(inv.Log)
	e.offer(call)

	select {
	case res := <-call.result:
		res = takeStream(ctx, inv, res)
		out = e.output(inv, res, fresh)
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
	case <-e.initFailed:
		e.out.detach(inv.Log)
		p.discard(e)
		return e.initFailure(), false
	case <-e.dead:
	case <-ctx.Done():
		out.InitDuration = e.initTime(fresh)
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

	// The process exited. It may have answered first, or failed init.
	select {
	case res := <-call.result:
		res = takeStream(ctx, inv, res)
		out = e.output(inv, res, fresh)
		p.discard(e)
		return out, false
	case <-e.initFailed:
		e.out.detach(inv.Log)
		p.discard(e)
		return e.initFailure(), false
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
	out.Payload = wire.ErrorDocument("Runtime.ExitError", "RequestId: "+inv.RequestID+" Error: "+e.exitMessage())
	out.InitDuration = e.initTime(fresh)
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
	out := Output{Payload: res.payload, Error: res.isError, Streamed: res.streamed, InitDuration: e.initTime(fresh)}
	// Reading /proc costs a few microseconds; only the REPORT line shows
	// the figure, and the emulator writes that only when it keeps a log.
	if inv.Log != io.Discard {
		out.MaxMemoryUsedMB = e.mem.megabytes()
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
	if !e.initDone {
		return time.Since(e.spawned)
	}
	return e.initDuration
}

// initFailure is the output of an invocation whose environment posted
// /init/error.
func (e *environment) initFailure() Output {
	e.mu.Lock()
	defer e.mu.Unlock()
	return Output{Error: true, Payload: e.initError, InitDuration: time.Since(e.spawned)}
}
