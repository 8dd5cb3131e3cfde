package lambdafan

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestClassifyRetry(t *testing.T) {
	tests := []struct {
		err  error
		typ  InvocationType
		want RetryClass
	}{
		{&InvokeError{StatusCode: 429, Type: "TooManyRequestsException"}, RequestResponse, RetryClassSafe},
		{&InvokeError{StatusCode: 502, Type: "EC2ThrottledException"}, RequestResponse, RetryClassSafe},
		{&InvokeError{StatusCode: 409, Type: "ResourceConflictException"}, RequestResponse, RetryClassSafe},
		{&InvokeError{StatusCode: 502, Type: "KMSAccessDeniedException"}, RequestResponse, RetryClassUnsafe},
		{&InvokeError{StatusCode: 500, Type: "ServiceException"}, RequestResponse, RetryClassUnsafe},
		{&InvokeError{StatusCode: 500, Type: "ServiceException"}, Event, RetryClassUnsafe},
		{&InvokeError{StatusCode: 500, Type: "ServiceException"}, DryRun, RetryClassSafe},
		{&InvokeError{StatusCode: 503, Type: "UnknownError"}, RequestResponse, RetryClassUnsafe},
		{&InvokeError{StatusCode: 404, Type: "ResourceNotFoundException"}, RequestResponse, RetryClassNever},
		{&InvokeError{StatusCode: 403, Type: "InvalidSignatureException"}, RequestResponse, RetryClassNever},
		{&InvokeError{StatusCode: 307, Type: "UnknownError"}, RequestResponse, RetryClassNever},
		{&InvokeError{StatusCode: 302, Type: "TooManyRequestsException"}, DryRun, RetryClassNever},
		{&FunctionError{Kind: "Unhandled"}, RequestResponse, RetryClassNever},
		{&TransportError{Sent: false, Err: errors.New("refused")}, RequestResponse, RetryClassSafe},
		{&TransportError{Sent: false, Err: &net.DNSError{Err: "no such host", IsNotFound: true}}, RequestResponse, RetryClassNever},
		{&TransportError{Sent: false, Err: &net.DNSError{Err: "timeout", IsTimeout: true}}, RequestResponse, RetryClassSafe},
		{&TransportError{Sent: true, Err: context.DeadlineExceeded}, RequestResponse, RetryClassUnsafe},
		{&TransportError{Err: &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}}, RequestResponse, RetryClassNever},
		{&TransportError{Err: x509.HostnameError{Host: "h"}}, RequestResponse, RetryClassNever},
		{&TransportError{Err: x509.CertificateInvalidError{Reason: x509.Expired}}, DryRun, RetryClassNever},
		{&TransportError{Err: tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}}, RequestResponse, RetryClassNever},
		{&TransportError{Err: errors.New("tls: handshake timeout")}, RequestResponse, RetryClassSafe},
		{&TransportError{Sent: true, Err: context.DeadlineExceeded}, DryRun, RetryClassSafe},
		{&TransportError{Sent: true, Err: context.Canceled}, RequestResponse, RetryClassNever},
		{&TransportError{Sent: true, Err: fmt.Errorf("read response: %w", ErrResponseTooLarge)}, RequestResponse, RetryClassNever},
		{&TransportError{Sent: true, Err: ErrResponseTooLarge}, DryRun, RetryClassNever},
		{fmt.Errorf("%w: expired", ErrCredentials), RequestResponse, RetryClassNever},
		{&RequestError{Field: "payload"}, RequestResponse, RetryClassNever},
	}
	for _, tt := range tests {
		if got := ClassifyRetry(tt.err, tt.typ); got != tt.want {
			t.Errorf("ClassifyRetry(%v, %s) = %v, want %v", tt.err, tt.typ, got, tt.want)
		}
	}
}

