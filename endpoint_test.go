package lambdafan

import (
	"testing"
)

func TestEndpointResolver_Partitions(t *testing.T) {
	tests := []struct {
		region          string
		fips, dualStack bool
		want            string
	}{
		{region: "us-east-1", want: "https://lambda.us-east-1.amazonaws.com"},
		{region: "eu-west-1", want: "https://lambda.eu-west-1.amazonaws.com"},
		{region: "cn-north-1", want: "https://lambda.cn-north-1.amazonaws.com.cn"},
		{region: "cn-northwest-1", want: "https://lambda.cn-northwest-1.amazonaws.com.cn"},
		{region: "us-gov-west-1", want: "https://lambda.us-gov-west-1.amazonaws.com"},
		{region: "us-east-1", fips: true, want: "https://lambda-fips.us-east-1.amazonaws.com"},
		{region: "us-gov-west-1", fips: true, want: "https://lambda-fips.us-gov-west-1.amazonaws.com"},
		{region: "us-east-1", dualStack: true, want: "https://lambda.us-east-1.api.aws"},
	}
	for _, tt := range tests {
		name := tt.region
		if tt.fips {
			name += "/fips"
		}
		if tt.dualStack {
			name += "/dualstack"
		}
		t.Run(name, func(t *testing.T) {
			r := newEndpointResolver("", tt.fips, tt.dualStack)
			ep, err := r.resolve(t.Context(), tt.region)
			if err != nil {
				t.Fatal(err)
			}
			if got := ep.scheme + "://" + ep.host; got != tt.want {
				t.Errorf("endpoint = %s, want %s", got, tt.want)
			}
			again, _ := r.resolve(t.Context(), tt.region)
			if again != ep {
				t.Error("second resolve did not come from the cache")
			}
		})
	}
}

func TestEndpointResolver_Override(t *testing.T) {
	r := newEndpointResolver("http://127.0.0.1:9001/base/", false, false)
	ep, err := r.resolve(t.Context(), "cn-north-1")
	if err != nil {
		t.Fatal(err)
	}
	u := ep.invokeURL("arn%3Aaws%3Alambda%3Acn-north-1%3A123456789012%3Afunction%3Af", "$LATEST")
	if got, want := u.String(), "http://127.0.0.1:9001/base/2015-03-31/functions/arn%3Aaws%3Alambda%3Acn-north-1%3A123456789012%3Afunction%3Af/invocations?Qualifier=%24LATEST"; got != want {
		t.Errorf("URL = %s\nwant  %s", got, want)
	}
	if got, want := u.EscapedPath(), "/base/2015-03-31/functions/arn%3Aaws%3Alambda%3Acn-north-1%3A123456789012%3Afunction%3Af/invocations"; got != want {
		t.Errorf("escaped path = %s, want %s", got, want)
	}
}

func TestEndpointResolver_FIPSWithCustomEndpoint(t *testing.T) {
	r := newEndpointResolver("http://127.0.0.1:9001", true, false)
	if _, err := r.resolve(t.Context(), "us-east-1"); err == nil {
		t.Error("FIPS with a custom endpoint resolved; the Lambda rules reject that combination")
	}
}

func TestCheckEndpointURL(t *testing.T) {
	tests := []struct {
		url   string
		allow bool
		ok    bool
	}{
		{"https://lambda.example.com", false, true},
		{"http://127.0.0.1:9001", false, true},
		{"http://[::1]:9001", false, true},
		{"http://localhost:9001", false, true},
		{"http://10.0.0.5:9001", false, false},
		{"http://lambda.internal", false, false},
		{"http://lambda.internal", true, true},
	}
	for _, tt := range tests {
		err := checkEndpointURL(tt.url, tt.allow)
		if (err == nil) != tt.ok {
			t.Errorf("checkEndpointURL(%q, %v) = %v, want ok=%v", tt.url, tt.allow, err, tt.ok)
		}
	}
}

func TestCheckEndpointURL_ParseErrors(t *testing.T) {
	tests := []struct{ url, want string }{
		// Without a password, url.Parse's reason is given, once.
		{"http://[::1", `endpoint URL "http://[::1": missing ']' in host`},
		// With one, the URL is masked and the reason, which may quote the
		// password, left out.
		{"http://user:s3c/ret@127.0.0.1:9/", `endpoint URL "http://user:xxxxx@127.0.0.1:9/" does not parse (the details would quote its password)`},
	}
	for _, tt := range tests {
		if err := checkEndpointURL(tt.url, false); err == nil || err.Error() != tt.want {
			t.Errorf("checkEndpointURL(%q) = %v, want %s", tt.url, err, tt.want)
		}
	}
}
