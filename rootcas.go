package lambdafan

import (
	"crypto/x509"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

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
