package lambdafan

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lambdafan/lambdafan/internal/fnname"
)

// Client invokes Lambda functions. It is safe for concurrent use; create one
// per process and reuse it so its connection pool is shared.
type Client struct {
	region         string
	credentials    aws.CredentialsProvider
	endpoints      *endpointResolver
	signer         *v4.Signer
	http           *http.Client
	concurrency    int
	attemptTimeout time.Duration
	retry          retryPolicy
	admission      *admission
	log            *slog.Logger
	now            func() time.Time
	headers        headerValues
}

// New returns a Client for cfg. When cfg.AWS is nil it loads the AWS SDK's
// default configuration (which may read files and environment variables;
// credentials themselves are fetched lazily, on the first invocation).
func New(ctx context.Context, cfg Config) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	awsCfg := cfg.AWS
	if awsCfg == nil {
		var opts []func(*config.LoadOptions) error
		if cfg.Profile != "" {
			opts = append(opts, config.WithSharedConfigProfile(cfg.Profile))
		}
		loaded, err := config.LoadDefaultConfig(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("load AWS configuration: %w", err)
		}
		awsCfg = &loaded
	}
	applySDKEndpointSettings(*awsCfg, &cfg)
	cfg.Region = cmp.Or(cfg.Region, awsCfg.Region)
	if cfg.Region != "" {
		if err := fnname.CheckRegion(cfg.Region); err != nil {
			return nil, fmt.Errorf("default region: %w", err)
		}
	}
	if cfg.Credentials == nil {
		cfg.Credentials = awsCfg.Credentials
	}
	if cfg.Credentials == nil {
		return nil, errors.New("no AWS credentials provider: the AWS config has none and Config.Credentials is nil")
	}
	cfg.Concurrency = cmp.Or(cfg.Concurrency, DefaultConcurrency)
	if cfg.MinConcurrency > cfg.Concurrency {
		return nil, fmt.Errorf("min concurrency %d is above the concurrency %d", cfg.MinConcurrency, cfg.Concurrency)
	}
	c := &Client{
		region:         cfg.Region,
		credentials:    cfg.Credentials,
		concurrency:    cfg.Concurrency,
		attemptTimeout: cmp.Or(cfg.AttemptTimeout, DefaultAttemptTimeout),
		log:            cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler)),
		signer:         v4.NewSigner(),
		now:            time.Now,
		headers:        newHeaderValues(),
		admission:      newAdmission(cfg.MinConcurrency, cfg.Concurrency, cfg.Rate),
		endpoints:      newEndpointResolver(cfg.EndpointURL, cfg.UseFIPS, cfg.UseDualStack),
		retry: retryPolicy{
			maxAttempts: cfg.MaxAttempts,
			base:        cfg.BaseBackoff,
			max:         cfg.MaxBackoff,
			maxTime:     cfg.MaxTime,
			unsafe:      cfg.RetryUnsafe,
		},
	}
	c.retry.setDefaults()
	if cfg.HTTPClient != nil {
		c.http = withoutRedirects(cfg.HTTPClient)
	} else {
		c.http = newHTTPClient(awsCfg, c.concurrency)
	}
	if cfg.EndpointURL != "" {
		if err := checkEndpointURL(cfg.EndpointURL, cfg.AllowInsecureEndpoint); err != nil {
			return nil, err
		}
		// Resolve once now so a malformed URL is a configuration error,
		// not one error per request.
		if _, err := c.endpoints.resolve(ctx, cmp.Or(c.region, "us-east-1")); err != nil {
			return nil, fmt.Errorf("endpoint URL: %w", err)
		}
	}
	return c, nil
}

// CloseIdleConnections closes the connections the client keeps open for
// reuse, as http.Client.CloseIdleConnections does. The client stays usable.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// Invoke sends one request, retrying failures that certainly did not run
// the function, and returns its result. It waits for the client's rate cap
// and adaptive limits like every invocation, but its concurrency is the
// caller's: Config.Concurrency governs InvokeAll and Stream.
func (c *Client) Invoke(ctx context.Context, req Request) Result {
	return c.invoke(ctx, nil, 0, &req)
}

// applySDKEndpointSettings fills in the endpoint settings the AWS config
// carries for Lambda, resolved exactly as the SDK's own Lambda client
// resolves them: AWS_ENDPOINT_URL_LAMBDA, AWS_ENDPOINT_URL, a profile's
// services section or endpoint_url (unless ignore_configured_endpoints),
// BaseEndpoint, and the FIPS and dual-stack switches. Explicit Config
// fields win.
func applySDKEndpointSettings(awsCfg aws.Config, cfg *Config) {
	opts := lambda.NewFromConfig(awsCfg).Options()
	if cfg.EndpointURL == "" && opts.BaseEndpoint != nil {
		cfg.EndpointURL = *opts.BaseEndpoint
	}
	if opts.EndpointOptions.UseFIPSEndpoint == aws.FIPSEndpointStateEnabled {
		cfg.UseFIPS = true
	}
	if opts.EndpointOptions.UseDualStackEndpoint == aws.DualStackEndpointStateEnabled {
		cfg.UseDualStack = true
	}
}
