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

	"github.com/lambdafan/lambdafan/internal/lambdaapi"
	"github.com/lambdafan/lambdafan/internal/transport"
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

// New returns a Client for cfg. It does no I/O: credentials are fetched
// lazily, on the first invocation, from cfg.AWS.Credentials.
func New(cfg Config) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	awsCfg := &cfg.AWS
	applySDKEndpointSettings(*awsCfg, &cfg)
	if awsCfg.Region != "" {
		if err := lambdaapi.CheckRegion(awsCfg.Region); err != nil {
			return nil, fmt.Errorf("default region: %w", err)
		}
	}
	if awsCfg.Credentials == nil {
		return nil, errors.New("no AWS credentials provider: Config.AWS.Credentials is nil")
	}
	cfg.Concurrency = cmp.Or(cfg.Concurrency, DefaultConcurrency)
	if cfg.MinConcurrency > cfg.Concurrency {
		return nil, fmt.Errorf("min concurrency %d is above the concurrency %d", cfg.MinConcurrency, cfg.Concurrency)
	}
	c := &Client{
		region:         awsCfg.Region,
		credentials:    awsCfg.Credentials,
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
		c.http = transport.WithoutRedirects(cfg.HTTPClient)
	} else {
		c.http = transport.NewClient(c.concurrency, sdkRootCAs(awsCfg))
	}
	if cfg.EndpointURL != "" {
		if err := checkEndpointURL(cfg.EndpointURL, cfg.AllowInsecureEndpoint); err != nil {
			return nil, err
		}
		// Resolve once now so a malformed URL is a configuration error,
		// not one error per request.
		if _, err := c.endpoints.resolve(context.Background(), cmp.Or(c.region, "us-east-1")); err != nil {
			return nil, fmt.Errorf("endpoint URL: %w", err)
		}
	}
	return c, nil
}

// NewDefault loads the AWS SDK's default configuration into cfg.AWS —
// config.LoadDefaultConfig with optFns: the full credential chain
// (environment, shared profiles, SSO, web identity, container and instance
// roles), cached and refreshed, the region, a CA bundle — and returns
// New(cfg). Loading may read files and environment variables; credentials
// themselves are fetched on the first invocation.
func NewDefault(ctx context.Context, cfg Config, optFns ...func(*config.LoadOptions) error) (*Client, error) {
	awsCfg, err := config.LoadDefaultConfig(ctx, optFns...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	cfg.AWS = awsCfg
	return New(cfg)
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
