package redact

import (
	"net/url"
	"regexp"
	"strings"
)

// Mask is what [Text] puts in place of each value it masks.
const Mask = "[REDACTED]"

// MinSecretLen is the length below which a secret given to [Text] is not
// searched for: masking every occurrence of a one- or two-letter string
// would mangle the text, and no AWS secret is that short.
const MinSecretLen = 4

// urlMask is what [URL] puts in place of a password, as url.URL.Redacted
// does.
const urlMask = "xxxxx"

var (
	// signatureRE matches a SigV4 signature, in an Authorization header
	// (Signature=hex) or a presigned URL (X-Amz-Signature=hex).
	signatureRE = regexp.MustCompile(`(?i)(signature=)[0-9a-f]{16,}`)

	// labelledRE matches a value labelled as a secret key or a session
	// token: header lines (x-amz-security-token:v), query parameters
	// (X-Amz-Security-Token=v), shell and INI assignments
	// (AWS_SECRET_ACCESS_KEY=v, aws_session_token = v) and JSON members
	// ("SecretAccessKey": "v", also with escaped quotes). Group 1 is the
	// label and separator, kept; group 2 the value, masked.
	labelledRE = regexp.MustCompile(`(?i)(\b(?:aws_)?(?:secret[_-]?(?:access[_-]?)?key|(?:session|security)[_-]?token)["'\\]*\s*[:=]\s*["'\\]*)([^\s"'\\,;&}]+)`)

	// tokenMemberRE matches the "Token" member of the JSON documents that
	// the ECS and EC2 credential endpoints serve. A bare "token" label
	// elsewhere is too common in prose ("token: expired") to mask.
	tokenMemberRE = regexp.MustCompile(`(?i)("token\\?"\s*:\s*\\?")([^"\\]+)`)

	// longBase64RE matches a run of 100 or more base64 (or percent-encoded)
	// characters: session tokens are several hundred, and prose, paths
	// and identifiers are broken up by spaces, dots or dashes well before.
	longBase64RE = regexp.MustCompile(`(?:[A-Za-z0-9+/]|%[0-9A-Fa-f]{2}){100,}={0,2}`)

	// textUserinfoRE matches the password of a URL within text
	// (scheme://user:password@host); the password stops at a path,
	// query or fragment delimiter, so "http://host:9/a@b" is left alone.
	textUserinfoRE = regexp.MustCompile(`(//[^/?#@\s:]*:)[^/?#@\s]+@`)

	// urlUserinfoRE matches the password of a URL that does not parse:
	// everything from "//user:" to the last "@" before a space, since a
	// raw password may hold "/", "#" or "@".
	urlUserinfoRE = regexp.MustCompile(`(//[^/?#@\s:]*:)\S*@`)
)

// Text returns s with every occurrence of the given secrets masked (as
// given and URL-encoded; secrets shorter than [MinSecretLen] are skipped),
// and with values that look like credentials masked: SigV4 signatures,
// labelled secret keys and session tokens, long base64 runs, and URL
// passwords. Pass the secret access key and the session token of the
// credentials in use.
func Text(s string, secrets ...string) string {
	for _, secret := range secrets {
		if len(secret) < MinSecretLen {
			continue
		}
		s = strings.ReplaceAll(s, secret, Mask)
		if esc := url.QueryEscape(secret); esc != secret {
			s = strings.ReplaceAll(s, esc, Mask)
		}
	}
	s = signatureRE.ReplaceAllString(s, "${1}"+Mask)
	s = labelledRE.ReplaceAllString(s, "${1}"+Mask)
	s = tokenMemberRE.ReplaceAllString(s, "${1}"+Mask)
	s = longBase64RE.ReplaceAllLiteralString(s, Mask)
	s = textUserinfoRE.ReplaceAllString(s, "${1}"+urlMask+"@")
	return s
}

// URL returns raw with its password, if any, replaced by "xxxxx", as
// url.URL.Redacted does. A URL that does not parse is masked from the
// "//user:" that starts its user information to the last "@" of the
// string's non-space run, which covers passwords holding "/", "#" or
// "@". Anything else is returned unchanged.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return urlUserinfoRE.ReplaceAllString(raw, "${1}"+urlMask+"@")
	}
	if _, ok := u.User.Password(); !ok {
		return raw
	}
	return u.Redacted()
}
