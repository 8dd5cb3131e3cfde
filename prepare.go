package lambdafan

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// prepared is a validated request, ready to be signed and sent any number
// of times. Everything that does not change between attempts — the URL, the
// body and its hash, the headers' values — is computed once here.
type prepared struct {
	region         string
	function       string   // the function's own name: what Lambda throttles by
	url            *url.URL // copied per attempt: signing rewrites RawQuery
	host           string
	body           []byte
	payloadHash    string
	invocationType InvocationType
	logType        LogType
	clientContext  string // base64, or ""
	stream         bool   // InvokeWithResponseStream
	// payloadWriter is Request.PayloadWriter.
	payloadWriter func(Result) (io.Writer, error)
}

// prepare validates req and builds its prepared form. Its errors are
// *RequestError values naming the offending field, except for endpoint
// resolution failures.
//
// Fan-outs send many requests to few functions, so everything that
// depends only on the function name, qualifier and region — parsing and
// checking them, the endpoint, the escaped URL — is cached per client
// (see routeCache); per request there remains the payload, hashed once for
// all attempts. The checks are [Validate]'s, run in the same order with or
// without the cache, so a request with several problems reports the same
// one.
func (c *Client) prepare(ctx context.Context, req *Request) (*prepared, error) {
	key := routeKey{functionName: req.FunctionName, qualifier: req.Qualifier, region: req.Region, stream: req.ResponseStream}
	rt, cached := c.endpoints.routes.load(key)
	ck, err := check(req, c.region, rt)
	if err != nil {
		return nil, err
	}
	p := &prepared{
		region:         ck.region,
		invocationType: req.InvocationType.orDefault(),
		logType:        req.LogType,
		body:           ck.body,
		clientContext:  ck.clientContext,
		stream:         req.ResponseStream,
		payloadWriter:  req.PayloadWriter,
	}
	sum := sha256.Sum256(p.body)
	p.payloadHash = hex.EncodeToString(sum[:])

	if !cached {
		ep, err := c.endpoints.resolve(ctx, p.region)
		if err != nil {
			return nil, fmt.Errorf("region %s: %w", p.region, err)
		}
		rt = &route{
			region:   p.region,
			function: ck.function,
			host:     ep.host,
		}
		if req.ResponseStream {
			rt.url = ep.invokeStreamURL(lambdaapi.EscapePathSegment(req.FunctionName), ck.qualifier)
		} else {
			rt.url = ep.invokeURL(lambdaapi.EscapePathSegment(req.FunctionName), ck.qualifier)
		}
		c.endpoints.routes.store(key, rt)
	}
	p.function, p.host, p.url = rt.function, rt.host, rt.url
	return p, nil
}

// Validate checks req as a [Client] checks every request before sending
// it, offline (no credentials, no network): the function name, the
// invocation and log types, the qualifier (and that it agrees with one in
// the function name), the region (req's, its ARN's, or else
// defaultRegion, as [Client.Region]; it must be an AWS region and agree
// with the ARN's), the payload (it must encode, and fit the limit of its
// invocation type) and the client context (a JSON object within
// [MaxClientContextBytes] once base64-encoded). It returns nil, or the
// *[RequestError] naming the first offending field, which is the error
// the client's Result would carry. A request that passes may still fail
// once sent: the function may not exist, or the caller may not invoke it.
func Validate(req Request, defaultRegion string) error {
	_, err := check(&req, defaultRegion, nil)
	return err
}

// checked is what the checks of a request computed on the way: the
// values to send.
type checked struct {
	region        string
	function      string // the function's own name, without qualifier or ARN
	qualifier     string // to send in the query string: "" when the name carries it
	body          []byte
	clientContext string // base64, or ""
}

