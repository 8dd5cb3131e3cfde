package emulator

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/lambdafan/lambdafan/internal/ctxtime"
)

// Fault is a failure the emulator can inject into one Invoke API call.
type Fault int

// The faults the emulator can inject.
const (
	// NoFault lets the call through.
	NoFault Fault = iota
	// FaultThrottle answers 429 TooManyRequestsException without running
	// the function.
	FaultThrottle
	// FaultThrottleRetryAfter answers the same 429 with a Retry-After
	// header (Faults.RetryAfter).
	FaultThrottleRetryAfter
	// FaultServerError answers 500 ServiceException without running the
	// function.
	FaultServerError
	// FaultBadGateway answers 502 EC2UnexpectedException, an error Lambda
	// returns while setting up the function's network, before it runs.
	FaultBadGateway
	// FaultUnavailable answers 503 ServiceUnavailableException without
	// running the function.
	FaultUnavailable
	// FaultResetBefore drops the connection without an answer and without
	// running the function.
	FaultResetBefore
	// FaultResetAfter runs the function, then drops the connection
	// without an answer.
	FaultResetAfter
	// FaultSlow runs the function, then holds the answer for
	// Faults.SlowDelay.
	FaultSlow
)

// String names the fault.
func (f Fault) String() string {
	switch f {
	case NoFault:
		return "none"
	case FaultThrottle:
		return "throttle"
	case FaultThrottleRetryAfter:
		return "throttle-retry-after"
	case FaultServerError:
		return "500"
	case FaultBadGateway:
		return "502"
	case FaultUnavailable:
		return "503"
	case FaultResetBefore:
		return "reset-before"
	case FaultResetAfter:
		return "reset-after"
	case FaultSlow:
		return "slow"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// numFaults is the number of Fault values, NoFault included.
const numFaults = int(FaultSlow) + 1

// Faults configures fault injection. Rates are fractions of Invoke calls
// (0.1 = 10 %), drawn independently per call; their sum must not exceed 1.
// The zero value injects nothing.
type Faults struct {
	Throttle           float64 // FaultThrottle
	ThrottleRetryAfter float64 // FaultThrottleRetryAfter
	ServerError        float64 // FaultServerError
	BadGateway         float64 // FaultBadGateway
	Unavailable        float64 // FaultUnavailable
	ResetBefore        float64 // FaultResetBefore
	ResetAfter         float64 // FaultResetAfter
	Slow               float64 // FaultSlow

	// RetryAfter is the Retry-After of FaultThrottleRetryAfter, rounded up
	// to whole seconds as the header carries them. 0 means one second.
	RetryAfter time.Duration
	// SlowDelay is how long FaultSlow holds an answer. 0 means 10 s.
	SlowDelay time.Duration
	// Latency is added to every call before it is handled.
	Latency time.Duration

	// Schedule, when set, chooses the fault of each call instead of the
	// rates: it receives the call's sequence number (from 0) and returns
	// the fault to inject. It must be safe for concurrent use.
	Schedule func(n int64) Fault
}

func (f *Faults) validate() error {
	sum := 0.0
	for _, r := range f.rates() {
		if !(r >= 0 && r <= 1) { // also rejects NaN
			return fmt.Errorf("fault rate %v is outside 0..1", r)
		}
		sum += r
	}
	if f.RetryAfter < 0 || f.SlowDelay < 0 || f.Latency < 0 {
		return fmt.Errorf("fault durations must not be negative (retry after %v, slow delay %v, latency %v)", f.RetryAfter, f.SlowDelay, f.Latency)
	}
	if sum > 1+1e-9 {
		return fmt.Errorf("fault rates add up to %v, more than 1", sum)
	}
	return nil
}

// rates lists the rates indexed by Fault.
func (f *Faults) rates() [numFaults]float64 {
	return [numFaults]float64{
		FaultThrottle:           f.Throttle,
		FaultThrottleRetryAfter: f.ThrottleRetryAfter,
		FaultServerError:        f.ServerError,
		FaultBadGateway:         f.BadGateway,
		FaultUnavailable:        f.Unavailable,
		FaultResetBefore:        f.ResetBefore,
		FaultResetAfter:         f.ResetAfter,
		FaultSlow:               f.Slow,
	}
}

// faultInjector draws and applies faults. It is safe for concurrent use.
type faultInjector struct {
	cfg      Faults
	rates    [numFaults]float64
	enabled  bool
	calls    atomic.Int64
	injected [numFaults]atomic.Int64
}

func newFaultInjector(cfg Faults) *faultInjector {
	if cfg.RetryAfter == 0 {
		cfg.RetryAfter = time.Second
	}
	if cfg.SlowDelay == 0 {
		cfg.SlowDelay = 10 * time.Second
	}
	fi := &faultInjector{cfg: cfg, rates: cfg.rates()}
	for _, r := range fi.rates {
		fi.enabled = fi.enabled || r > 0
	}
	fi.enabled = fi.enabled || cfg.Schedule != nil || cfg.Latency > 0
	return fi
}

// draw picks the fault of the next call.
func (fi *faultInjector) draw() Fault {
	n := fi.calls.Add(1) - 1
	if fi.cfg.Schedule != nil {
		return fi.cfg.Schedule(n)
	}
	x := rand.Float64()
	for f, r := range fi.rates {
		if x < r {
			return Fault(f)
		}
		x -= r
	}
	return NoFault
}

// faultPlan is the fault drawn for one Invoke call. The handler holds it
// from the draw, before the function runs, to the point where the fault
// strikes, which for FaultResetAfter and FaultSlow is after the function
// ran. The zero value injects nothing.
type faultPlan struct {
	fi    *faultInjector
	fault Fault
}

// plan applies the configured latency, then draws the call's fault.
func (fi *faultInjector) plan(ctx context.Context) faultPlan {
	if !fi.enabled {
		return faultPlan{}
	}
	if fi.cfg.Latency > 0 {
		_ = ctxtime.Sleep(ctx, fi.cfg.Latency) // a cancelled request ends anyway
	}
	f := fi.draw()
	if f != NoFault {
		fi.injected[f].Add(1)
	}
	return faultPlan{fi: fi, fault: f}
}

// strikesBefore reports whether the fault answers the call instead of
// running the function.
func (p faultPlan) strikesBefore() bool {
	return p.fault != NoFault && !p.strikesAfter()
}

// strikesAfter reports whether the fault strikes once the function ran.
func (p faultPlan) strikesAfter() bool {
	return p.fault == FaultResetAfter || p.fault == FaultSlow
}

// apply answers the call the way the fault dictates.
func (p faultPlan) apply(w http.ResponseWriter, requestID string) {
	switch p.fault {
	case FaultThrottle:
		errThrottled("CallerRateLimitExceeded").write(w, requestID)
	case FaultThrottleRetryAfter:
		e := errThrottled("CallerRateLimitExceeded")
		e.retryAfter = p.fi.cfg.RetryAfter
		e.write(w, requestID)
	case FaultServerError:
		errServiceException().write(w, requestID)
	case FaultBadGateway:
		// EC2UnexpectedException's message member is "Message" in the
		// Lambda API model; the text is Lambda's documented description.
		(&apiError{status: http.StatusBadGateway, code: "EC2UnexpectedException", kind: "Service", capitalMessage: true,
			message: "Lambda received an unexpected EC2 client exception while setting up for the Lambda function."}).write(w, requestID)
	case FaultUnavailable:
		// Not an error of the Lambda model: what AWS's front end answers
		// when overloaded, shaped like its other answers.
		frontEndError(http.StatusServiceUnavailable, "ServiceUnavailableException", "Service Unavailable").write(w, requestID)
	case FaultResetBefore, FaultResetAfter:
		// net/http drops the connection (or resets the HTTP/2 stream)
		// without writing a response when a handler panics with
		// ErrAbortHandler, and logs nothing.
		panic(http.ErrAbortHandler)
	case FaultSlow:
		// The answer itself is written by the caller after the wait.
	}
}
