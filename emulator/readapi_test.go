package emulator_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
)

// readAPIServer serves the built-ins and "aliased", a command-less Go
// function with two aliases, reserved concurrency and a 2.5 s timeout.
func readAPIServer(t *testing.T) *emulatortest.Server {
	return emulatortest.New(t, emulator.Config{
		AccountConcurrency: 100,
		Functions: append(emulator.BuiltinFunctions(), emulator.Function{
			Name:                "aliased",
			Handler:             emulator.HandlerFunc(func(context.Context, *emulator.Invocation) ([]byte, error) { return nil, nil }),
			Aliases:             map[string]string{"live": "$LATEST", "blue": "$LATEST"},
			ReservedConcurrency: ptr(7),
			Timeout:             2500 * time.Millisecond,
			MemorySize:          256,
		}),
	})
}

func TestReadAPI_GetFunction(t *testing.T) {
	srv := readAPIServer(t)
	client := newClient(srv)
	ctx := t.Context()

	out, err := client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("aliased")})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Configuration
	arch := types.ArchitectureX8664
	if runtime.GOARCH == "arm64" {
		arch = types.ArchitectureArm64
	}
	for _, check := range []struct {
		what      string
		got, want any
	}{
		{"FunctionName", aws.ToString(c.FunctionName), "aliased"},
		{"FunctionArn", aws.ToString(c.FunctionArn), "arn:aws:lambda:us-east-1:123456789012:function:aliased"},
		{"Runtime", c.Runtime, types.RuntimeProvidedal2023},
		{"Handler", aws.ToString(c.Handler), "bootstrap"},
		{"Role", aws.ToString(c.Role), "arn:aws:iam::123456789012:role/lambdafan-emulator"},
		{"Timeout (whole seconds, rounded up)", aws.ToInt32(c.Timeout), int32(3)},
		{"MemorySize", aws.ToInt32(c.MemorySize), int32(256)},
		{"Version", aws.ToString(c.Version), "$LATEST"},
		{"State", c.State, types.StateActive},
		{"LastUpdateStatus", c.LastUpdateStatus, types.LastUpdateStatusSuccessful},
		{"PackageType", c.PackageType, types.PackageTypeZip},
		{"Architectures", fmt.Sprint(c.Architectures), fmt.Sprint([]types.Architecture{arch})},
		{"TracingConfig", c.TracingConfig.Mode, types.TracingModePassThrough},
		{"EphemeralStorage", aws.ToInt32(c.EphemeralStorage.Size), int32(512)},
		{"LoggingConfig.LogGroup", aws.ToString(c.LoggingConfig.LogGroup), "/aws/lambda/aliased"},
		{"Code.RepositoryType", aws.ToString(out.Code.RepositoryType), "S3"},
		{"Concurrency", aws.ToInt32(out.Concurrency.ReservedConcurrentExecutions), int32(7)},
	} {
		if check.got != check.want {
			t.Errorf("%s: %v, want %v", check.what, check.got, check.want)
		}
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000-0700", aws.ToString(c.LastModified)); err != nil {
		t.Errorf("LastModified %q is not in Lambda's form: %v", aws.ToString(c.LastModified), err)
	}
	if aws.ToString(c.CodeSha256) == "" || !uuidRE.MatchString(aws.ToString(c.RevisionId)) {
		t.Errorf("CodeSha256 %q, RevisionId %q", aws.ToString(c.CodeSha256), aws.ToString(c.RevisionId))
	}

	// GetFunctionConfiguration answers the same configuration, alone.
	conf, err := client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("aliased")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(conf.RevisionId) != aws.ToString(c.RevisionId) || aws.ToString(conf.LastModified) != aws.ToString(c.LastModified) {
		t.Errorf("GetFunctionConfiguration differs from GetFunction: %+v", conf)
	}

	// By alias, by ARN, in another region.
	conf, err = client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("aliased"), Qualifier: aws.String("live")})
	if err != nil || aws.ToString(conf.FunctionArn) != "arn:aws:lambda:us-east-1:123456789012:function:aliased:live" || aws.ToString(conf.Version) != "$LATEST" {
		t.Errorf("by alias: %v, %v", aws.ToString(conf.FunctionArn), err)
	}
	byARN, err := client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("arn:aws:lambda:us-east-1:123456789012:function:echo")})
	if err != nil || byARN.Concurrency != nil || aws.ToString(byARN.Configuration.FunctionName) != "echo" {
		t.Errorf("by ARN: %+v, %v", byARN, err)
	}
	cfg := srv.AWSConfig()
	cfg.Region = "eu-west-1"
	inEU := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.Retryer = aws.NopRetryer{} })
	conf, err = inEU.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("echo")})
	if err != nil || aws.ToString(conf.FunctionArn) != "arn:aws:lambda:eu-west-1:123456789012:function:echo" {
		t.Errorf("in eu-west-1: %v, %v", aws.ToString(conf.FunctionArn), err)
	}
}

