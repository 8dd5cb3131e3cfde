package lambdafan

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// newHTTPClient builds the client used when Config.HTTPClient is nil: one
// pool whose idle connections per host match the concurrency, so a steady
// fan-out reuses connections instead of re-dialling (the SDK's default of
// 10 idle connections per host churns TLS handshakes beyond 10 in flight),
// with no cap on connections per host (a cap would cap concurrency on
// HTTP/1.1) and no overall timeout (a synchronous invocation may
// legitimately take 15 minutes; each attempt has its own deadline).
func newHTTPClient(awsCfg *aws.Config, concurrency int) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          0, // no overall limit; the per-host limit governs
		MaxIdleConnsPerHost:   concurrency,
		MaxConnsPerHost:       0,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 0,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: sdkRootCAs(awsCfg)},
	}
	return &http.Client{Transport: t}
}

// sdkRootCAs returns the custom CA bundle the SDK config loader installed
// (from AWS_CA_BUNDLE or a profile's ca_bundle), or nil for the system
// roots. The loader puts it on the SDK's own HTTP client; lambdafan reads it
// from there rather than parsing the bundle a second way.
func sdkRootCAs(awsCfg *aws.Config) *x509.CertPool {
	if awsCfg == nil {
		return nil
	}
	bc, ok := awsCfg.HTTPClient.(*awshttp.BuildableClient)
	if !ok {
		return nil
	}
	if tc := bc.GetTransport().TLSClientConfig; tc != nil {
		return tc.RootCAs
	}
	return nil
}
