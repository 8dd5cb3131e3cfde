package lambdaapi

import (
	"fmt"
	"strings"
)

// Name is a parsed FunctionName.
type Name struct {
	// Function is the function's own name, e.g. "my-function".
	Function string
	// Region comes from a full ARN or a region-prefixed partial ARN.
	Region string
	// Account comes from a full or partial ARN.
	Account string
	// Partition comes from a full ARN, e.g. "aws" or "aws-cn".
	Partition string
	// Qualifier is the ":alias" or ":version" suffix, if any.
	Qualifier string
}

// Limits on FunctionName and Qualifier, from the Invoke API model
// (shapes NamespacedFunctionName and Qualifier): "The length constraint
// applies only to the full ARN. If you specify only the function name, it
// is limited to 64 characters."
const (
	// MaxFunctionNameLen is the longest FunctionName, in its longest
	// (ARN) form.
	MaxFunctionNameLen = 256
	// maxBareNameLen is the longest function's own name.
	maxBareNameLen = 64
	// maxQualifierLen is the longest Qualifier.
	maxQualifierLen = 128
)

// Latest is the qualifier of a function's unpublished version, the one
// an unqualified FunctionName invokes, and the HeaderExecutedVersion of an
// answer it gave.
const Latest = "$LATEST"

// The FunctionName and Qualifier patterns of the Lambda API model, as
// AWS's validation errors quote them.
const (
	FunctionNamePattern = `(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:|(((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?))(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?`
	QualifierPattern    = `\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+`
)

// Parse checks a FunctionName in any of the forms the Invoke API
// accepts and returns the region and qualifier it carries:
//
//	name
//	name:qualifier
//	123456789012:function:name[:qualifier]
//	region:123456789012:function:name[:qualifier]
//	arn:partition:lambda:region:123456789012:function:name[:qualifier]
func Parse(s string) (Name, error) {
	var fn Name
	if s == "" {
		return fn, fmt.Errorf("missing or empty")
	}
	if len(s) > MaxFunctionNameLen {
		return fn, fmt.Errorf("%d characters, longer than the maximum of %d", len(s), MaxFunctionNameLen)
	}
	parts := strings.Split(s, ":")
	var name string
	var rest []string // what follows the name: at most one qualifier
	switch {
	case parts[0] == "arn":
		if len(parts) < 7 || parts[2] != "lambda" || parts[5] != "function" {
			return fn, fmt.Errorf("%q is not a Lambda function ARN (arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER])", s)
		}
		if !strings.HasPrefix(parts[1], "aws") {
			return fn, fmt.Errorf("%q has unknown partition %q", s, parts[1])
		}
		if err := CheckRegion(parts[3]); err != nil {
			return fn, fmt.Errorf("%q: %w", s, err)
		}
		if !isAccountID(parts[4]) {
			return fn, fmt.Errorf("%q: account %q is not 12 digits", s, parts[4])
		}
		fn.Partition, fn.Region, fn.Account = parts[1], parts[3], parts[4]
		name, rest = parts[6], parts[7:]
	case len(parts) >= 3 && parts[1] == "function":
		if !isAccountID(parts[0]) {
			return fn, fmt.Errorf("%q: account %q is not 12 digits", s, parts[0])
		}
		fn.Account = parts[0]
		name, rest = parts[2], parts[3:]
	case len(parts) >= 4 && parts[2] == "function":
		if err := CheckRegion(parts[0]); err != nil {
			return fn, fmt.Errorf("%q: %w", s, err)
		}
		if !isAccountID(parts[1]) {
			return fn, fmt.Errorf("%q: account %q is not 12 digits", s, parts[1])
		}
		fn.Region, fn.Account = parts[0], parts[1]
		name, rest = parts[3], parts[4:]
	default:
		name, rest = parts[0], parts[1:]
	}
	if err := checkBareName(name); err != nil {
		return fn, fmt.Errorf("%q: %w", s, err)
	}
	fn.Function = name
	switch len(rest) {
	case 0:
	case 1:
		if err := CheckQualifier(rest[0]); err != nil {
			return fn, fmt.Errorf("%q: %w", s, err)
		}
		fn.Qualifier = rest[0]
	default:
		return fn, fmt.Errorf("%q has too many ':'-separated parts", s)
	}
	return fn, nil
}

// CheckName validates the name a function is defined with: its own name,
// not an ARN or a qualified name.
func CheckName(name string) error {
	if name == "" {
		return fmt.Errorf("function with an empty name")
	}
	if checkBareName(name) != nil {
		return fmt.Errorf("function name %q: use letters, digits, '-', '_' and '.', at most %d", name, maxBareNameLen)
	}
	return nil
}

// checkBareName validates a function's own name: letters, digits, '-', '_'
// and '.', at most 64 characters.
func checkBareName(name string) error {
	if name == "" {
		return fmt.Errorf("empty function name")
	}
	if len(name) > maxBareNameLen {
		return fmt.Errorf("function name is %d characters, longer than the maximum of %d", len(name), maxBareNameLen)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return fmt.Errorf("function name has invalid character %q (allowed: letters, digits, '-', '_', '.')", c)
		}
	}
	return nil
}

// CheckQualifier validates a version or alias: "$LATEST",
// "$LATEST.PUBLISHED", or letters, digits, '-' and '_' (at most 128).
func CheckQualifier(q string) error {
	if q == "" {
		return fmt.Errorf("empty qualifier")
	}
	if len(q) > maxQualifierLen {
		return fmt.Errorf("qualifier is %d characters, longer than the maximum of %d", len(q), maxQualifierLen)
	}
	if q == Latest || q == Latest+".PUBLISHED" {
		return nil
	}
	for i := 0; i < len(q); i++ {
		if c := q[i]; !isAlnum(c) && c != '-' && c != '_' {
			return fmt.Errorf("qualifier %q has invalid character %q (a version number, an alias, or $LATEST)", q, c)
		}
	}
	return nil
}

// CheckRegion validates the shape of an AWS region name such as us-east-1,
// cn-north-1 or us-gov-west-1: lowercase words joined by '-', ending in a
// number. Whether the region exists is for the endpoint resolver and the
// service to say.
func CheckRegion(region string) error {
	if region == "" {
		return fmt.Errorf("empty region")
	}
	words := strings.Split(region, "-")
	last := words[len(words)-1]
	ok := len(words) >= 3 && last != "" && len(region) <= 64
	for _, c := range []byte(last) {
		ok = ok && c >= '0' && c <= '9'
	}
	for _, w := range words[:len(words)-1] {
		ok = ok && w != ""
		for _, c := range []byte(w) {
			ok = ok && c >= 'a' && c <= 'z'
		}
	}
	if !ok {
		return fmt.Errorf("%q is not an AWS region name (like us-east-1)", region)
	}
	return nil
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// EscapePathSegment percent-encodes s as one URI path segment the way the
// AWS SDKs encode URI labels: everything but the unreserved characters
// A-Z a-z 0-9 - . _ ~ is escaped, so an ARN's ':' becomes %3A and
// "$LATEST" becomes %24LATEST.
func EscapePathSegment(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !isUnreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return string(b)
}

func isUnreserved(c byte) bool {
	return isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~'
}
