package emulator

import "strings"

// validRegion reports whether region has the shape of a region name in
// Lambda's API model, the region part of its FunctionName pattern
// (botocore service-2.json, quoted in lambdaapi.FunctionNamePattern):
//
//	(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}
//
// which every published region matches (us-east-1, us-gov-west-1,
// us-isob-east-1, eusc-de-east-1, …). Only the shape is checked: a region
// Lambda does not run in, such as xx-fake-9, is served like any other,
// since a client can only reach the emulator through an endpoint URL and
// the region is then no more than a name in the signature and in ARNs.
func validRegion(region string) bool {
	s := strings.TrimPrefix(region, "eusc-")
	if len(s) < 2 || !isLower(s[0]) || !isLower(s[1]) {
		return false
	}
	s = s[2:]
	if regionTail(s) {
		return true
	}
	// The optional (-gov)|(-iso[a-z]?) part.
	for _, infix := range []string{"-gov", "-iso"} {
		if rest, ok := strings.CutPrefix(s, infix); ok {
			if regionTail(rest) || len(rest) > 0 && isLower(rest[0]) && regionTail(rest[1:]) {
				return true
			}
		}
	}
	return false
}

// regionTail reports whether s is -[a-z]+-\d, the end of a region name.
func regionTail(s string) bool {
	if len(s) < 4 || s[0] != '-' || s[len(s)-2] != '-' || !isDigit(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s)-2; i++ {
		if !isLower(s[i]) {
			return false
		}
	}
	return true
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// partitionOf names the AWS partition a region belongs to.
func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	case strings.HasPrefix(region, "eusc-"):
		return "aws-eusc"
	}
	return "aws"
}
