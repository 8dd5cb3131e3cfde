package emulator

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// authenticator verifies SigV4 signatures by signing the received request
// again, with the same credentials, time and signed headers, using the AWS
// SDK's signer, and comparing the signatures. It is safe for concurrent
// use.
type authenticator struct {
	creds   aws.Credentials
	signer  *v4.Signer
	now     func() time.Time
	scratch sync.Pool // of *signScratch
}

const amzDateFormat = "20060102T150405Z"

// sigV4 is the parsed Authorization header of a SigV4-signed request.
type sigV4 struct {
	accessKeyID   string
	date          string // yyyymmdd of the credential scope
	region        string
	service       string
	signedHeaders []string
	signature     string
}

// parseAuthorization parses
// "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b, Signature=hex".
func parseAuthorization(h string) (sigV4, *apiError) {
	var s sigV4
	alg, rest, ok := strings.Cut(h, " ")
	if !ok || alg != "AWS4-HMAC-SHA256" {
		return s, frontEndError(http.StatusForbidden, "IncompleteSignatureException",
			"Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization="+alg)
	}
	for part := range strings.SplitSeq(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			scope := strings.Split(v, "/")
			if len(scope) != 5 || scope[4] != "aws4_request" {
				return s, frontEndError(http.StatusForbidden, "IncompleteSignatureException",
					"Credential should be scoped to a valid region and service, not '"+v+"'")
			}
			s.accessKeyID, s.date, s.region, s.service = scope[0], scope[1], scope[2], scope[3]
		case "SignedHeaders":
			s.signedHeaders = strings.Split(v, ";")
		case "Signature":
			s.signature = v
		}
	}
	if s.accessKeyID == "" || s.signature == "" || len(s.signedHeaders) == 0 {
		return s, frontEndError(http.StatusForbidden, "IncompleteSignatureException",
			"Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters")
	}
	return s, nil
}

