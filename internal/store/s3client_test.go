package store_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/lambdafan/lambdafan/internal/store"
)

// loadConfig loads the SDK's configuration as the CLI does, from the
// environment the test set (and no shared files of the machine's user).
func loadConfig(t *testing.T) aws.Config {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_ACCESS_KEY_ID", testAccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecretKey)
	t.Setenv("AWS_REGION", "eu-central-1")
	cfg, err := config.LoadDefaultConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// unsetenv removes an environment variable for the test's duration.
func unsetenv(t *testing.T, key string) {
	t.Setenv(key, "") // restores the old value at cleanup
	os.Unsetenv(key)
}

func TestNewS3Client_endpoint(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		profile   string // content of the config file
		endpoint  string // expected BaseEndpoint, "" for none
		pathStyle bool
	}{
		{name: "aws", endpoint: "", pathStyle: false},
		{name: "AWS_ENDPOINT_URL_S3", env: map[string]string{"AWS_ENDPOINT_URL_S3": "http://localhost:9000"}, endpoint: "http://localhost:9000", pathStyle: true},
		{name: "AWS_ENDPOINT_URL", env: map[string]string{"AWS_ENDPOINT_URL": "http://localhost:9001"}, endpoint: "http://localhost:9001", pathStyle: true},
		{name: "service beats global", env: map[string]string{"AWS_ENDPOINT_URL": "http://localhost:9001", "AWS_ENDPOINT_URL_S3": "http://localhost:9000"}, endpoint: "http://localhost:9000", pathStyle: true},
		{name: "profile services section", profile: "[default]\nservices = local\n[services local]\ns3 =\n  endpoint_url = http://localhost:9002\n", endpoint: "http://localhost:9002", pathStyle: true},
		{name: "profile endpoint_url", profile: "[default]\nendpoint_url = http://localhost:9003\n", endpoint: "http://localhost:9003", pathStyle: true},
		{name: "ignore_configured_endpoint_urls", profile: "[default]\nendpoint_url = http://localhost:9003\nignore_configured_endpoint_urls = true\n", endpoint: "", pathStyle: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			unsetenv(t, "AWS_ENDPOINT_URL")
			unsetenv(t, "AWS_ENDPOINT_URL_S3")
			unsetenv(t, "AWS_PROFILE")
			unsetenv(t, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			cfg := func() aws.Config {
				cfg := loadConfig(t)
				if tt.profile == "" {
					return cfg
				}
				if err := os.WriteFile(os.Getenv("AWS_CONFIG_FILE"), []byte(tt.profile), 0o600); err != nil {
					t.Fatal(err)
				}
				cfg, err := config.LoadDefaultConfig(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				return cfg
			}()
			opts := store.NewS3Client(cfg).Options()
			if got := aws.ToString(opts.BaseEndpoint); got != tt.endpoint {
				t.Errorf("BaseEndpoint = %q, want %q", got, tt.endpoint)
			}
			if opts.UsePathStyle != tt.pathStyle {
				t.Errorf("UsePathStyle = %v, want %v", opts.UsePathStyle, tt.pathStyle)
			}
			if opts.Region != "eu-central-1" {
				t.Errorf("Region = %q, want the configuration's eu-central-1", opts.Region)
			}
		})
	}
}

// With the endpoint overridden, requests name the bucket in the path
// (path-style), not in the host name.
func TestNewS3Client_pathStyle(t *testing.T) {
	f := newFakeS3(t, "bucket")
	unsetenv(t, "AWS_ENDPOINT_URL")
	t.Setenv("AWS_ENDPOINT_URL_S3", f.Server.URL)
	cfg := loadConfig(t)
	cfg.HTTPClient = f.HTTPClient()
	st := store.Store{S3: store.NewS3Client(cfg)}
	loc := mustParse(t, "s3://bucket/dir/results.jsonl")
	writeObject(t, st, loc, []byte("{}\n"))
	if got := readObject(t, st, loc); string(got) != "{}\n" {
		t.Fatalf("read %q", got)
	}
	reqs := f.Requests()
	if len(reqs) == 0 {
		t.Fatal("the fake server saw no request")
	}
	host := strings.TrimPrefix(f.Server.URL, "http://")
	for _, r := range reqs {
		if r.Host != host || (r.URL.Path != "/bucket" && !strings.HasPrefix(r.URL.Path, "/bucket/")) {
			t.Errorf("%s host %q path %q: want host %q and a path starting /bucket", r.Method, r.Host, r.URL.Path, host)
		}
	}
}

// Requests are signed for the region the bucket names in
// x-amz-bucket-region, not for the configuration's region.
func TestStore_bucketRegion(t *testing.T) {
	f := newFakeS3(t, "bucket")
	f.SetRegion("bucket", "ap-southeast-2")
	st := f.Store()
	loc := mustParse(t, "s3://bucket/k")
	writeObject(t, st, loc, []byte("x"))
	readObject(t, st, loc)
	for _, r := range f.Requests() {
		auth := r.Header.Get("Authorization")
		want := "/us-east-1/s3/aws4_request" // HeadBucket asks in the configured region
		if r.Method != "HEAD" {
			want = "/ap-southeast-2/s3/aws4_request"
		}
		if !strings.Contains(auth, want) {
			t.Errorf("%s %s signed with %q, want the scope %s", r.Method, r.URL.Path, auth, want)
		}
	}
}

// A denied HeadBucket (no s3:ListBucket permission) does not stop an
// operation that is itself allowed; S3 still names the region.
func TestStore_headBucketDenied(t *testing.T) {
	f := newFakeS3(t, "bucket")
	f.Deny("HEAD", "bucket/", "AccessDenied")
	f.SetRegion("bucket", "eu-west-3")
	st := f.Store()
	loc := mustParse(t, "s3://bucket/k")
	f.Put(t, "bucket", "k", []byte("data"))
	if got := readObject(t, st, loc); string(got) != "data" {
		t.Fatalf("read %q", got)
	}
}
