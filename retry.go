package lambdafan

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"net"
	"slices"
	"time"
)

// RetryClass says whether, and how safely, a failed attempt may be
// retried: [ClassifyRetry] puts every failure in one class. The class is
// about the function, not the request: what matters is whether the failed
// attempt may already have run it.
//
// lambdafan retries [RetryClassSafe] failures always (up to
// [Config.MaxAttempts]), [RetryClassUnsafe] ones only when
// [Config.RetryUnsafe] is set, and [RetryClassNever] ones never.
type RetryClass int

// The retry classes of a failed attempt.
const (
	// RetryClassNever: retrying cannot help (invalid request, unknown
	// function, permission denied, a redirect, a certificate that fails
	// verification, a function error, cancellation).
	RetryClassNever RetryClass = iota
	// RetryClassSafe: the failure happened before the function could run
	// (throttling, connection not established, the function not ready), so
	// a retry cannot execute it twice.
	RetryClassSafe
	// RetryClassUnsafe: the function may have run (no response after the
	// request was sent, an unexplained server error). A retry may execute
	// it a second time; lambdafan retries these only when
	// [Config.RetryUnsafe] is set.
	RetryClassUnsafe
)

// String returns "no", "safe" or "unsafe".
func (r RetryClass) String() string {
	switch r {
	case RetryClassSafe:
		return "safe"
	case RetryClassUnsafe:
		return "unsafe"
	default:
		return "no"
	}
}

// NotExecutedErrorTypes returns the Invoke API error types that Lambda
// returns before the function runs and that can clear up on their own:
// throttles, a function that is still being created or updated, and
// transient VPC or file-system set-up failures (those are attached before
// the handler runs). [ClassifyRetry] retries them as [RetryClassSafe], as it
// does every HTTP 429.
//
// It is the one list of what lambdafan retries without risk of running a
// function twice; anything that retries on lambdafan's behalf elsewhere
// (the Step Functions state machine of `lambdafan invoke --via
// stepfunctions`) takes it from here. Each call returns a new slice.
func NotExecutedErrorTypes() []string {
	return []string{
		"TooManyRequestsException",
		"ResourceConflictException",
		"ResourceNotReadyException",
		"SnapStartNotReadyException",
		"CodeArtifactUserPendingException",
		"EC2ThrottledException",
		"EC2UnexpectedException",
		"ENILimitReachedException",
		"SubnetIPAddressLimitReachedException",
		"EFSMountConnectivityException",
		"EFSMountTimeoutException",
		"SnapStartTimeoutException",
	}
}

// notExecutedErrorType reports whether t is one of NotExecutedErrorTypes.
// It is consulted only for failed attempts, so the list it builds costs
// nothing on the path of a successful invocation.
func notExecutedErrorType(t string) bool {
	return slices.Contains(NotExecutedErrorTypes(), t)
}

// ClassifyRetry says whether a failed attempt of an invocation of type t may
// be retried, and whether doing so could run the function twice.
//
// It does not say when: lambdafan waits an exponential backoff with full
// jitter between [Config.BaseBackoff] and [Config.MaxBackoff], or longer
// when Lambda's Retry-After asks for it ([InvokeError.RetryAfter]), but
// never longer than Config.MaxBackoff.
func ClassifyRetry(err error, t InvocationType) RetryClass {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, ErrCredentials) {
		return RetryClassNever
	}
	var ie *InvokeError
	if errors.As(err, &ie) {
		switch {
		case ie.StatusCode < 400:
			return RetryClassNever // a redirect, not followed: it would come again
		case ie.StatusCode == 429 || notExecutedErrorType(ie.Type):
			return RetryClassSafe
		case ie.StatusCode >= 500:
			// ServiceException and unexplained 5xx: the function may
			// have run, except for DryRun, which never runs it.
			return unsafeUnlessDryRun(t)
		default:
			return RetryClassNever
		}
	}
	if errors.Is(err, ErrResponseTooLarge) || errors.Is(err, ErrPayloadWrite) {
		// The function ran, and would answer the same again; or its answer
		// came but could not be stored, which a second run cannot help.
		return RetryClassNever
	}
	var te *TransportError
	if errors.As(err, &te) {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return RetryClassNever // the host does not exist: retrying cannot help
		}
		if tlsRefused(err) {
			return RetryClassNever // the same certificate would fail the same way
		}
		if !te.Sent {
			return RetryClassSafe
		}
		return unsafeUnlessDryRun(t)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return unsafeUnlessDryRun(t)
	}
	return RetryClassNever
}

// tlsRefused reports a TLS failure that a retry would meet again: the
// server's certificate failed verification (unknown authority, wrong host
// name, expired, no usable roots), or the server does not speak TLS.
func tlsRefused(err error) bool {
	var (
		verification     *tls.CertificateVerificationError
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		invalid          x509.CertificateInvalidError
		systemRoots      x509.SystemRootsError
		insecure         x509.InsecureAlgorithmError
		notTLS           tls.RecordHeaderError
	)
	return errors.As(err, &verification) ||
		errors.As(err, &unknownAuthority) ||
		errors.As(err, &hostname) ||
		errors.As(err, &invalid) ||
		errors.As(err, &systemRoots) ||
		errors.As(err, &insecure) ||
		errors.As(err, &notTLS)
}

func unsafeUnlessDryRun(t InvocationType) RetryClass {
	if t == DryRun {
		return RetryClassSafe
	}
	return RetryClassUnsafe
}

// retryPolicy decides whether and when to retry: exponential backoff with
// full jitter, honouring the service's Retry-After up to the maximum
// backoff, bounded by attempts and by the invocation's total time.
type retryPolicy struct {
	maxAttempts int
	base, max   time.Duration
	maxTime     time.Duration // 0: unbounded
	unsafe      bool          // also retry failures that may have run the function
}

func (p *retryPolicy) setDefaults() {
	if p.maxAttempts == 0 {
		p.maxAttempts = DefaultMaxAttempts
	}
	if p.base == 0 {
		p.base = DefaultBaseBackoff
	}
	if p.max == 0 {
		p.max = DefaultMaxBackoff
	}
}

// next returns how long to wait before the next attempt, or ok=false when
// the failed attempt (number attempts, counting from 1) is final. elapsed is
// the invocation's time so far.
func (p *retryPolicy) next(err error, t InvocationType, attempts int, elapsed time.Duration) (wait time.Duration, ok bool) {
	if attempts >= p.maxAttempts {
		return 0, false
	}
	switch ClassifyRetry(err, t) {
	case RetryClassSafe:
	case RetryClassUnsafe:
		if !p.unsafe {
			return 0, false
		}
	default:
		return 0, false
	}
	wait = p.backoff(attempts)
	var ie *InvokeError
	if errors.As(err, &ie) && ie.RetryAfter > wait {
		// Honour the service's wait, up to the longest backoff: a
		// Retry-After of a day would otherwise hold the request a day.
		wait = min(ie.RetryAfter, p.max)
	}
	if p.maxTime > 0 && elapsed+wait >= p.maxTime {
		return 0, false
	}
	return wait, true
}

// backoff draws the wait after the given number of failed attempts
// uniformly from [0, min(max, base·2^(attempts-1))).
func (p *retryPolicy) backoff(attempts int) time.Duration {
	ceiling := p.max
	if shift := attempts - 1; shift < 30 && p.base<<shift < p.max {
		ceiling = p.base << shift
	}
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}
