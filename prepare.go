package lambdafan

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"github.com/lambdafan/lambdafan/internal/fnname"
	"net/url"
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
}

// prepare validates req and builds its prepared form. Its errors are
// *RequestError values naming the offending field, except for endpoint
// resolution failures.
func (c *Client) prepare(ctx context.Context, req *Request) (*prepared, error) {
	fn, err := fnname.Parse(req.FunctionName)
	if err != nil {
		return nil, &RequestError{Field: "function_name", Err: err}
	}
	if !req.InvocationType.Valid() {
		return nil, invalid("invocation_type", "%q is not one of RequestResponse, Event, DryRun", req.InvocationType)
	}
	if !req.LogType.Valid() {
		return nil, invalid("log_type", "%q is not one of None, Tail", req.LogType)
	}
	p := &prepared{function: fn.Function, invocationType: req.InvocationType.orDefault(), logType: req.LogType}

	qualifier := req.Qualifier
	if qualifier != "" {
		if err := fnname.CheckQualifier(qualifier); err != nil {
			return nil, &RequestError{Field: "qualifier", Err: err}
		}
		if fn.Qualifier != "" && fn.Qualifier != qualifier {
			return nil, invalid("qualifier", "%q contradicts the qualifier %q in function_name %q", qualifier, fn.Qualifier, req.FunctionName)
		}
		if fn.Qualifier == qualifier {
			qualifier = "" // already in the path; sending it twice adds nothing
		}
	}

	switch {
	case req.Region != "":
		if err := fnname.CheckRegion(req.Region); err != nil {
			return nil, &RequestError{Field: "region", Err: err}
		}
		if fn.Region != "" && fn.Region != req.Region {
			return nil, invalid("region", "%q contradicts the region %q of function ARN %q (Lambda cannot invoke across regions)", req.Region, fn.Region, req.FunctionName)
		}
		p.region = req.Region
	case fn.Region != "":
		p.region = fn.Region
	case c.region != "":
		p.region = c.region
	default:
		return nil, invalid("region", "no region: set the request's region, use a function ARN, or configure a default region (--region, AWS_REGION or the profile's region)")
	}

	body, err := encodeJSONValue("payload", req.Payload)
	if err != nil {
		return nil, err
	}
	limit := MaxSyncPayloadBytes
	if p.invocationType == Event {
		limit = MaxAsyncPayloadBytes
	}
	if len(body) > limit {
		return nil, invalid("payload", "%d bytes, more than the %d-byte limit for %s invocations", len(body), limit, p.invocationType)
	}
	p.body = body
	sum := sha256.Sum256(body)
	p.payloadHash = hex.EncodeToString(sum[:])

	if req.ClientContext != nil {
		cc, err := encodeJSONValue("client_context", req.ClientContext)
		if err != nil {
			return nil, err
		}
		if !isJSONObject(cc) {
			return nil, invalid("client_context", "must be a JSON object")
		}
		p.clientContext = base64.StdEncoding.EncodeToString(cc)
		if len(p.clientContext) > MaxClientContextBytes {
			return nil, invalid("client_context", "%d bytes once base64-encoded, more than the %d-byte limit", len(p.clientContext), MaxClientContextBytes)
		}
	}

	ep, err := c.endpoints.resolve(ctx, p.region)
	if err != nil {
		return nil, fmt.Errorf("region %s: %w", p.region, err)
	}
	p.host = ep.host
	p.url = ep.invokeURL(fnname.EscapePathSegment(req.FunctionName), qualifier)
	return p, nil
}
