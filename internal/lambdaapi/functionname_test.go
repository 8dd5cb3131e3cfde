package lambdaapi

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Name
	}{
		{"my-function", Name{Function: "my-function"}},
		{"my_function.v2", Name{Function: "my_function.v2"}},
		{"my-function:live", Name{Function: "my-function", Qualifier: "live"}},
		{"my-function:$LATEST", Name{Function: "my-function", Qualifier: "$LATEST"}},
		{"my-function:7", Name{Function: "my-function", Qualifier: "7"}},
		{"123456789012:function:f", Name{Function: "f", Account: "123456789012"}},
		{"123456789012:function:f:live", Name{Function: "f", Account: "123456789012", Qualifier: "live"}},
		{"eu-west-1:123456789012:function:f", Name{Function: "f", Account: "123456789012", Region: "eu-west-1"}},
		{"arn:aws:lambda:us-west-2:123456789012:function:f", Name{Function: "f", Account: "123456789012", Region: "us-west-2", Partition: "aws"}},
		{"arn:aws-cn:lambda:cn-north-1:123456789012:function:f:3", Name{Function: "f", Account: "123456789012", Region: "cn-north-1", Partition: "aws-cn", Qualifier: "3"}},
		{"arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f", Name{Function: "f", Account: "123456789012", Region: "us-gov-west-1", Partition: "aws-us-gov"}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParse_Invalid(t *testing.T) {
	tests := []struct{ in, wantErr string }{
		{"", "missing or empty"},
		{"has space", "invalid character"},
		{strings.Repeat("x", 65), "longer than the maximum of 64"},
		{strings.Repeat("x", 257), "longer than the maximum of 256"},
		{"f:bad/qualifier", "invalid character"},
		{"f:a:b", "too many"},
		{"arn:aws:s3:::bucket", "not a Lambda function ARN"},
		{"arn:aws:lambda:us-east-1:12345:function:f", "not 12 digits"},
		{"arn:aws:lambda:moon:123456789012:function:f", "not an AWS region name"},
		{"arn:gcp:lambda:us-east-1:123456789012:function:f", "unknown partition"},
		{"12345678901x:function:f", "not 12 digits"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Parse(%q) error = %v, want it to mention %q", tt.in, err, tt.wantErr)
		}
	}
}

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"f", "my-function_v2.1", strings.Repeat("x", 64)} {
		if err := CheckName(ok); err != nil {
			t.Errorf("CheckName(%q) = %v", ok, err)
		}
	}
	// Forms the Invoke API accepts but a definition does not.
	for _, bad := range []string{"", "has space", strings.Repeat("x", 65), "f:live", "123456789012:function:f", "arn:aws:lambda:us-east-1:123456789012:function:f"} {
		if err := CheckName(bad); err == nil {
			t.Errorf("CheckName(%q) accepted", bad)
		}
	}
}

func TestCheckRegion(t *testing.T) {
	for _, ok := range []string{"us-east-1", "cn-north-1", "us-gov-west-1", "ap-southeast-5", "eusc-de-east-1", "us-iso-east-1"} {
		if err := CheckRegion(ok); err != nil {
			t.Errorf("CheckRegion(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "us-east", "US-EAST-1", "us_east_1", "useast1", "us-east-1a", "-east-1", "us--1"} {
		if err := CheckRegion(bad); err == nil {
			t.Errorf("CheckRegion(%q) accepted", bad)
		}
	}
}

func TestEscapePathSegment(t *testing.T) {
	tests := map[string]string{
		"plain-name_1.0": "plain-name_1.0",
		"arn:aws:lambda:us-east-1:123456789012:function:f": "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af",
		"f:$LATEST": "f%3A%24LATEST",
		"a/b c":     "a%2Fb%20c",
	}
	for in, want := range tests {
		if got := EscapePathSegment(in); got != want {
			t.Errorf("EscapePathSegment(%q) = %q, want %q", in, got, want)
		}
	}
}