func TestReadAPI_Errors(t *testing.T) {
	srv := readAPIServer(t)
	client := newClient(srv)
	ctx := t.Context()
	errorCode := func(err error) (string, string) {
		var ae smithy.APIError
		if !errors.As(err, &ae) {
			return fmt.Sprint(err), ""
		}
		return ae.ErrorCode(), ae.ErrorMessage()
	}

	_, err := client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("nope")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || aws.ToString(nf.Message) != "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope" {
		t.Errorf("unknown function: %v", err)
	}
	_, err = client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("aliased"), Qualifier: aws.String("green")})
	if !errors.As(err, &nf) {
		t.Errorf("unknown alias: %v", err)
	}
	_, err = client.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String("nope")})
	if !errors.As(err, &nf) {
		t.Errorf("aliases of an unknown function: %v", err)
	}
	_, err = client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("arn:aws:lambda:us-east-1:999999999999:function:echo")})
	if code, msg := errorCode(err); code != "AccessDeniedException" ||
		msg != "User: arn:aws:iam::123456789012:root is not authorized to perform: lambda:GetFunction on resource: arn:aws:lambda:us-east-1:999999999999:function:echo because no resource-based policy allows the lambda:GetFunction action" {
		t.Errorf("another account's function: %s %q", code, msg)
	}
	_, err = client.ListFunctions(ctx, &lambda.ListFunctionsInput{MaxItems: aws.Int32(0)})
	if code, _ := errorCode(err); code != "ValidationException" {
		t.Errorf("MaxItems 0: %v", err)
	}

	// Unsigned, every read-only path is refused like Invoke.
	for _, path := range []string{"/2015-03-31/functions/echo", "/2015-03-31/functions/echo/configuration",
		"/2015-03-31/functions/", "/2015-03-31/functions/echo/aliases", "/2016-08-19/account-settings/"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-Errortype") != "MissingAuthenticationTokenException" {
			t.Errorf("unsigned GET %s: %d %s", path, resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"))
		}
	}
}

