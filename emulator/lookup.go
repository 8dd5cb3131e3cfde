package emulator

import (
	"strconv"

	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// target is a served function as a call named it.
type target struct {
	fn *function
	// version is the version that the qualifier resolves to.
	version string
	// arn is the ARN the call named, qualified when the call was.
	arn string
}

// parseFunctionName validates a FunctionName path label and the Qualifier
// query parameter of a call. Parameters outside the API model's
// constraints are rejected by AWS's front end before Lambda looks at the
// function: 400 ValidationException, body {"message": "1 validation error
// detected: …"} (ex-aws/ex_aws#442 captures one in full, for
// invocationType).
func parseFunctionName(name string, query map[string][]string) (lambdaapi.Name, string, *apiError) {
	parsed, err := lambdaapi.Parse(name)
	switch {
	case len(name) > lambdaapi.MaxFunctionNameLen:
		return parsed, "", errValidation(name, "functionName", "Member must have length less than or equal to "+strconv.Itoa(lambdaapi.MaxFunctionNameLen))
	case err != nil:
		return parsed, "", errValidation(name, "functionName", "Member must satisfy regular expression pattern: "+lambdaapi.FunctionNamePattern)
	}
	var qualifier string
	if q, ok := query[lambdaapi.QualifierParam]; ok {
		if len(q) > 0 {
			qualifier = q[0]
		}
		if lambdaapi.CheckQualifier(qualifier) != nil {
			return parsed, "", errValidation(qualifier, "qualifier", "Member must satisfy regular expression pattern: "+lambdaapi.QualifierPattern)
		}
	}
	return parsed, qualifier, nil
}

// resolve finds the function a call names, in region, for action (the
// IAM action of the call, e.g. "lambda:InvokeFunction"), with Lambda's
// answers when it cannot: a region other than the endpoint's is
// unreachable (404), another account's function is not the caller's to
// use (403 AccessDeniedException, which also hides whether it exists),
// and an unknown function or alias is not found (404).
func (s *Server) resolve(region string, parsed lambdaapi.Name, qualifier, action string) (target, *apiError) {
	if parsed.Qualifier != "" {
		if qualifier != "" && qualifier != parsed.Qualifier {
			return target{}, errInvalidParameter("The derived qualifier from the function name does not match the specified qualifier.")
		}
		qualifier = parsed.Qualifier
	}
	if parsed.Region != "" && parsed.Region != region {
		return target{}, errRegionMismatch(parsed.Region, region)
	}
	if parsed.Account != "" && parsed.Account != s.cfg.AccountID {
		return target{}, errAccessDenied(partitionOf(region), s.cfg.AccountID, action,
			arnIn(region, parsed.Account, parsed.Function, qualifier))
	}
	arn := s.functionARN(region, parsed.Function, qualifier)
	fn, ok := s.functions[parsed.Function]
	if !ok {
		return target{}, errFunctionNotFound(arn)
	}
	version, ok := fn.resolveQualifier(qualifier)
	if !ok {
		return target{}, errFunctionNotFound(arn)
	}
	return target{fn: fn, version: version, arn: arn}, nil
}

// functionARN builds an ARN of one of the server's functions in region,
// qualified when qualifier is not empty.
func (s *Server) functionARN(region, name, qualifier string) string {
	return arnIn(region, s.cfg.AccountID, name, qualifier)
}

// arnIn builds the ARN of a function of account in region, qualified when
// qualifier is not empty.
func arnIn(region, account, name, qualifier string) string {
	arn := "arn:" + partitionOf(region) + ":lambda:" + region + ":" + account + ":function:" + name
	if qualifier != "" {
		arn += ":" + qualifier
	}
	return arn
}
