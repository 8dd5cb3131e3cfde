package emulator

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
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

// verify checks r's signature over body and returns the region of its
// credential scope: the region the client meant to call.
func (a *authenticator) verify(ctx context.Context, r *http.Request, body []byte) (string, *apiError) {
	authz := r.Header.Get("Authorization")
	if authz == "" {
		return "", frontEndError(http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token")
	}
	sig, aerr := parseAuthorization(authz)
	if aerr != nil {
		return "", aerr
	}
	if sig.accessKeyID != a.creds.AccessKeyID {
		return "", frontEndError(http.StatusForbidden, "UnrecognizedClientException", "The security token included in the request is invalid.")
	}
	if sig.service != "lambda" {
		return "", frontEndError(http.StatusForbidden, "InvalidSignatureException", "Credential should be scoped to correct service: 'lambda'. ")
	}
	amzDate := r.Header.Get("X-Amz-Date")
	signedAt, err := time.Parse(amzDateFormat, amzDate)
	if err != nil {
		return "", frontEndError(http.StatusForbidden, "IncompleteSignatureException",
			"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	now := a.now().UTC()
	switch {
	case signedAt.Before(now.Add(-MaxClockSkew)):
		return "", invalidSignature(
			"Signature expired: %s is now earlier than %s (%s - 5 min.)",
			amzDate, now.Add(-MaxClockSkew).Format(amzDateFormat), now.Format(amzDateFormat))
	case signedAt.After(now.Add(MaxClockSkew)):
		return "", invalidSignature(
			"Signature not yet current: %s is still later than %s (%s + 5 min.)",
			amzDate, now.Add(MaxClockSkew).Format(amzDateFormat), now.Format(amzDateFormat))
	}
	if sig.date != amzDate[:8] {
		return "", invalidSignature(
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			sig.date, amzDate[:8], amzDate)
	}

	want, err := a.expectedSignature(ctx, r, body, sig, signedAt)
	if err != nil || subtle.ConstantTimeCompare([]byte(want), []byte(sig.signature)) != 1 {
		return "", invalidSignature(
			"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	return sig.region, nil
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
func (a *authenticator) expectedSignature(ctx context.Context, r *http.Request, body []byte, sig sigV4, signedAt time.Time) (string, error) {
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
	sum := sha256.Sum256(body)
	creds := a.creds
	creds.SessionToken = "" // a signed X-Amz-Security-Token header is copied above
	if err := a.signer.SignHTTP(ctx, creds, &sc.req, hex.EncodeToString(sum[:]), sig.service, sig.region, signedAt); err != nil {
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
		return "X-Amz-Invocation-Type"
	case "x-amz-log-type":
		return "X-Amz-Log-Type"
	case "x-amz-client-context":
		return "X-Amz-Client-Context"
	case "x-amz-security-token":
		return "X-Amz-Security-Token"
	case "x-amz-content-sha256":
		return "X-Amz-Content-Sha256"
	}
	return http.CanonicalHeaderKey(lower)
}
