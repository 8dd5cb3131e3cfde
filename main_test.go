package lambdafan_test

import (
	"fmt"
	"os"
	"testing"
)

// credentialHelperEnv makes the test binary act as a credential_process
// helper instead of running tests (see TestMain).
const credentialHelperEnv = "LAMBDAFAN_TEST_CREDENTIAL_HELPER"

// Secrets the credential_process helper prints.
const (
	helperSecretKey    = "hElPeRsEcReT/K7MDENG/bPxRfiCYEXAMPLEKEY"
	helperSessionToken = "hElPeRtOkEn-FwoGZXIvYXdzEXAMPLE"
)

// TestMain lets tests use the test binary itself as a credential_process
// helper: run with credentialHelperEnv set, it prints credentials in the
// helper protocol's JSON and exits.
func TestMain(m *testing.M) {
	switch os.Getenv(credentialHelperEnv) {
	case "":
		os.Exit(m.Run())
	case "bad-expiration":
		// The SDK cannot parse the expiration, and its error quotes the
		// whole output.
		fmt.Printf(`{"Version": 1, "AccessKeyId": "AKIDHELPER", "SecretAccessKey": %q, "SessionToken": %q, "Expiration": "next tuesday"}`,
			helperSecretKey, helperSessionToken)
	default:
		fmt.Fprintf(os.Stderr, "unknown %s\n", credentialHelperEnv)
		os.Exit(2)
	}
	os.Exit(0)
}
