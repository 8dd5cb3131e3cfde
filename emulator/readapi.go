package emulator

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
)

// The read-only calls test suites make before or around invocations:
// GetFunction, GetFunctionConfiguration, ListFunctions, ListAliases and
// GetAccountSettings, at the paths and with the JSON shapes of the Lambda
// API (2015-03-31; 2016-08-19 for GetAccountSettings), signed like Invoke.

// Paging of ListFunctions and ListAliases.
const (
	// listPageSize is the most items one answer holds: "ListFunctions
	// returns a maximum of 50 items in each response, even if you set
	// the number higher" (Lambda API reference, MaxItems); the emulator
	// pages ListAliases the same way.
	listPageSize = 50
	// maxListItems is the largest MaxItems the API model allows.
	maxListItems = 10000
)

// handleGetFunction serves GetFunction, or GetFunctionConfiguration when
// configOnly is set.
func (s *Server) handleGetFunction(w http.ResponseWriter, call *apiRequest, configOnly bool) {
	action := "lambda:GetFunction"
	if configOnly {
		action = "lambda:GetFunctionConfiguration"
	}
	t, aerr := s.target(call, action)
	if aerr != nil {
		s.writeError(w, call.requestID, aerr)
		return
	}
	cfg := s.configuration(t.fn, t.arn, call.region, t.version, true)
	if configOnly {
		writeJSON(w, call.requestID, cfg)
		return
	}
	resp := getFunctionResponse{Configuration: cfg, Code: functionCodeLocation{RepositoryType: "S3"}}
	if r := t.fn.def.ReservedConcurrency; r != nil {
		resp.Concurrency = &concurrency{ReservedConcurrentExecutions: *r}
	}
	writeJSON(w, call.requestID, resp)
}

// target resolves the function a read-only call names.
func (s *Server) target(call *apiRequest, action string) (target, *apiError) {
	var query map[string][]string
	if call.r.URL.RawQuery != "" {
		query = call.r.URL.Query()
	}
	parsed, qualifier, aerr := parseFunctionName(call.name, query)
	if aerr != nil {
		return target{}, aerr
	}
	return s.resolve(call.region, parsed, qualifier, action)
}

// handleListFunctions serves ListFunctions: the functions in name order,
// in pages. FunctionVersion=ALL lists the same, since $LATEST is every
// function's only version.
func (s *Server) handleListFunctions(w http.ResponseWriter, call *apiRequest) {
	query := call.r.URL.Query()
	if v, ok := query["FunctionVersion"]; ok && (len(v) == 0 || v[0] != "ALL") {
		aerr := errValidation(query.Get("FunctionVersion"), "functionVersion", "Member must satisfy enum value set: [ALL]")
		s.writeError(w, call.requestID, aerr)
		return
	}
	names := make([]string, 0, len(s.functions))
	for name := range s.functions {
		names = append(names, name)
	}
	slices.Sort(names)
	page, next, aerr := paginate(names, query)
	if aerr != nil {
		s.writeError(w, call.requestID, aerr)
		return
	}
	resp := struct {
		Functions  []functionConfiguration `json:"Functions"`
		NextMarker string                  `json:"NextMarker,omitempty"`
	}{Functions: make([]functionConfiguration, 0, len(page)), NextMarker: next}
	for _, name := range page {
		resp.Functions = append(resp.Functions,
			s.configuration(s.functions[name], s.functionARN(call.region, name, ""), call.region, latest, false))
	}
	writeJSON(w, call.requestID, resp)
}

// handleListAliases serves ListAliases: the function's aliases in name
// order, in pages, optionally only those of one FunctionVersion.
func (s *Server) handleListAliases(w http.ResponseWriter, call *apiRequest) {
	t, aerr := s.target(call, "lambda:ListAliases")
	if aerr != nil {
		s.writeError(w, call.requestID, aerr)
		return
	}
	query := call.r.URL.Query()
	var names []string
	if v := query.Get("FunctionVersion"); v == "" || v == latest {
		names = t.fn.aliasNames() // every alias maps to $LATEST
	}
	page, next, aerr := paginate(names, query)
	if aerr != nil {
		s.writeError(w, call.requestID, aerr)
		return
	}
	resp := struct {
		Aliases    []aliasConfiguration `json:"Aliases"`
		NextMarker string               `json:"NextMarker,omitempty"`
	}{Aliases: make([]aliasConfiguration, 0, len(page)), NextMarker: next}
	for _, alias := range page {
		resp.Aliases = append(resp.Aliases, aliasConfiguration{
			AliasArn:        s.functionARN(call.region, t.fn.def.Name, alias),
			Name:            alias,
			FunctionVersion: t.fn.aliases[alias],
			RevisionID:      t.fn.aliasRevisions[alias],
		})
	}
	writeJSON(w, call.requestID, resp)
}

// handleGetAccountSettings serves GetAccountSettings: the account's
// concurrency as configured, Lambda's code-size quotas, and the number of
// functions (whose code takes no space).
func (s *Server) handleGetAccountSettings(w http.ResponseWriter, call *apiRequest) {
	reserved := 0
	for _, f := range s.functions {
		if r := f.def.ReservedConcurrency; r != nil {
			reserved += *r
		}
	}
	writeJSON(w, call.requestID, accountSettings{
		AccountLimit: accountLimit{
			TotalCodeSize:                  totalCodeSizeLimit,
			CodeSizeUnzipped:               codeSizeUnzippedLimit,
			CodeSizeZipped:                 codeSizeZippedLimit,
			ConcurrentExecutions:           s.cfg.AccountConcurrency,
			UnreservedConcurrentExecutions: s.cfg.AccountConcurrency - reserved,
		},
		AccountUsage: accountUsage{FunctionCount: int64(len(s.functions))},
	})
}

// paginate returns the page of sorted names that the query's Marker and
// MaxItems select, and the marker of the next page ("" after the last).
// A marker is opaque to clients: the last name of the page before, in
// base64. A MaxItems outside the model's 1..10000 gets the front end's
// ValidationException; for a MaxItems that is no number or a marker the
// emulator did not make (which no SDK sends) no capture of Lambda's
// answer was found, and the emulator answers InvalidParameterValueException.
func paginate(names []string, query map[string][]string) (page []string, next string, _ *apiError) {
	size := listPageSize
	if v, ok := query["MaxItems"]; ok && len(v) > 0 {
		n, err := strconv.Atoi(v[0])
		switch {
		case err != nil:
			return nil, "", errInvalidParameter("Invalid MaxItems: %s", v[0])
		case n < 1:
			return nil, "", errValidation(v[0], "maxItems", "Member must have value greater than or equal to 1")
		case n > maxListItems:
			return nil, "", errValidation(v[0], "maxItems", "Member must have value less than or equal to 10000")
		}
		size = min(n, listPageSize)
	}
	if v, ok := query["Marker"]; ok && len(v) > 0 && v[0] != "" {
		after, err := base64.RawURLEncoding.DecodeString(v[0])
		if err != nil {
			return nil, "", errInvalidParameter("Invalid Marker: %s", v[0])
		}
		i, _ := slices.BinarySearch(names, string(after))
		for i < len(names) && names[i] <= string(after) {
			i++
		}
		names = names[i:]
	}
	if len(names) > size {
		return names[:size], base64.RawURLEncoding.EncodeToString([]byte(names[size-1])), nil
	}
	return names, "", nil
}
