package store_test

import (
	"strings"
	"testing"

	"github.com/lambdafan/lambdafan/internal/store"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in                string
		s3, stdio, prefix bool
		gzip              bool
		bucket, key, path string
		str               string
	}{
		{in: "-", stdio: true, path: "-", str: "-"},
		{in: "results.jsonl", path: "results.jsonl", str: "results.jsonl"},
		{in: "/tmp/out.jsonl.gz", path: "/tmp/out.jsonl.gz", gzip: true, str: "/tmp/out.jsonl.gz"},
		{in: "c:results.GZ", path: "c:results.GZ", gzip: true, str: "c:results.GZ"},
		{in: "s3://my-bucket/run1/out.jsonl", s3: true, bucket: "my-bucket", key: "run1/out.jsonl", str: "s3://my-bucket/run1/out.jsonl"},
		{in: "S3://my.bucket/in.jsonl.gz", s3: true, gzip: true, bucket: "my.bucket", key: "in.jsonl.gz", str: "s3://my.bucket/in.jsonl.gz"},
		{in: "s3://my-bucket/run1/", s3: true, prefix: true, bucket: "my-bucket", key: "run1/", str: "s3://my-bucket/run1/"},
		{in: "s3://my-bucket", s3: true, prefix: true, bucket: "my-bucket", str: "s3://my-bucket/"},
		{in: "s3://my-bucket/", s3: true, prefix: true, bucket: "my-bucket", str: "s3://my-bucket/"},
		{in: "s3://b12/a b?c#d", s3: true, bucket: "b12", key: "a b?c#d", str: "s3://b12/a b?c#d"},
		{in: "s3://b12/.gz", s3: true, gzip: true, bucket: "b12", key: ".gz", str: "s3://b12/.gz"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			loc, err := store.Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if loc.IsS3() != tt.s3 || loc.IsStdio() != tt.stdio || loc.IsPrefix() != tt.prefix || loc.Gzip() != tt.gzip {
				t.Errorf("IsS3, IsStdio, IsPrefix, Gzip = %v, %v, %v, %v; want %v, %v, %v, %v",
					loc.IsS3(), loc.IsStdio(), loc.IsPrefix(), loc.Gzip(), tt.s3, tt.stdio, tt.prefix, tt.gzip)
			}
			if loc.Bucket() != tt.bucket || loc.Key() != tt.key || loc.Path() != tt.path {
				t.Errorf("Bucket, Key, Path = %q, %q, %q; want %q, %q, %q", loc.Bucket(), loc.Key(), loc.Path(), tt.bucket, tt.key, tt.path)
			}
			if loc.String() != tt.str {
				t.Errorf("String() = %q, want %q", loc.String(), tt.str)
			}
			// String reads back as the same location.
			again, err := store.Parse(loc.String())
			if err != nil || again != loc {
				t.Errorf("Parse(String()) = %v, %v; want %v", again, err, loc)
			}
		})
	}
}

func TestParse_errors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "empty location"},
		{"no bucket", "s3:///key", "no bucket"},
		{"short bucket", "s3://ab/key", "3 to 63"},
		{"long bucket", "s3://" + strings.Repeat("a", 64) + "/key", "3 to 63"},
		{"uppercase bucket", "s3://MyBucket/key", "lowercase"},
		{"underscore", "s3://my_bucket/key", "lowercase"},
		{"leading hyphen", "s3://-bucket/key", "start and end"},
		{"trailing dot", "s3://bucket./key", "start and end"},
		{"adjacent dots", "s3://my..bucket/key", "adjacent dots"},
		{"ip address", "s3://192.168.1.1/key", "IP address"},
		{"bad utf-8 key", "s3://bucket/\xff", "UTF-8"},
		{"long key", "s3://bucket/" + strings.Repeat("k", store.MaxKeyLen+1), "1025 bytes"},
		{"other scheme", "https://bucket.s3.amazonaws.com/key", `scheme "https"`},
		{"gs", "gs://bucket/key", `scheme "gs"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := store.Parse(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse(%q) = %v, want an error containing %q", tt.in, err, tt.want)
			}
		})
	}
}

// An s3:// location with credentials in it is refused without repeating
// them.
func TestParse_credentials(t *testing.T) {
	for _, in := range []string{
		"s3://AKIDEXAMPLE:wJalrXUtnFEMI@bucket/key",
		"s3://wJalrXUtnFEMI@bucket/key",
		"s3://bucket:9000/key",
		"https://AKIDEXAMPLE:wJalrXUtnFEMI@host/key",
	} {
		_, err := store.Parse(in)
		if err == nil {
			t.Fatalf("Parse(%q) succeeded", in)
		}
		if strings.Contains(err.Error(), "wJalrXUtnFEMI") || strings.Contains(err.Error(), "AKIDEXAMPLE") {
			t.Errorf("Parse(%q) error repeats the credentials: %v", in, err)
		}
	}
}
