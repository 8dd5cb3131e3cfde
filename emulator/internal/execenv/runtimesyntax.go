package execenv

import "bytes"

// The character classes of RFC 9110 that requests are checked against,
// as net/textproto checks them.

// parseField splits a header or trailer field line, "name: value", into
// its name (an RFC 9110 token: no whitespace before the colon, RFC 9112
// §5.1) and its value without surrounding whitespace, which must hold no
// control characters but HTAB (RFC 9110 §5.5: no NUL, CR or LF).
func parseField(line []byte) (name, value []byte, ok bool) {
	name, value, ok = bytes.Cut(line, []byte{':'})
	if !ok || !isToken(name) {
		return nil, nil, false
	}
	value = bytes.Trim(value, " \t")
	for _, c := range value {
		if !fieldValueChars[c] {
			return nil, nil, false
		}
	}
	return name, value, true
}

// isToken reports whether b is a non-empty RFC 9110 token, as methods and
// field names are.
func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !tokenChars[c] {
			return false
		}
	}
	return true
}

// parseLength parses a Content-Length value: decimal digits only (no
// sign, as strconv.ParseUint reads it for net/http), at most 2^63-1.
func parseLength(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if n > 1<<63-1 {
		return 0, false
	}
	return int64(n), true
}

// validHost reports whether b may be a Host value, by the bytes
// net/http's server allows there (httpguts.ValidHostHeader).
func validHost(b []byte) bool {
	for _, c := range b {
		if !hostChars[c] {
			return false
		}
	}
	return true
}

var (
	tokenChars      = charClass("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!#$%&'*+-.^_`|~")
	hostChars       = charClass("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!$%&'()*+,-.:;=[]_~")
	fieldValueChars = func() (t [256]bool) {
		t['\t'] = true
		for c := 0x20; c < 0x100; c++ {
			t[c] = c != 0x7f // VCHAR, SP, obs-text
		}
		return t
	}()
)

func charClass(s string) (t [256]bool) {
	for i := 0; i < len(s); i++ {
		t[s[i]] = true
	}
	return t
}

// asciiEqualFold reports whether b equals s, ignoring ASCII case.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