// checkHeaders runs every check of r's signature that needs no body:
// the Authorization header's form, the signing date and its skew, the
// credential scope (access key, region, service) and that the headers
// that must be signed are. It returns the parsed signature and its
// signing time for checkSignature. The checks follow the order of AWS's
// front end as dynalite documents it (a DynamoDB emulator built against
// the real service: date, then Host signed, then the credential scope,
// then the key).
func (a *authenticator) checkHeaders(r *http.Request) (sigV4, time.Time, *apiError) {
	authz := r.Header.Get("Authorization")
	if authz == "" {
		return sigV4{}, time.Time{}, frontEndError(http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token")
	}
	sig, aerr := parseAuthorization(authz)
	if aerr != nil {
		return sig, time.Time{}, aerr
	}
	amzDate := r.Header.Get("X-Amz-Date")
	signedAt, err := time.Parse(amzDateFormat, amzDate)
	if err != nil {
		return sig, time.Time{}, frontEndError(http.StatusForbidden, "IncompleteSignatureException",
			"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	now := a.now().UTC()
	switch {
	case signedAt.Before(now.Add(-MaxClockSkew)):
		return sig, signedAt, invalidSignature(
			"Signature expired: %s is now earlier than %s (%s - 5 min.)",
			amzDate, now.Add(-MaxClockSkew).Format(amzDateFormat), now.Format(amzDateFormat))
	case signedAt.After(now.Add(MaxClockSkew)):
		return sig, signedAt, invalidSignature(
			"Signature not yet current: %s is still later than %s (%s + 5 min.)",
			amzDate, now.Add(MaxClockSkew).Format(amzDateFormat), now.Format(amzDateFormat))
	}
	if aerr := checkSignedHeaders(r, sig.signedHeaders); aerr != nil {
		return sig, signedAt, aerr
	}
	switch {
	case !validRegion(sig.region):
		// Checked before anything is built from it: the region ends up in
		// ARNs and in what handlers see. The message is AWS's
		// ("Credential should be scoped to a valid region, not 'c'. ",
		// dynalite's record of DynamoDB's front end).
		return sig, signedAt, invalidSignature("Credential should be scoped to a valid region, not '%s'. ", sig.region)
	case sig.service != lambdaapi.SigningName:
		return sig, signedAt, invalidSignature("Credential should be scoped to correct service: '%s'. ", lambdaapi.SigningName)
	case sig.date != amzDate[:8]:
		return sig, signedAt, invalidSignature(
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			sig.date, amzDate[:8], amzDate)
	case sig.accessKeyID != a.creds.AccessKeyID:
		return sig, signedAt, frontEndError(http.StatusForbidden, "UnrecognizedClientException", "The security token included in the request is invalid.")
	}
	return sig, signedAt, nil
}

// checkSignedHeaders requires Host and every x-amz-* header present to be
// signed. A header left out of the signature could be added or changed by
// anyone who captured the request: an unsigned X-Amz-Invocation-Type
// would turn a synchronous call into an Event one. Every AWS SDK signs
// them (aws-sdk-go-v2's signer signs all headers but Authorization,
// User-Agent, X-Amzn-Trace-Id, Expect and Transfer-Encoding; botocore all
// but Expect, User-Agent and X-Amzn-Trace-Id), so only a hand-made
// request fails here. The message is the one AWS's JSON front end sends
// for an unsigned Host ("'Host' or ':authority' must be a 'SignedHeader'
// in the AWS Authorization.", an InvalidSignatureException in
// aws/aws-sdk-php#2469) and for Content-Type ("'Content-Type' must be a
// 'SignedHeader' in the AWS Authorization.", as scratchstack's
// AWS-compatible verifier reproduces it).
func checkSignedHeaders(r *http.Request, signed []string) *apiError {
	if !slices.Contains(signed, "host") {
		return invalidSignature("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	for name := range r.Header {
		// Header names are canonical here: X-Amz-…, never x-amzn-….
		if len(name) <= len("X-Amz-") || !strings.EqualFold(name[:len("X-Amz-")], "X-Amz-") {
			continue
		}
		if !slices.ContainsFunc(signed, func(s string) bool { return strings.EqualFold(s, name) }) {
			return invalidSignature("'%s' must be a 'SignedHeader' in the AWS Authorization.", name)
		}
	}
	return nil
}

// checkSignature verifies sig, which checkHeaders accepted, over r and
// the payload whose SHA-256 is payloadHash (lowercase hex).
func (a *authenticator) checkSignature(ctx context.Context, r *http.Request, sig sigV4, signedAt time.Time, payloadHash string) *apiError {
	want, err := a.expectedSignature(ctx, r, payloadHash, sig, signedAt)
	if err != nil || subtle.ConstantTimeCompare([]byte(want), []byte(sig.signature)) != 1 {
		return errSignatureMismatch()
	}
	return nil
}

// errSignatureMismatch is AWS's answer to a signature that does not match
// the request.
func errSignatureMismatch() *apiError {
	return invalidSignature(
		"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
}

// invalidSignature is the 403 InvalidSignatureException AWS's front end
// answers; the message formats are AWS's ("Signature expired: 20150806T131223Z
// is now earlier than 20150806T131534Z (20150806T132034Z - 5 min.)",
// serverless/serverless#27; "Signature not yet current: … is still later
// than … (… + 5 min.)", serverless/enterprise#11).
func invalidSignature(format string, args ...any) *apiError {
	return frontEndError(http.StatusForbidden, "InvalidSignatureException", fmt.Sprintf(format, args...))
}

// expectedSignature signs a copy of r holding only the headers the client
// signed, exactly as the client's signer saw them, and returns the
// signature.
func (a *authenticator) expectedSignature(ctx context.Context, r *http.Request, payloadHash string, sig sigV4, signedAt time.Time) (string, error) {
	// The copy is pooled scratch space: building a request, URL and header
	// map per call was a tenth of the verification's allocations.
	sc, _ := a.scratch.Get().(*signScratch)
	if sc == nil {
		sc = &signScratch{req: http.Request{Header: make(http.Header, 8)}}
	}
	defer a.scratch.Put(sc)
	header := sc.req.Header
	clear(header)
	sc.url = url.URL{Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	sc.req = http.Request{Method: r.Method, URL: &sc.url, Host: r.Host, Header: header}
	for _, name := range sig.signedHeaders {
		switch name {
		case "host":
		case "content-length":
			sc.req.ContentLength = r.ContentLength
		default:
			key := canonicalHeaderKey(name)
			if v, ok := r.Header[key]; ok {
				header[key] = v
			}
		}
	}
	creds := a.creds
	creds.SessionToken = "" // a signed X-Amz-Security-Token header is copied above
	if err := a.signer.SignHTTP(ctx, creds, &sc.req, payloadHash, sig.service, sig.region, signedAt); err != nil {
		return "", err
	}
	authz := header["Authorization"]
	if len(authz) != 1 {
		return "", fmt.Errorf("signer set no Authorization header")
	}
	_, got, _ := strings.Cut(authz[0], "Signature=")
	return got, nil
}

// signScratch is the request expectedSignature signs.
type signScratch struct {
	req http.Request
	url url.URL
}

// canonicalHeaderKey is http.CanonicalHeaderKey without its allocation for
// the headers SDKs sign on every Invoke call.
func canonicalHeaderKey(lower string) string {
	switch lower {
	case "x-amz-date":
		return "X-Amz-Date"
	case "content-type":
		return "Content-Type"
	case "amz-sdk-invocation-id":
		return "Amz-Sdk-Invocation-Id"
	case "amz-sdk-request":
		return "Amz-Sdk-Request"
	case "x-amz-invocation-type":
		return lambdaapi.HeaderInvocationType
	case "x-amz-log-type":
		return lambdaapi.HeaderLogType
	case "x-amz-client-context":
		return lambdaapi.HeaderClientContext
	case "x-amz-security-token":
		return "X-Amz-Security-Token"
	case "x-amz-content-sha256":
		return "X-Amz-Content-Sha256"
	}
	return http.CanonicalHeaderKey(lower)
}
