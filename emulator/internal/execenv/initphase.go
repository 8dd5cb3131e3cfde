package execenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"time"

	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// An environment's init phase runs from spawning its process until the
// runtime first asks for an invocation (GET /next). Lambda logs its start
// (INIT_START) and, when it fails, an INIT_REPORT line; an on-demand
// function's init phase has 10 seconds of its own, which the function's
// timeout does not cover, and "If all three tasks do not complete within
// 10 seconds, Lambda retries the Init phase at the time of the first
// function invocation with the configured function timeout" (AWS Lambda
// Developer Guide, lambda-runtime-environment.html, "Init phase" and
// "Failures during the Init phase"). The same retry follows an init that
// crashed: CloudWatch logs published with projects show both reports
// before START, e.g. for a bootstrap that cannot start
//
//	INIT_REPORT Init Duration: 10.17 ms	Phase: init	Status: error	Error Type: Runtime.ExitError
//	INIT_REPORT Init Duration: 4.87 ms	Phase: invoke	Status: error	Error Type: Runtime.ExitError
//	START RequestId: 00c4bc44-… Version: $LATEST
//	RequestId: 00c4bc44-… Error: Runtime exited with error: exit status 1
//	Runtime.ExitError
//
// and, for an init slower than both limits, "Phase: init\tStatus:
// timeout", "Phase: invoke\tStatus: timeout" and a "Task timed out" line.

// The runtime the emulator claims in INIT_START: the OS-only runtime
// (AWS_EXECUTION_ENV AWS_Lambda_provided.al2023). Lambda logs e.g.
//
//	INIT_START Runtime Version: provided:al2023.v97	Runtime Version ARN: arn:aws:lambda:eu-west-1::runtime:c41794fa…
//
// The version suffix names the emulator rather than a real release, and
// the ARN's 64 hex digits are a hash of it.
const runtimeVersion = "provided:al2023.lambdafan"

// runtimeVersionHash is the hash in the runtime version ARN.
var runtimeVersionHash = func() string {
	sum := sha256.Sum256([]byte(runtimeVersion))
	return hex.EncodeToString(sum[:])
}()

// writeInitStart logs the start of an init phase in region.
func writeInitStart(w io.Writer, region string) {
	if w == io.Discard {
		return
	}
	_, _ = io.WriteString(w, "INIT_START Runtime Version: "+runtimeVersion+
		"\tRuntime Version ARN: arn:aws:lambda:"+region+"::runtime:"+runtimeVersionHash+"\n")
}

// initStatus is how an init phase ended.
type initStatus int

const (
	initReady     initStatus = iota // the runtime asked for an invocation
	initError                       // the runtime posted /init/error
	initExited                      // the process exited first
	initTimedOut                    // the limit passed first
	initCancelled                   // the caller gave up (the emulator is closing)
)

// initResult is the outcome of waiting for an init phase.
type initResult struct {
	status   initStatus
	duration time.Duration // spawn to the outcome
}

// awaitInit waits until e's init phase ends or limit passes.
func (e *environment) awaitInit(ctx context.Context, limit time.Time) initResult {
	t := time.NewTimer(time.Until(limit))
	defer t.Stop()
	var status initStatus
	select {
	case <-e.initialized:
		return initResult{status: initReady}
	case <-e.initFailed:
		status = initError
	case <-e.dead:
		status = initExited
		select {
		case <-e.initFailed: // it posted its error, then exited
			status = initError
		case <-e.initialized: // it asked for an invocation, then exited
			return initResult{status: initReady}
		default:
		}
	case <-t.C:
		status = initTimedOut
	case <-ctx.Done():
		status = initCancelled
	}
	return initResult{status: status, duration: time.Since(e.spawned)}
}

// initLimit is when e's init phase runs out of time for inv: the init
// timeout, or inv's deadline when its clock runs already (a suppressed
// init has the function's timeout, not the init phase's).
func (e *environment) initLimit(inv *Invocation) time.Time {
	if inv.started {
		return inv.Deadline
	}
	return e.spawned.Add(e.pool.initTimeout)
}

