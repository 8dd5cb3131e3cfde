package lambdafan

import (
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Defaults used when a Config field is left at its zero value.
const (
	// DefaultConcurrency is the number of invocations in flight at once.
	DefaultConcurrency = 64
	// DefaultAttemptTimeout bounds one HTTP attempt: Lambda's 15-minute
	// maximum function timeout plus a margin, so a long synchronous
	// invocation is never cut off (and re-sent) by the client.
	DefaultAttemptTimeout = 15*time.Minute + 30*time.Second
	// DefaultMaxAttempts is the number of HTTP attempts made for one
	// request when retries are safe (see [Config.MaxAttempts]).
	DefaultMaxAttempts = 10
	// DefaultBaseBackoff is the first retry's maximum wait; each later
	// retry doubles it, up to DefaultMaxBackoff. Waits are drawn uniformly
	// below the cap ("full jitter").
	DefaultBaseBackoff = 100 * time.Millisecond
	// DefaultMaxBackoff caps a single retry wait, including one that
	// Lambda's Retry-After asks for.
	DefaultMaxBackoff = 20 * time.Second
)

// MaxConcurrency is the largest Concurrency [New] accepts. A process
// keeping more invocations in flight spends more on their goroutines,
// connections and buffers than it gains: split such a run over several
// processes (or machines) instead.
const MaxConcurrency = 100_000

// Config configures a [Client]. It is passed by value to [New]; the zero
// value of each field selects the documented default.
type Config struct {
	// AWS is the AWS SDK configuration: it supplies the credentials
	// (AWS.Credentials, required), the default region for requests that
	// name none (AWS.Region), any custom CA bundle, and the endpoint
	// settings the SDK's Lambda client would read. Build it with
	// config.LoadDefaultConfig and its options (a profile, a region,
	// static credentials), or by hand; [NewDefault] loads the default one.
	AWS aws.Config

	// EndpointURL overrides the endpoint host for every region, e.g.
	// "http://127.0.0.1:9001" for a local emulator. Requests are still
	// signed for their own region. Empty means what the AWS config sets
	// for Lambda, as the SDK's Lambda client reads it
	// (AWS_ENDPOINT_URL_LAMBDA, AWS_ENDPOINT_URL, the profile's
	// endpoint_url or services section, aws.Config.BaseEndpoint), or else
	// the Lambda endpoint rules.
	EndpointURL string
	// AllowInsecureEndpoint permits a plain-http EndpointURL whose host is
	// not a loopback address. Without it such a URL is a configuration
	// error: requests would cross the network unencrypted.
	AllowInsecureEndpoint bool
	// UseFIPS selects FIPS endpoints (lambda-fips.REGION…). It is also
	// turned on by the AWS config (AWS_USE_FIPS_ENDPOINT, use_fips_endpoint).
	UseFIPS bool
	// UseDualStack selects dual-stack (IPv4 and IPv6) endpoints. It is also
	// turned on by the AWS config (AWS_USE_DUALSTACK_ENDPOINT).
	UseDualStack bool

	// Concurrency is the maximum number of invocations in flight, at most
	// MaxConcurrency. 0 means DefaultConcurrency.
	Concurrency int
	// MinConcurrency is the floor of the adaptive limits: when Lambda
	// throttles, lambdafan lowers the in-flight limit of the function (or
	// of the region, for account-level throttles) towards it, then raises
	// it again, up to Concurrency, as requests succeed. 0 means 1.
	MinConcurrency int
	// Rate caps the attempts started per second across the client; up to
	// 10 ms worth of them (at least one) may start at once. 0 means no
	// cap.
	Rate float64

	// AttemptTimeout bounds one HTTP attempt, from sending the request to
	// reading the whole response. 0 means DefaultAttemptTimeout.
	AttemptTimeout time.Duration

	// MaxTime bounds one invocation's total time across all its attempts
	// and retry waits. A retry whose wait would end past it is not made.
	// 0 means no bound beyond MaxAttempts.
	MaxTime time.Duration

	// MaxAttempts bounds the HTTP attempts for one request, first attempt
	// included; 1 disables retries. 0 means DefaultMaxAttempts. Only
	// failures that certainly did not run the function are retried (see
	// [ClassifyRetry]) unless RetryUnsafe is set.
	MaxAttempts int
	// RetryUnsafe also retries failures after which the function may have
	// run (a timeout or dropped connection after the request was sent, an
	// unexplained 5xx), accepting that a synchronous function may then
	// execute more than once.
	RetryUnsafe bool
	// BaseBackoff and MaxBackoff shape the exponential retry waits. 0 means
	// DefaultBaseBackoff and DefaultMaxBackoff. MaxBackoff also caps the
	// wait a Retry-After header asks for: a longer one is cut to
	// MaxBackoff, so that a misbehaving endpoint cannot hold a request
	// (asking for a day, say) beyond it.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration

	// HTTPClient sends the requests. Nil means a client built for fan-out:
	// one connection pool sized to Concurrency, no overall timeout, the
	// AWS config's CA bundle trusted. Redirects are never followed,
	// whatever the client's CheckRedirect: lambdafan uses a shallow copy
	// of it that returns a redirect as the answer (an *InvokeError with
	// the 3xx status, not retried); HTTPClient itself is not modified.
	HTTPClient *http.Client

	// Logger receives debug records about retries. Nil discards them.
	// Records never contain credentials or signatures.
	Logger *slog.Logger
}

// validate rejects settings that make no sense, whatever the defaults.
func (cfg *Config) validate() error {
	switch {
	case cfg.Concurrency < 0:
		return fmt.Errorf("concurrency must be at least 1, got %d", cfg.Concurrency)
	case cfg.Concurrency > MaxConcurrency:
		return fmt.Errorf("concurrency %d is above the maximum %d: split the run over several processes", cfg.Concurrency, MaxConcurrency)
	case cfg.MinConcurrency < 0:
		return fmt.Errorf("min concurrency must not be negative, got %d", cfg.MinConcurrency)
	case cfg.MaxAttempts < 0:
		return fmt.Errorf("max attempts must be at least 1, got %d", cfg.MaxAttempts)
	case cfg.Rate < 0 || math.IsNaN(cfg.Rate):
		return fmt.Errorf("rate must be a number of requests per second, at least 0, got %v", cfg.Rate)
	case cfg.AttemptTimeout < 0 || cfg.MaxTime < 0 || cfg.BaseBackoff < 0 || cfg.MaxBackoff < 0:
		return fmt.Errorf("timeouts and backoffs must not be negative")
	}
	return nil
}
