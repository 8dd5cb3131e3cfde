package emulator

import (
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"maps"
	"runtime"
	"strings"
	"time"

	"github.com/lambdafan/lambdafan/emulator/internal/execenv"
)

// The JSON shapes of the read-only API calls, member names as the Lambda
// API model spells them (aws-sdk-go-v2 service/lambda schemas:
// FunctionConfiguration, GetFunctionResponse, AliasConfiguration,
// GetAccountSettingsResponse), and values in the form real answers carry
// them (the AWS CLI's get-function and list-functions examples:
// "LastModified": "2025-09-24T18:20:35.054+0000", "Timeout": 3,
// "TracingConfig": {"Mode": "PassThrough"}).

// functionConfiguration is the FunctionConfiguration shape.
type functionConfiguration struct {
	FunctionName     string               `json:"FunctionName"`
	FunctionArn      string               `json:"FunctionArn"`
	Runtime          string               `json:"Runtime"`
	Role             string               `json:"Role"`
	Handler          string               `json:"Handler"`
	CodeSize         int64                `json:"CodeSize"`
	Description      string               `json:"Description"`
	Timeout          int                  `json:"Timeout"`
	MemorySize       int                  `json:"MemorySize"`
	LastModified     string               `json:"LastModified"`
	CodeSha256       string               `json:"CodeSha256"`
	Version          string               `json:"Version"`
	Environment      *environmentResponse `json:"Environment,omitempty"`
	TracingConfig    tracingConfig        `json:"TracingConfig"`
	RevisionID       string               `json:"RevisionId"`
	State            string               `json:"State,omitempty"`
	LastUpdateStatus string               `json:"LastUpdateStatus,omitempty"`
	PackageType      string               `json:"PackageType"`
	Architectures    []string             `json:"Architectures"`
	EphemeralStorage ephemeralStorage     `json:"EphemeralStorage"`
	SnapStart        snapStart            `json:"SnapStart"`
	LoggingConfig    loggingConfig        `json:"LoggingConfig"`
}

type environmentResponse struct {
	Variables map[string]string `json:"Variables"`
}

type tracingConfig struct {
	Mode string `json:"Mode"`
}

type ephemeralStorage struct {
	Size int `json:"Size"`
}

type snapStart struct {
	ApplyOn            string `json:"ApplyOn"`
	OptimizationStatus string `json:"OptimizationStatus"`
}

type loggingConfig struct {
	LogFormat string `json:"LogFormat"`
	LogGroup  string `json:"LogGroup"`
}

// getFunctionResponse is GetFunction's answer.
type getFunctionResponse struct {
	Configuration functionConfiguration `json:"Configuration"`
	Code          functionCodeLocation  `json:"Code"`
	Concurrency   *concurrency          `json:"Concurrency,omitempty"`
}

// functionCodeLocation tells where a function's code is. Lambda adds a
// presigned S3 URL (Location) valid for ten minutes; the emulator has no
// code package to offer and leaves it out.
type functionCodeLocation struct {
	RepositoryType string `json:"RepositoryType"`
}

type concurrency struct {
	ReservedConcurrentExecutions int `json:"ReservedConcurrentExecutions"`
}

// aliasConfiguration is the AliasConfiguration shape.
type aliasConfiguration struct {
	AliasArn        string `json:"AliasArn"`
	Name            string `json:"Name"`
	FunctionVersion string `json:"FunctionVersion"`
	Description     string `json:"Description"`
	RevisionID      string `json:"RevisionId"`
}

// Lambda's code-size quotas, as GetAccountSettings reports them (the AWS
// CLI's get-account-settings example: "CodeSizeUnzipped": 262144000,
// "CodeSizeZipped": 52428800, "TotalCodeSize": 80530636800).
const (
	codeSizeUnzippedLimit = 262144000
	codeSizeZippedLimit   = 52428800
	totalCodeSizeLimit    = 80530636800
)

type accountSettings struct {
	AccountLimit accountLimit `json:"AccountLimit"`
	AccountUsage accountUsage `json:"AccountUsage"`
}

type accountLimit struct {
	TotalCodeSize                  int64 `json:"TotalCodeSize"`
	CodeSizeUnzipped               int64 `json:"CodeSizeUnzipped"`
	CodeSizeZipped                 int64 `json:"CodeSizeZipped"`
	ConcurrentExecutions           int   `json:"ConcurrentExecutions"`
	UnreservedConcurrentExecutions int   `json:"UnreservedConcurrentExecutions"`
}

type accountUsage struct {
	TotalCodeSize int64 `json:"TotalCodeSize"`
	FunctionCount int64 `json:"FunctionCount"`
}

// lastModifiedFormat is the form of FunctionConfiguration.LastModified.
const lastModifiedFormat = "2006-01-02T15:04:05.000-0700"

// configuration describes fn as called by arn in region. Every function
// reports the OS-only runtime the emulator's command functions get
// (provided.al2023, a Zip package, the emulator's architecture), a role
// named after the emulator, Lambda's defaults for what the emulator does
// not model (512 MB of /tmp, no tracing, no SnapStart, text logs) and, for
// the life of the server, the same revision and modification time.
// withState adds the State and LastUpdateStatus members GetFunction and
// GetFunctionConfiguration return and ListFunctions leaves out.
func (s *Server) configuration(fn *function, arn, region, version string, withState bool) functionConfiguration {
	def := fn.def
	c := functionConfiguration{
		FunctionName:     def.Name,
		FunctionArn:      arn,
		Runtime:          strings.TrimPrefix(execenv.ExecutionEnv, "AWS_Lambda_"),
		Role:             "arn:" + partitionOf(region) + ":iam::" + s.cfg.AccountID + ":role/lambdafan-emulator",
		Handler:          "bootstrap",
		Timeout:          int((def.Timeout + time.Second - 1) / time.Second),
		MemorySize:       def.MemorySize,
		LastModified:     s.started.UTC().Format(lastModifiedFormat),
		CodeSha256:       codeSHA256(def),
		Version:          version,
		TracingConfig:    tracingConfig{Mode: "PassThrough"},
		RevisionID:       fn.revisionID,
		PackageType:      "Zip",
		Architectures:    []string{architecture()},
		EphemeralStorage: ephemeralStorage{Size: 512},
		SnapStart:        snapStart{ApplyOn: "None", OptimizationStatus: "Off"},
		LoggingConfig:    loggingConfig{LogFormat: "Text", LogGroup: "/aws/lambda/" + def.Name},
	}
	if len(def.Command) > 0 {
		c.Handler = cmp.Or(def.RuntimeHandler, execenv.HandlerName(def.Command[0]))
		if len(def.Environment) > 0 {
			c.Environment = &environmentResponse{Variables: maps.Clone(def.Environment)}
		}
	}
	if withState {
		c.State, c.LastUpdateStatus = "Active", "Successful"
	}
	return c
}

// codeSHA256 stands in for the hash of a function's deployment package,
// which the emulator does not have: the base64 SHA-256 (the encoding
// Lambda uses) of the function's name and command, which changes when
// the definition does.
func codeSHA256(def Function) string {
	h := sha256.New()
	h.Write([]byte(def.Name))
	for _, arg := range def.Command {
		h.Write([]byte{0})
		h.Write([]byte(arg))
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// architecture is the Lambda architecture of the machine the emulator
// runs on.
func architecture() string {
	if runtime.GOARCH == "arm64" {
		return "arm64"
	}
	return "x86_64"
}