// failInit ends an invocation whose environment e failed its init phase
// (res): it logs INIT_REPORT and discards e, then, for an invocation whose
// clock has not started in an environment running one at a time, starts
// the clock and retries the init phase in a new environment (Lambda's
// suppressed init, whose own failure is reported with Phase: invoke).
func (e *environment) failInit(ctx context.Context, inv *Invocation, res initResult, fresh bool) (Output, bool) {
	p := e.pool
	phase := "init"
	if inv.started {
		phase = "invoke"
	}
	out := Output{Error: true, ColdStart: fresh}
	if res.status != initCancelled && inv.Log != io.Discard {
		out.MaxMemoryUsedMB = e.peakMemoryMB() // before the kill
	}
	e.invocationDone()
	e.kill()
	e.awaitDeath(reapWait)
	e.out.detach(inv.Log) // what it printed comes before the report
	p.discard(e)
	if res.status == initCancelled {
		return out, false
	}
	out.ErrorType = e.initErrorTypeOf(res.status)
	writeInitReport(inv.Log, res.duration, phase, res.status, out.ErrorType)
	switch res.status {
	case initError:
		out.Payload = e.postedInitError()
	case initExited:
		out.ErrorMessage = "RequestId: " + inv.RequestID + " Error: " + e.exitMessage()
		out.Payload = lambdaapi.ErrorDocument(out.ErrorType, out.ErrorMessage)
		if out.MaxMemoryUsedMB == 0 && inv.Log != io.Discard {
			out.MaxMemoryUsedMB = e.exitPeakMemoryMB()
		}
	case initTimedOut:
		// Only an invocation whose init limit was not its own deadline
		// gets here with a payload that matters: the emulator reports a
		// timeout at the deadline itself.
		out.Payload = lambdaapi.ErrorDocument("Sandbox.Timedout", fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", inv.RequestID, p.initTimeout.Seconds()))
	}
	if phase != "init" || e.slots > 1 || !fresh {
		return out, false
	}

	// The suppressed init: the function's timeout covers it.
	inv.begin()
	retry, err := p.startEnvironment()
	if err != nil {
		return p.unavailable(inv, err), false
	}
	out, again := retry.invoke(ctx, inv, true)
	out.InitDuration = 0 // Lambda reports no Init Duration for it
	out.ColdStart = true
	return out, again
}

// validErrorType matches the error types Lambda keeps from a runtime's
// Lambda-Runtime-Function-Error-Type; others become Runtime.Unknown, as
// in the Runtime Interface Emulator (internal/lambda/fatalerror,
// GetValidRuntimeOrFunctionErrorType).
var validErrorType = regexp.MustCompile(`^(Runtime|Function)\.[A-Z][a-zA-Z]+$`)

// initErrorTypeOf is the Error Type of an init phase that ended with
// status: the type the runtime posted, Runtime.ExitError for a process
// that exited, none for a timeout.
func (e *environment) initErrorTypeOf(status initStatus) string {
	switch status {
	case initError:
		e.mu.Lock()
		defer e.mu.Unlock()
		if validErrorType.MatchString(e.initErrorType) {
			return e.initErrorType
		}
		return "Runtime.Unknown"
	case initExited:
		return "Runtime.ExitError"
	}
	return ""
}

// postedInitError is the error document the runtime posted to /init/error.
func (e *environment) postedInitError() []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.initError
}

// writeInitReport logs the failure of an init phase, in Lambda's layout:
//
//	INIT_REPORT Init Duration: 150.79 ms	Phase: init	Status: error	Error Type: Runtime.UserCodeSyntaxError
//
// (a Node.js capture of 2025), or "…\tStatus: timeout" without an Error
// Type.
func writeInitReport(w io.Writer, d time.Duration, phase string, status initStatus, errorType string) {
	if w == io.Discard {
		return
	}
	b := make([]byte, 0, 128)
	b = append(b, "INIT_REPORT Init Duration: "...)
	b = strconv.AppendFloat(b, float64(d)/float64(time.Millisecond), 'f', 2, 64)
	b = append(b, " ms\tPhase: "...)
	b = append(b, phase...)
	if status == initTimedOut {
		b = append(b, "\tStatus: timeout"...)
	} else {
		b = append(b, "\tStatus: error\tError Type: "...)
		b = append(b, errorType...)
	}
	_, _ = w.Write(append(b, '\n'))
}
