package sfnrun_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
	"github.com/lambdafan/lambdafan/internal/sfnrun"
)

func TestEstimateCost(t *testing.T) {
	t.Run("standard", func(t *testing.T) {
		e := sfnrun.EstimateCost(1_000_000, baseSpec, 0)
		// The Map state, then one Task per child.
		if e.Transitions != 1_000_001 || math.Abs(e.StepFunctionsUSD-25.000025) > 1e-9 || math.Abs(e.LambdaRequestsUSD-0.20) > 1e-9 {
			t.Errorf("estimate %+v", e)
		}
		if s := e.String(); !strings.Contains(s, "$25.00") || !strings.Contains(s, "$0.20") || !strings.Contains(s, sfnrun.PricesDate) {
			t.Errorf("String() = %q", s)
		}
	})
	t.Run("standard with a choice", func(t *testing.T) {
		spec := baseSpec
		spec.ClientContext = sfnrun.SomeClientContext
		if e := sfnrun.EstimateCost(1000, spec, 0); e.Transitions != 2001 {
			t.Errorf("transitions %d, want 2001", e.Transitions)
		}
	})
	t.Run("express", func(t *testing.T) {
		spec := baseSpec
		spec.ChildType = sfnrun.Express
		spec.MaxAttempts = 1
		e := sfnrun.EstimateCost(1_000_000, spec, 3*time.Second+10*time.Millisecond)
		// $1 of requests, and at most 3.1 s × 64 MB each.
		want := 1.0 + 1e6*3.1*(64.0/1024)*0.00001667
		if e.ExpressDuration != 3100*time.Millisecond || math.Abs(e.StepFunctionsUSD-want) > 1e-6 {
			t.Errorf("estimate %+v, want $%.4f", e, want)
		}
		if s := e.String(); !strings.Contains(s, "at most") {
			t.Errorf("String() = %q", s)
		}
	})
}

func TestChooseChildType(t *testing.T) {
	spec := baseSpec // 10 attempts, waits up to 20 s: 111 s of waits, 9 s of failed attempts
	if got := spec.RetryBudget(); got != 120*time.Second {
		t.Errorf("retry budget %v, want 120s", got)
	}
	tests := []struct {
		longest time.Duration
		want    sfnrun.ChildType
	}{
		{0, sfnrun.Express},                 // Event and DryRun only
		{3 * time.Second, sfnrun.Express},   // Lambda's default timeout
		{150 * time.Second, sfnrun.Express}, // 150 + 120 + 30 = 300
		{151 * time.Second, sfnrun.Standard},
		{15 * time.Minute, sfnrun.Standard},
	}
	for _, tt := range tests {
		if got, why := sfnrun.ChooseChildType(tt.longest, spec); got != tt.want || why == "" {
			t.Errorf("ChooseChildType(%v) = %s (%s), want %s", tt.longest, got, why, tt.want)
		}
	}
}

type fakeLambda struct{ timeouts map[string]int32 }

func (f fakeLambda) GetFunctionConfiguration(_ context.Context, in *lambda.GetFunctionConfigurationInput, _ ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error) {
	key := aws.ToString(in.FunctionName) + ":" + aws.ToString(in.Qualifier)
	s, ok := f.timeouts[key]
	if !ok {
		return nil, errors.New("AccessDeniedException")
	}
	return &lambda.GetFunctionConfigurationOutput{Timeout: aws.Int32(s)}, nil
}

func TestFunctionTimeout(t *testing.T) {
	api := fakeLambda{timeouts: map[string]int32{"f:": 3, "g:live": 900}}
	if d, err := sfnrun.FunctionTimeout(t.Context(), api, "f", ""); err != nil || d != 3*time.Second {
		t.Errorf("f: %v, %v", d, err)
	}
	if d, err := sfnrun.FunctionTimeout(t.Context(), api, "g", "live"); err != nil || d != 15*time.Minute {
		t.Errorf("g:live: %v, %v", d, err)
	}
	if _, err := sfnrun.FunctionTimeout(t.Context(), api, "h", ""); err == nil {
		t.Error("h: no error")
	}
}

func TestFunctionTimeout_Emulator(t *testing.T) {
	// GetFunctionConfiguration over the wire, as --sfn-child-type auto
	// sends it, against the emulator.
	srv := emulatortest.New(t, emulator.Config{Functions: []emulator.Function{
		{Name: "quick", Handler: emulator.HandlerFunc(func(context.Context, *emulator.Invocation) ([]byte, error) { return nil, nil }), Timeout: 3 * time.Second},
		{Name: "long", Handler: emulator.HandlerFunc(func(context.Context, *emulator.Invocation) ([]byte, error) { return nil, nil }), Timeout: 10 * time.Minute},
	}})
	api := lambda.NewFromConfig(srv.AWSConfig())
	quick, err := sfnrun.FunctionTimeout(t.Context(), api, "quick", "")
	if err != nil || quick != 3*time.Second {
		t.Fatalf("quick: %v, %v", quick, err)
	}
	long, err := sfnrun.FunctionTimeout(t.Context(), api, "long", "")
	if err != nil || long != 10*time.Minute {
		t.Fatalf("long: %v, %v", long, err)
	}
	if got, _ := sfnrun.ChooseChildType(quick, baseSpec); got != sfnrun.Express {
		t.Errorf("3 s functions: %s children", got)
	}
	if got, _ := sfnrun.ChooseChildType(max(quick, long), baseSpec); got != sfnrun.Standard {
		t.Errorf("10 min functions: %s children", got)
	}
	if _, err := sfnrun.FunctionTimeout(t.Context(), api, "missing", ""); err == nil {
		t.Error("missing function: no error")
	}
}
