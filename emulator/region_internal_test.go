package emulator

import "testing"

func TestValidRegion(t *testing.T) {
	for _, tc := range []struct {
		region string
		want   bool
	}{
		{"us-east-1", true},
		{"eu-west-1", true},
		{"ap-southeast-5", true},
		{"cn-north-1", true},
		{"us-gov-west-1", true},
		{"us-iso-east-1", true},
		{"us-isob-east-1", true},
		{"eu-isoe-west-1", true},
		{"us-isof-south-1", true},
		{"eusc-de-east-1", true},
		{"us-gov-1", true},  // -gov is optional: "gov" is then the word
		{"xx-fake-9", true}, // well formed, not a real region: served
		{"", false},
		{"us-east-1 ;x=<script>", false},
		{"us-east-1/", false},
		{"US-EAST-1", false},
		{"us-east-12", false},
		{"us-east", false},
		{"useast-1", false},
		{"u-east-1", false},
		{"us--1", false},
		{"us-east-x", false},
		{"us-gov-west-east-1", false},
		{"eusc-1", false},
	} {
		if got := validRegion(tc.region); got != tc.want {
			t.Errorf("validRegion(%q) = %v, want %v", tc.region, got, tc.want)
		}
	}
}

func TestScopeRegion(t *testing.T) {
	for authz, want := range map[string]string{
		"AWS4-HMAC-SHA256 Credential=AKID/20260301/eu-west-1/lambda/aws4_request, SignedHeaders=host, Signature=00": "eu-west-1",
		"AWS4-HMAC-SHA256 Credential=AKID/20260301/eu-west-1":                                                       "eu-west-1",
		"AWS4-HMAC-SHA256 Credential=AKID/20260301, SignedHeaders=a/b/c":                                            "",
		"":                   "",
		"Basic dXNlcjpwYXNz": "",
	} {
		if got := scopeRegion(authz); got != want {
			t.Errorf("scopeRegion(%q) = %q, want %q", authz, got, want)
		}
	}
}
