package redact_test

import (
	"strings"
	"testing"

	"github.com/lambdafan/lambdafan/internal/redact"
)

const (
	secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	// token is shaped like an STS session token: a long base64 run.
	token = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDk+example+session+token+" +
		"that+is+long+enough+to+look+real/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	sig = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"
)

func TestText_Secrets(t *testing.T) {
	tests := []struct {
		name, in string
	}{
		{"secret as is", "the key is " + secret + "."},
		{"token as is", "token " + token},
		{"secret query-escaped", "a=" + strings.ReplaceAll(secret, "/", "%2F") + "&b=1"},
		{"secret twice", secret + " " + secret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := redact.Text(tt.in, secret, token)
			if strings.Contains(got, secret) || strings.Contains(got, "bPxRfiCYEXAMPLEKEY") || strings.Contains(got, "example+session") {
				t.Errorf("Text(%q) = %q: a secret is left", tt.in, got)
			}
			if !strings.Contains(got, redact.Mask) {
				t.Errorf("Text(%q) = %q: nothing masked", tt.in, got)
			}
		})
	}
}

func TestText_ShortAndEmptySecretsAreSkipped(t *testing.T) {
	const in = "an ordinary message: ab"
	if got := redact.Text(in, "", "ab"); got != in {
		t.Errorf("Text = %q, want it unchanged", got)
	}
}

func TestText_Patterns(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"authorization header",
			"Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261130/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + sig,
			"Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261130/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + redact.Mask},
		{"presigned signature",
			"?X-Amz-Date=20261130T000000Z&X-Amz-Signature=" + sig + "&a=b",
			"?X-Amz-Date=20261130T000000Z&X-Amz-Signature=" + redact.Mask + "&a=b"},
		{"canonical request header line",
			"host:lambda.us-east-1.amazonaws.com\nx-amz-date:20261130T000000Z\nx-amz-security-token:FQoGZXIvYXdzEXAMPLE\n\nhost;x-amz-date",
			"host:lambda.us-east-1.amazonaws.com\nx-amz-date:20261130T000000Z\nx-amz-security-token:" + redact.Mask + "\n\nhost;x-amz-date"},
		{"security token header",
			"X-Amz-Security-Token: FQoGZXIvYXdzEXAMPLE",
			"X-Amz-Security-Token: " + redact.Mask},
		{"security token query",
			"https://h/?X-Amz-Security-Token=FQoG%2FZXIv&X-Amz-Date=1",
			"https://h/?X-Amz-Security-Token=" + redact.Mask + "&X-Amz-Date=1"},
		{"env assignment",
			"AWS_SECRET_ACCESS_KEY=abc/def+ghi AWS_SESSION_TOKEN=tok123",
			"AWS_SECRET_ACCESS_KEY=" + redact.Mask + " AWS_SESSION_TOKEN=" + redact.Mask},
		{"ini assignment",
			"aws_secret_access_key = abc/def+ghi\naws_access_key_id = AKIDEXAMPLE",
			"aws_secret_access_key = " + redact.Mask + "\naws_access_key_id = AKIDEXAMPLE"},
		{"credential_process JSON",
			`{"Version": 1, "AccessKeyId": "AKIDEXAMPLE", "SecretAccessKey": "abc/def+ghi", "SessionToken": "tok123", "Expiration": "soon"}`,
			`{"Version": 1, "AccessKeyId": "AKIDEXAMPLE", "SecretAccessKey": "` + redact.Mask + `", "SessionToken": "` + redact.Mask + `", "Expiration": "soon"}`},
		{"escaped JSON",
			`{\"SecretAccessKey\":\"abc/def+ghi\",\"Token\":\"tok123\"}`,
			`{\"SecretAccessKey\":\"` + redact.Mask + `\",\"Token\":\"` + redact.Mask + `\"}`},
		{"container credentials JSON",
			`{"AccessKeyId":"AKIDEXAMPLE","Token":"tok 123","Expiration":"soon"}`,
			`{"AccessKeyId":"AKIDEXAMPLE","Token":"` + redact.Mask + `","Expiration":"soon"}`},
		{"long base64 run", "token " + token + " ends", "token " + redact.Mask + " ends"},
		{"percent-encoded token", "t=" + strings.Repeat("AbC%2Fx", 30) + "&", "t=" + redact.Mask + "&"},
		{"URL password", "dial http://user:s3cret@127.0.0.1:9/x failed", "dial http://user:xxxxx@127.0.0.1:9/x failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redact.Text(tt.in); got != tt.want {
				t.Errorf("Text(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestText_OrdinaryMessagesUnchanged(t *testing.T) {
	for _, s := range []string{
		"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
		"The security token included in the request is invalid.",
		"The security token included in the request is expired",
		"Signature expired: 20150806T131223Z is now earlier than 20150806T131534Z (20150806T132034Z - 5 min.)",
		"Function not found: arn:aws:lambda:us-east-1:123456789012:function:my-function:$LATEST",
		"Rate Exceeded.",
		`{"Reason":"CallerRateLimitExceeded","Type":"User","message":"Rate exceeded"}`,
		"dial tcp 127.0.0.1:9: connect: connection refused",
		"Get \"http://host:9/a@b\": EOF",
		"token: expired",
		"open /home/user/go/pkg/mod/github.com/aws/aws-sdk-go-v2/credentials@v1.21.0/processcreds/provider.go: no such file",
		"request 3f1c2a7e-9b1d-4c7e-8f00-0123456789ab: sha256 " + sig,
		"",
	} {
		if got := redact.Text(s, secret, token); got != s {
			t.Errorf("Text(%q) = %q, want it unchanged", s, got)
		}
	}
}

func TestURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://user:s3cret@127.0.0.1:9/", "http://user:xxxxx@127.0.0.1:9/"},
		{"http://user:s3cret@[::1", "http://user:xxxxx@[::1"},
		{"http://user:s3c/r#e@t@[::1", "http://user:xxxxx@[::1"},
		{"https://user@host/", "https://user@host/"},
		{"http://127.0.0.1:9001", "http://127.0.0.1:9001"},
		{"http://host:9/a@b", "http://host:9/a@b"},
		{"not a url at all", "not a url at all"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := redact.URL(tt.in); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
