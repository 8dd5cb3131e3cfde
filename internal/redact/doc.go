// Package redact masks credentials in text before it is shown: the error
// bodies a server sends back, the messages of credential providers, URLs
// that carry a password.
//
// It is a last line of defence, not a parser. [Text] masks the secret
// values it is given wherever they occur (also URL-encoded), and values
// that look like credentials by their label (Signature=…,
// X-Amz-Security-Token…, aws_secret_access_key=…, "SecretAccessKey": …) or
// by their shape (a run of 100 or more base64 characters, as session
// tokens are). [URL] masks a URL's password, even in a URL that does not
// parse. Both are conservative: ordinary error messages pass through
// unchanged.
//
// The functions are safe for concurrent use.
package redact
