package emulator

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"

	"golang.org/x/sync/semaphore"
)

// admitted is a request that passed authentication, with its body.
type admitted struct {
	// region is the region the request was signed for: the region the
	// client meant to call.
	region string
	body   []byte
	// held is how much of the server's request-bytes budget the body
	// holds until release.
	held   int64
	budget *semaphore.Weighted
}

// release gives the body's bytes back to the budget. The body must not be
// used afterwards by anything not accounted for elsewhere (the event
// queue accounts for the payloads it keeps).
func (a *admitted) release() {
	if a.held > 0 {
		a.budget.Release(a.held)
		a.held = 0
	}
}

// admit authenticates r and reads its body, in the order that keeps an
// unauthenticated client from making the server hold memory:
//
//  1. every signature check that needs no body (checkHeaders), so an
//     unsigned or ill-signed request is answered 403 without a byte of its
//     body read;
//  2. when the client sent a signed X-Amz-Content-Sha256, the signature
//     itself, over that hash — still before the body;
//  3. the body, within the server's request-bytes budget (a 429 when the
//     budget is spent) and Lambda's 6 MB limit;
//  4. the signature over the body's hash, or the body against the signed
//     hash.
//
// Neither aws-sdk-go-v2 nor botocore sends X-Amz-Content-Sha256 to Lambda
// (it is an S3 header: botocore's S3SigV4Auth adds it, SigV4Auth does not;
// aws-sdk-go-v2's Lambda client never adds its ContentSHA256Header
// middleware), so for real clients step 4 is where the signature is
// checked: requiring the header would turn away every SDK. What bounds
// memory for them is step 1 (a client must know the access key ID and
// sign with a current date to get past it) and the budget of step 3.
//
// It fills in a, on which the caller must call release, also after an
// error.
func (s *Server) admit(r *http.Request, a *admitted) *apiError {
	*a = admitted{region: DefaultRegion, budget: s.bodyBytes}
	if s.auth == nil {
		// NoAuth: take the region from a signature when there is one.
		if region := scopeRegion(r.Header.Get("Authorization")); validRegion(region) {
			a.region = region
		}
		return s.readBody(r, a)
	}
	sig, signedAt, aerr := s.auth.checkHeaders(r)
	if aerr != nil {
		return aerr
	}
	a.region = sig.region
	claimed, signedHash := signedPayloadHash(r, sig)
	if signedHash {
		if aerr := s.auth.checkSignature(r.Context(), r, sig, signedAt, claimed); aerr != nil {
			return aerr
		}
	}
	if aerr := s.readBody(r, a); aerr != nil {
		return aerr
	}
	sum := sha256.Sum256(a.body)
	var hash [2 * sha256.Size]byte
	hex.Encode(hash[:], sum[:])
	if signedHash {
		// The signature covered the claimed hash; the body must have it.
		if subtle.ConstantTimeCompare(hash[:], []byte(claimed)) != 1 {
			return errSignatureMismatch()
		}
		return nil
	}
	return s.auth.checkSignature(r.Context(), r, sig, signedAt, string(hash[:]))
}

// scopeRegion returns the region of the credential scope of a SigV4
// Authorization header ("… Credential=AKID/DATE/REGION/SERVICE/…"), or ""
// when there is none, without parsing (or allocating) the rest.
func scopeRegion(authz string) string {
	_, cred, ok := strings.Cut(authz, "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	for range 2 { // past the key and the date
		if _, cred, ok = strings.Cut(cred, "/"); !ok {
			return ""
		}
	}
	region, _, _ := strings.Cut(cred, "/")
	return region
}

// signedPayloadHash returns the X-Amz-Content-Sha256 of r and whether it
// can stand in for the body's hash: signed and a SHA-256 in lowercase hex
// (S3's UNSIGNED-PAYLOAD and the like are not, and then the body's own
// hash must match the signature).
func signedPayloadHash(r *http.Request, sig sigV4) (string, bool) {
	v := r.Header["X-Amz-Content-Sha256"]
	if len(v) != 1 || len(v[0]) != 2*sha256.Size {
		return "", false
	}
	for i := 0; i < len(v[0]); i++ {
		if c := v[0][i]; !isDigit(c) && (c < 'a' || c > 'f') {
			return "", false
		}
	}
	for _, h := range sig.signedHeaders {
		if h == "x-amz-content-sha256" {
			return v[0], true
		}
	}
	return "", false
}

// readBody reads r's body into a, at most MaxSyncPayloadBytes, taking its
// size from the server's budget first. A body whose length is declared is
// read into a buffer of exactly that size (io.ReadAll would grow one from
// 512 bytes); one declared too large is refused unread. Reading to the
// body's end also lifts an http.Server's ReadTimeout for the rest of the
// call (net/http clears the read deadline when it starts watching the
// connection for the client going away), so that timeout bounds reading
// the request, not a long invocation that follows.
func (s *Server) readBody(r *http.Request, a *admitted) *apiError {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	switch n := r.ContentLength; {
	case n > MaxSyncPayloadBytes:
		return errSyncTooLarge()
	case n > 0:
		return a.readDeclared(r.Body, n)
	default:
		return a.readChunked(r.Body)
	}
}

// readDeclared reads a body of declared length n.
func (a *admitted) readDeclared(body io.Reader, n int64) *apiError {
	if !a.budget.TryAcquire(n) {
		return errBusy()
	}
	a.held = n
	a.body = make([]byte, n)
	if _, err := io.ReadFull(body, a.body); err != nil {
		return errInvalidRequestContent("Could not read request body: " + err.Error())
	}
	return nil
}

// chunkedStep is the first buffer of a body of unknown length; buffers
// double from there.
const chunkedStep = 64 << 10

// readChunked reads a body of unknown length, taking each growth of its
// buffer from the budget before allocating it.
func (a *admitted) readChunked(body io.Reader) *apiError {
	const limit = MaxSyncPayloadBytes + 1 // one more byte tells "too large"
	var buf []byte
	for {
		if len(buf) == cap(buf) {
			grow := min(max(int64(cap(buf)), chunkedStep), limit-int64(cap(buf)))
			if grow == 0 {
				return errSyncTooLarge()
			}
			if !a.budget.TryAcquire(grow) {
				return errBusy()
			}
			a.held += grow
			bigger := make([]byte, len(buf), int64(cap(buf))+grow)
			copy(bigger, buf)
			buf = bigger
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case errors.Is(err, io.EOF):
			if len(buf) > MaxSyncPayloadBytes {
				return errSyncTooLarge()
			}
			a.body = buf
			return nil
		case err != nil:
			return errInvalidRequestContent("Could not read request body: " + err.Error())
		}
	}
}
