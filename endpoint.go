package lambdafan

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lambdafan/lambdafan/internal/lambdaapi"
	"github.com/lambdafan/lambdafan/internal/redact"
)

// endpoint is where requests for one region go.
type endpoint struct {
	scheme   string
	host     string
	basePath string // the endpoint URL's path, without a trailing slash
}

// endpointResolver maps regions to endpoints with the Lambda service's own
// endpoint rules (lambda.EndpointResolverV2), caching each region's answer.
// It is safe for concurrent use.
type endpointResolver struct {
	rules     lambda.EndpointResolverV2
	override  string // custom endpoint URL, or ""
	fips      bool
	dualStack bool
	cache     sync.Map // region → *endpoint
	routes    routeCache
}

func newEndpointResolver(override string, fips, dualStack bool) *endpointResolver {
	return &endpointResolver{
		rules:     lambda.NewDefaultEndpointResolverV2(),
		override:  override,
		fips:      fips,
		dualStack: dualStack,
	}
}

// resolve returns the endpoint for region.
func (r *endpointResolver) resolve(ctx context.Context, region string) (*endpoint, error) {
	if ep, ok := r.cache.Load(region); ok {
		return ep.(*endpoint), nil
	}
	params := lambda.EndpointParameters{
		Region:       aws.String(region),
		UseFIPS:      aws.Bool(r.fips),
		UseDualStack: aws.Bool(r.dualStack),
	}
	if r.override != "" {
		params.Endpoint = aws.String(r.override)
	}
	resolved, err := r.rules.ResolveEndpoint(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("resolve Lambda endpoint for region %s: %w", region, err)
	}
	ep, err := newEndpoint(resolved.URI)
	if err != nil {
		return nil, err
	}
	actual, _ := r.cache.LoadOrStore(region, ep)
	return actual.(*endpoint), nil
}

func newEndpoint(u url.URL) (*endpoint, error) {
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("endpoint %s: scheme must be http or https", u.Redacted())
	}
	if u.Host == "" {
		return nil, fmt.Errorf("endpoint %s: no host", u.Redacted())
	}
	return &endpoint{scheme: u.Scheme, host: u.Host, basePath: strings.TrimSuffix(u.EscapedPath(), "/")}, nil
}

// The paths of the two invoke operations, around the escaped function
// name.
const (
	invokePath       = lambdaapi.FunctionsPath + "/"
	invokeSuffix     = "/" + lambdaapi.InvocationsSegment
	invokeStreamPath = lambdaapi.StreamFunctionsPath + "/"
	// invokeStreamSuffix is InvokeWithResponseStream's.
	invokeStreamSuffix = "/" + lambdaapi.StreamInvocationsSegment
)

// invokeURL builds the Invoke API URL for an already escaped function name
// and qualifier. Path and RawPath are both set so that the signer and the
// wire see exactly the same escaped path.
func (ep *endpoint) invokeURL(escapedName, qualifier string) *url.URL {
	return ep.functionURL(invokePath, escapedName, invokeSuffix, qualifier)
}

// invokeStreamURL builds the InvokeWithResponseStream URL, as invokeURL
// builds Invoke's.
func (ep *endpoint) invokeStreamURL(escapedName, qualifier string) *url.URL {
	return ep.functionURL(invokeStreamPath, escapedName, invokeStreamSuffix, qualifier)
}

func (ep *endpoint) functionURL(prefix, escapedName, suffix, qualifier string) *url.URL {
	raw := ep.basePath + prefix + escapedName + suffix
	path, _ := url.PathUnescape(raw) // raw was built from valid escapes
	u := &url.URL{Scheme: ep.scheme, Host: ep.host, Path: path, RawPath: raw}
	if qualifier != "" {
		u.RawQuery = lambdaapi.QualifierParam + "=" + lambdaapi.EscapePathSegment(qualifier)
	}
	return u
}

// checkEndpointURL refuses a plain-http endpoint off loopback unless
// allowed: SigV4 protects integrity, not confidentiality, so payloads and
// results would travel in the clear.
func checkEndpointURL(raw string, allowInsecure bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return endpointParseError(raw, err)
	}
	if u.Scheme != "http" || allowInsecure {
		return nil
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("endpoint URL %s is plain http to a host that is not loopback; use https, or allow it explicitly (--allow-insecure-endpoint)", u.Redacted())
}

// endpointParseError reports an endpoint URL that does not parse without
// repeating a password it holds: the URL is shown masked (redact.URL), and
// url.Parse's own message, which quotes the URL and may quote part of the
// password on its own ("invalid port \":s3c\" after host"), is left out
// when the URL has one.
func endpointParseError(raw string, err error) error {
	shown := redact.URL(raw)
	if shown != raw {
		return fmt.Errorf("endpoint URL %q does not parse (the details would quote its password)", shown)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the cause, without the URL again
	}
	return fmt.Errorf("endpoint URL %q: %w", raw, err)
}