// check runs Validate's checks on req. rt, when not nil, is the cached
// route of req's function name, qualifier and region: routes are cached
// only once their checks passed, so those are skipped, and ck's function
// and qualifier are left empty (the route has what they give).
func check(req *Request, defaultRegion string, rt *route) (ck checked, err error) {
	var fn lambdaapi.Name
	if rt == nil {
		if fn, err = lambdaapi.Parse(req.FunctionName); err != nil {
			return ck, &RequestError{Field: "function_name", Err: err}
		}
	}
	if !req.InvocationType.Valid() {
		return ck, invalid("invocation_type", "%q is not one of RequestResponse, Event, DryRun", req.InvocationType)
	}
	if !req.LogType.Valid() {
		return ck, invalid("log_type", "%q is not one of None, Tail", req.LogType)
	}
	if req.ResponseStream && req.InvocationType.orDefault() == Event {
		return ck, invalid("invocation_type", "Event cannot stream its response: a response stream is RequestResponse or DryRun")
	}
	if rt != nil {
		ck.region = rt.region
	} else {
		if ck.qualifier, ck.region, err = checkRoute(fn, req, defaultRegion); err != nil {
			return ck, err
		}
		ck.function = fn.Function
	}

	if ck.body, err = encodeJSONValue("payload", req.Payload); err != nil {
		return ck, err
	}
	limit := MaxSyncPayloadBytes
	if t := req.InvocationType.orDefault(); t == Event {
		limit = MaxAsyncPayloadBytes
	}
	if len(ck.body) > limit {
		return ck, invalid("payload", "%d bytes, more than the %d-byte limit for %s invocations", len(ck.body), limit, req.InvocationType.orDefault())
	}

	if req.ClientContext != nil {
		cc, err := encodeJSONValue("client_context", req.ClientContext)
		if err != nil {
			return ck, err
		}
		if !isJSONObject(cc) {
			return ck, invalid("client_context", "must be a JSON object")
		}
		ck.clientContext = base64.StdEncoding.EncodeToString(cc)
		if len(ck.clientContext) > MaxClientContextBytes {
			return ck, invalid("client_context", "%d bytes once base64-encoded, more than the %d-byte limit", len(ck.clientContext), MaxClientContextBytes)
		}
	}
	return ck, nil
}

// checkRoute checks req's qualifier and region against its parsed function
// name and returns the qualifier to send in the query string ("" when the
// name already carries it) and the region to invoke in: req's, the ARN's,
// or else defaultRegion.
func checkRoute(fn lambdaapi.Name, req *Request, defaultRegion string) (qualifier, region string, err error) {
	qualifier = req.Qualifier
	if qualifier != "" {
		if err := lambdaapi.CheckQualifier(qualifier); err != nil {
			return "", "", &RequestError{Field: "qualifier", Err: err}
		}
		if fn.Qualifier != "" && fn.Qualifier != qualifier {
			return "", "", invalid("qualifier", "%q contradicts the qualifier %q in function_name %q", qualifier, fn.Qualifier, req.FunctionName)
		}
		if fn.Qualifier == qualifier {
			qualifier = "" // already in the path; sending it twice adds nothing
		}
	}

	switch {
	case req.Region != "":
		if err := lambdaapi.CheckRegion(req.Region); err != nil {
			return "", "", &RequestError{Field: "region", Err: err}
		}
		if fn.Region != "" && fn.Region != req.Region {
			return "", "", invalid("region", "%q contradicts the region %q of function ARN %q (Lambda cannot invoke across regions)", req.Region, fn.Region, req.FunctionName)
		}
		return qualifier, req.Region, nil
	case fn.Region != "":
		return qualifier, fn.Region, nil
	case defaultRegion != "":
		// A client's default region was checked by New; Validate's
		// caller may pass anything.
		if err := lambdaapi.CheckRegion(defaultRegion); err != nil {
			return "", "", &RequestError{Field: "region", Err: fmt.Errorf("default region: %w", err)}
		}
		return qualifier, defaultRegion, nil
	}
	return "", "", invalid("region", "no region: set the request's region, use a function ARN, or configure a default region (--region, AWS_REGION or the profile's region)")
}

// routeKey is what a route depends on besides the client's settings.
type routeKey struct {
	functionName, qualifier, region string
	stream                          bool // the InvokeWithResponseStream URL
}

// route is the checked, resolved destination of a function name: what
// every request to it shares.
type route struct {
	region   string
	function string   // the function's own name: what Lambda throttles by
	host     string   // the Host header
	url      *url.URL // never modified: attempts copy it
}

// maxRoutes bounds routeCache: a run over more distinct function names
// than this (rare: fan-outs target few functions) computes the rest per
// request, as if uncached.
const maxRoutes = 4096

// routeCache remembers the routes of valid function names. It is safe for
// concurrent use.
type routeCache struct {
	m sync.Map // routeKey → *route
	n atomic.Int32
}

func (rc *routeCache) load(k routeKey) (*route, bool) {
	v, ok := rc.m.Load(k)
	if !ok {
		return nil, false
	}
	return v.(*route), true
}

func (rc *routeCache) store(k routeKey, rt *route) {
	if rc.n.Load() >= maxRoutes {
		return
	}
	if _, loaded := rc.m.LoadOrStore(k, rt); !loaded {
		rc.n.Add(1)
	}
}
