package store

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Stdio is the location of the standard streams: standard input when
// read, standard output when written.
const Stdio = "-"

// MaxKeyLen is the longest S3 object key, in bytes of UTF-8.
const MaxKeyLen = 1024

// Location names a place to read from or write to: the standard streams,
// a local path, or an S3 object or prefix. The zero Location is invalid;
// make one with [Parse].
type Location struct {
	s3     bool
	bucket string // S3 only
	key    string // S3 only; "" for the bucket's root prefix
	path   string // local path, or Stdio
}

// schemeRE matches the scheme of a URL-like string ("https://", "gs://").
var schemeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)

// Parse reads a location: "-" for the standard streams, s3://bucket/key
// for an S3 object (a key that is empty or ends in "/" is a prefix, for
// [Store.List]), and anything else as a local path. It rejects other URL
// schemes, S3 locations that carry credentials or a port, invalid bucket
// names and keys that are not valid UTF-8 or are longer than [MaxKeyLen].
// Its errors never repeat credentials.
func Parse(s string) (Location, error) {
	switch {
	case s == "":
		return Location{}, errors.New("empty location")
	case s == Stdio:
		return Location{path: Stdio}, nil
	case len(s) >= len("s3://") && strings.EqualFold(s[:len("s3://")], "s3://"):
		return parseS3(s[len("s3://"):])
	case schemeRE.MatchString(s):
		scheme, _, _ := strings.Cut(s, "://")
		return Location{}, fmt.Errorf("unsupported location scheme %q: use s3://bucket/key, a local path or -", scheme)
	}
	return Location{path: s}, nil
}

// parseS3 parses what follows "s3://".
func parseS3(rest string) (Location, error) {
	bucket, key, _ := strings.Cut(rest, "/")
	if strings.ContainsAny(bucket, "@:") {
		// Do not echo it: "user:secret@bucket" is the likely shape.
		return Location{}, errors.New("s3 location: the bucket part holds '@' or ':'; credentials and ports do not belong in an s3:// location (the bucket's region and the endpoint come from the AWS configuration)")
	}
	if err := checkBucket(bucket); err != nil {
		return Location{}, err
	}
	if !utf8.ValidString(key) {
		return Location{}, fmt.Errorf("s3://%s: the key is not valid UTF-8", bucket)
	}
	if len(key) > MaxKeyLen {
		return Location{}, fmt.Errorf("s3://%s: the key is %d bytes long; S3 allows %d", bucket, len(key), MaxKeyLen)
	}
	return Location{s3: true, bucket: bucket, key: key}, nil
}

// checkBucket applies S3's bucket naming rules: 3 to 63 lowercase letters,
// digits, dots and hyphens, starting and ending with a letter or digit,
// no two adjacent dots, not shaped like an IP address.
func checkBucket(b string) error {
	if b == "" {
		return errors.New("s3 location has no bucket: use s3://bucket/key")
	}
	if len(b) < 3 || len(b) > 63 {
		return fmt.Errorf("invalid S3 bucket name %q: it must be 3 to 63 characters long", b)
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return fmt.Errorf("invalid S3 bucket name %q: only lowercase letters, digits, dots and hyphens are allowed", b)
		}
	}
	if !isAlnum(b[0]) || !isAlnum(b[len(b)-1]) {
		return fmt.Errorf("invalid S3 bucket name %q: it must start and end with a letter or digit", b)
	}
	if strings.Contains(b, "..") {
		return fmt.Errorf("invalid S3 bucket name %q: two adjacent dots", b)
	}
	if _, err := netip.ParseAddr(b); err == nil {
		return fmt.Errorf("invalid S3 bucket name %q: it must not be an IP address", b)
	}
	return nil
}

func isAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// IsS3 reports whether l names an S3 object or prefix.
func (l Location) IsS3() bool { return l.s3 }

// IsStdio reports whether l is "-", the standard streams.
func (l Location) IsStdio() bool { return !l.s3 && l.path == Stdio }

// IsPrefix reports whether l is an S3 prefix: its key is empty or ends in
// "/". Prefixes can be listed but not opened or created.
func (l Location) IsPrefix() bool {
	return l.s3 && (l.key == "" || strings.HasSuffix(l.key, "/"))
}

// Bucket returns the S3 bucket, or "" for a local location.
func (l Location) Bucket() string { return l.bucket }

// Key returns the S3 key (or prefix), or "" for a local location.
func (l Location) Key() string { return l.key }

// Path returns the local path ("-" for the standard streams), or "" for
// an S3 location.
func (l Location) Path() string { return l.path }

// Gzip reports whether l's name ends in ".gz" (in any case): such a
// location is decompressed when read and compressed when written.
func (l Location) Gzip() bool {
	name := l.path
	if l.s3 {
		name = l.key
	}
	return len(name) >= len(".gz") && strings.EqualFold(name[len(name)-len(".gz"):], ".gz")
}

// String returns the location as [Parse] reads it: s3://bucket/key, the
// local path, or "-". It holds no credentials, since [Parse] accepts none.
func (l Location) String() string {
	if l.s3 {
		return "s3://" + l.bucket + "/" + l.key
	}
	return l.path
}

// s3Child returns the S3 location of key in l's bucket.
func (l Location) s3Child(key string) Location {
	return Location{s3: true, bucket: l.bucket, key: key}
}
