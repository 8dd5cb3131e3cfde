package emulator_test

import (
	"context"
	"strings"
	"testing"

	"github.com/lambdafan/lambdafan/emulator"
)

// TestNew_FunctionKind checks that New rejects settings that do not apply
// to the kind of function they are set on, and accepts them where they do.
// Validate answers the same.
func TestNew_FunctionKind(t *testing.T) {
	echo := emulator.HandlerFunc(func(ctx context.Context, inv *emulator.Invocation) ([]byte, error) { return inv.Payload, nil })
	tests := []struct {
		name    string
		fn      emulator.Function
		wantErr string // "" if New accepts fn
	}{
		{"handler", emulator.Function{Handler: echo}, ""},
		{"handler with an empty environment", emulator.Function{Handler: echo, Environment: map[string]string{}}, ""},
		{"handler with environment", emulator.Function{Handler: echo, Environment: map[string]string{"A": "1"}},
			"function a: environment applies to command functions only"},
		{"handler with max concurrency 1", emulator.Function{Handler: echo, MaxConcurrencyPerEnvironment: 1},
			"function a: max concurrency per environment applies to command functions only"},
		{"handler with max concurrency 2", emulator.Function{Handler: echo, MaxConcurrencyPerEnvironment: 2},
			"function a: max concurrency per environment applies to command functions only"},
		{"command with both", emulator.Function{Command: []string{"true"}, Environment: map[string]string{"A": "1"}, MaxConcurrencyPerEnvironment: 2}, ""},
		{"neither handler nor command", emulator.Function{}, "function a: set exactly one of a handler and a command"},
		{"both handler and command", emulator.Function{Handler: echo, Command: []string{"true"}}, "function a: set exactly one of a handler and a command"},
		{"max concurrency below 0", emulator.Function{Command: []string{"true"}, MaxConcurrencyPerEnvironment: -1}, "is outside 1..1600"},
		{"max concurrency above the limit", emulator.Function{Command: []string{"true"}, MaxConcurrencyPerEnvironment: emulator.MaxConcurrencyPerEnvironment + 1}, "is outside 1..1600"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn.Name = "a"
			srv, err := emulator.New(emulator.Config{Functions: []emulator.Function{tt.fn}})
			if err == nil {
				defer srv.Close()
			}
			verr := tt.fn.Validate()
			switch {
			case tt.wantErr == "" && (err != nil || verr != nil):
				t.Errorf("New: %v; Validate: %v; want both to accept the function", err, verr)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("New: %v, want an error containing %q", err, tt.wantErr)
			case tt.wantErr != "" && (verr == nil || verr.Error() != err.Error()):
				t.Errorf("Validate: %v, want New's error %q", verr, err)
			}
		})
	}
}