func TestRetryPolicy_Next(t *testing.T) {
	p := retryPolicy{maxAttempts: 40, base: 100 * time.Millisecond, max: time.Second}
	throttle := &InvokeError{StatusCode: 429}
	// Full jitter: waits are drawn from [0, ceiling], the ceiling doubling
	// from base up to max. Of 200 uniform draws, none falls in the upper
	// or the lower half with probability 2⁻²⁰⁰, so the test checks the
	// ceiling itself, not only a bound a constant wait would meet.
	for _, tc := range []struct {
		attempt int
		ceiling time.Duration
	}{
		{1, 100 * time.Millisecond},
		{2, 200 * time.Millisecond},
		{3, 400 * time.Millisecond},
		{4, 800 * time.Millisecond},
		{5, time.Second}, // 1.6 s, capped
		{39, time.Second},
	} {
		lo, hi := time.Duration(math.MaxInt64), time.Duration(0)
		for range 200 {
			wait, ok := p.next(throttle, RequestResponse, tc.attempt, 0)
			if !ok || wait < 0 || wait > tc.ceiling {
				t.Fatalf("attempt %d: wait %v ok %v, want within [0, %v]", tc.attempt, wait, ok, tc.ceiling)
			}
			lo, hi = min(lo, wait), max(hi, wait)
		}
		if hi <= tc.ceiling/2 || lo >= tc.ceiling/2 {
			t.Errorf("attempt %d: 200 waits within [%v, %v], want them spread over [0, %v]", tc.attempt, lo, hi, tc.ceiling)
		}
	}
	if _, ok := p.next(throttle, RequestResponse, 40, 0); ok {
		t.Error("retried past maxAttempts")
	}
	withRetryAfter := &InvokeError{StatusCode: 429, RetryAfter: 3 * time.Second}
	p.max = 5 * time.Second
	if wait, ok := p.next(withRetryAfter, RequestResponse, 1, 0); !ok || wait != 3*time.Second {
		t.Errorf("Retry-After: wait %v ok %v, want 3s", wait, ok)
	}
	p.max = time.Second
	p.maxTime = 2 * time.Second
	if _, ok := p.next(withRetryAfter, RequestResponse, 1, 0); !ok {
		t.Error("did not retry although the Retry-After, capped at the maximum backoff, ends before maxTime")
	}
	p.max = 5 * time.Second
	if _, ok := p.next(withRetryAfter, RequestResponse, 1, 0); ok {
		t.Error("retried although the wait ends past maxTime")
	}
	if _, ok := p.next(&InvokeError{StatusCode: 500}, RequestResponse, 1, 0); ok {
		t.Error("retried an unsafe failure without opting in")
	}
	p.unsafe = true
	if _, ok := p.next(&InvokeError{StatusCode: 500}, RequestResponse, 1, 0); !ok {
		t.Error("did not retry an unsafe failure after opting in")
	}
}

// TestRetryPolicy_RetryAfterCapped: a Retry-After longer than the maximum
// backoff waits the maximum backoff, not a day.
func TestRetryPolicy_RetryAfterCapped(t *testing.T) {
	for _, maxBackoff := range []time.Duration{0, time.Second} {
		p := retryPolicy{max: maxBackoff}
		p.setDefaults()
		for _, retryAfter := range []time.Duration{24 * time.Hour, 86400 * time.Second, p.max + 1} {
			wait, ok := p.next(&InvokeError{StatusCode: 429, RetryAfter: retryAfter}, RequestResponse, 1, 0)
			if !ok || wait != p.max {
				t.Errorf("max backoff %v, Retry-After %v: wait %v ok %v, want %v", p.max, retryAfter, wait, ok, p.max)
			}
		}
	}
	// The value decoded from the header, in seconds or as an HTTP date.
	for _, header := range []string{"86400", time.Now().Add(48 * time.Hour).UTC().Format(http.TimeFormat)} {
		ie := decodeInvokeError(429, http.Header{"Retry-After": {header}}, nil, "", aws.Credentials{})
		p := retryPolicy{}
		p.setDefaults()
		if wait, ok := p.next(ie, RequestResponse, 1, 0); !ok || wait != DefaultMaxBackoff {
			t.Errorf("Retry-After: %s: wait %v ok %v, want %v", header, wait, ok, DefaultMaxBackoff)
		}
	}
}
