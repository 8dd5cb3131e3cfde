package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/lambdafan/lambdafan/internal/ctxtime"
)

// builtinHandlers are the Go functions the emulator ships, by name.
func builtinHandlers() map[string]HandlerFunc {
	return map[string]HandlerFunc{
		"echo":  echo,
		"sleep": sleepHandler,
		"fail":  fail,
	}
}

// BuiltinFunctions returns one function per built-in handler, named after
// it and sorted by name, with Lambda's default settings: the functions
// `lambdafan serve` and `lambdafan invoke --local` serve when given no
// definitions, and the handlers a functions file can name. "echo" returns
// its payload; "sleep" waits payload.ms milliseconds ({"ms": N}) and
// returns its payload; "fail" fails with an Unhandled function error whose
// errorMessage is payload.message when given.
func BuiltinFunctions() []Function {
	handlers := builtinHandlers()
	var fns []Function
	for _, name := range slices.Sorted(maps.Keys(handlers)) {
		fns = append(fns, Function{Name: name, Handler: handlers[name]})
	}
	return fns
}

func echo(_ context.Context, inv *Invocation) ([]byte, error) {
	return inv.Payload, nil
}

func sleepHandler(ctx context.Context, inv *Invocation) ([]byte, error) {
	var in struct {
		MS *float64 `json:"ms"`
	}
	if err := json.Unmarshal(inv.Payload, &in); err != nil || in.MS == nil || *in.MS < 0 {
		return nil, &FunctionError{Type: "InvalidInput", Message: `sleep expects {"ms": N} with N ≥ 0`}
	}
	if err := ctxtime.Sleep(ctx, time.Duration(*in.MS*float64(time.Millisecond))); err != nil {
		return nil, err
	}
	return inv.Payload, nil
}

func fail(_ context.Context, inv *Invocation) ([]byte, error) {
	var in struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(inv.Payload, &in) // any payload fails; a message is optional
	if in.Message == "" {
		in.Message = fmt.Sprintf("function %s failed as asked", inv.FunctionName)
	}
	return nil, &FunctionError{Type: "Error", Message: in.Message}
}