func TestReadAPI_ListFunctions(t *testing.T) {
	srv := readAPIServer(t)
	client := newClient(srv)
	want := slices.Sorted(slices.Values(srv.Emulator.Functions()))

	for _, pageSize := range []int32{0, 1, 2, 100} { // 0: the default
		in := &lambda.ListFunctionsInput{}
		if pageSize > 0 {
			in.MaxItems = aws.Int32(pageSize)
		}
		var names []string
		pages := 0
		for p := lambda.NewListFunctionsPaginator(client, in); p.HasMorePages(); pages++ {
			out, err := p.NextPage(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range out.Functions {
				names = append(names, aws.ToString(f.FunctionName))
				if f.State != "" || aws.ToString(f.FunctionArn) != "arn:aws:lambda:us-east-1:123456789012:function:"+aws.ToString(f.FunctionName) {
					t.Errorf("listed %s: State %q (ListFunctions leaves it out), ARN %s", aws.ToString(f.FunctionName), f.State, aws.ToString(f.FunctionArn))
				}
			}
		}
		if !slices.Equal(names, want) {
			t.Errorf("MaxItems %d: listed %v, want %v", pageSize, names, want)
		}
		if pageSize == 1 && pages != len(want) {
			t.Errorf("MaxItems 1: %d pages for %d functions", pages, len(want))
		}
	}
	out, err := client.ListFunctions(t.Context(), &lambda.ListFunctionsInput{FunctionVersion: types.FunctionVersionAll})
	if err != nil || len(out.Functions) != len(want) {
		t.Errorf("FunctionVersion ALL: %d functions, %v", len(out.Functions), err)
	}
}

func TestReadAPI_ListAliases(t *testing.T) {
	srv := readAPIServer(t)
	client := newClient(srv)

	out, err := client.ListAliases(t.Context(), &lambda.ListAliasesInput{FunctionName: aws.String("aliased")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range out.Aliases {
		got = append(got, aws.ToString(a.Name)+" "+aws.ToString(a.AliasArn)+" "+aws.ToString(a.FunctionVersion))
		if !uuidRE.MatchString(aws.ToString(a.RevisionId)) {
			t.Errorf("alias %s: RevisionId %q", aws.ToString(a.Name), aws.ToString(a.RevisionId))
		}
	}
	want := []string{
		"blue arn:aws:lambda:us-east-1:123456789012:function:aliased:blue $LATEST",
		"live arn:aws:lambda:us-east-1:123456789012:function:aliased:live $LATEST",
	}
	if !slices.Equal(got, want) || out.NextMarker != nil {
		t.Errorf("aliases %q (next %v), want %q", got, out.NextMarker, want)
	}

	page, err := client.ListAliases(t.Context(), &lambda.ListAliasesInput{FunctionName: aws.String("aliased"), MaxItems: aws.Int32(1)})
	if err != nil || len(page.Aliases) != 1 || page.NextMarker == nil {
		t.Fatalf("first page: %+v, %v", page, err)
	}
	page, err = client.ListAliases(t.Context(), &lambda.ListAliasesInput{FunctionName: aws.String("aliased"), MaxItems: aws.Int32(1), Marker: page.NextMarker})
	if err != nil || len(page.Aliases) != 1 || aws.ToString(page.Aliases[0].Name) != "live" || page.NextMarker != nil {
		t.Fatalf("second page: %+v, %v", page, err)
	}
	none, err := client.ListAliases(t.Context(), &lambda.ListAliasesInput{FunctionName: aws.String("echo")})
	if err != nil || none.Aliases == nil || len(none.Aliases) != 0 {
		t.Errorf("no aliases: %+v, %v", none, err)
	}
	other, err := client.ListAliases(t.Context(), &lambda.ListAliasesInput{FunctionName: aws.String("aliased"), FunctionVersion: aws.String("1")})
	if err != nil || len(other.Aliases) != 0 {
		t.Errorf("aliases of version 1: %+v, %v", other, err)
	}
}

func TestReadAPI_GetAccountSettings(t *testing.T) {
	srv := readAPIServer(t)
	out, err := newClient(srv).GetAccountSettings(t.Context(), &lambda.GetAccountSettingsInput{})
	if err != nil {
		t.Fatal(err)
	}
	l, u := out.AccountLimit, out.AccountUsage
	if l.ConcurrentExecutions != 100 || aws.ToInt32(l.UnreservedConcurrentExecutions) != 93 ||
		l.CodeSizeUnzipped != 262144000 || l.CodeSizeZipped != 52428800 || l.TotalCodeSize != 80530636800 {
		t.Errorf("AccountLimit %+v", *l)
	}
	if u.FunctionCount != int64(len(srv.Emulator.Functions())) || u.TotalCodeSize != 0 {
		t.Errorf("AccountUsage %+v", *u)
	}
}

// TestReadAPI_Paths checks the paths the API reference and older SDKs
// use, with a trailing slash.
func TestReadAPI_Paths(t *testing.T) {
	srv := readAPIServer(t)
	for _, path := range []string{"/2015-03-31/functions", "/2015-03-31/functions/", "/2016-08-19/account-settings", "/2016-08-19/account-settings/"} {
		r, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		signEmpty(t, srv, r)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || !uuidRE.MatchString(resp.Header.Get("X-Amzn-Requestid")) {
			t.Errorf("GET %s: %d %v", path, resp.StatusCode, resp.Header)
		}
	}
}
