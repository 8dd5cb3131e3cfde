package emulator

import (
	"context"
	"log/slog"
	"time"

	"github.com/lambdafan/lambdafan/emulator/internal/execenv"
)

// commandHandler is the Handler of a Function with a Command: it runs the
// function's invocations in execution environments, processes started
// from the command that speak the Lambda Runtime API (package execenv).
type commandHandler struct {
	pool *execenv.Pool
}

// newCommandHandler returns the Handler for def, a Function with a
// Command, for a server configured with cfg (its credentials become the
// processes' AWS credentials; now dates their log streams). The program
// and the code directory must exist now: the program a path (absolute,
// or relative to the working directory) or a name found on PATH. No
// process starts before the first invocation.
func newCommandHandler(def Function, cfg Config, now func() time.Time, log *slog.Logger) (*commandHandler, error) {
	idle := cfg.IdleTimeout
	if idle == 0 {
		idle = DefaultIdleTimeout
	}
	initTimeout := cfg.initTimeout // 0: Lambda's 10 s
	if def.MaxConcurrencyPerEnvironment > 1 && initTimeout == 0 {
		// Lambda Managed Instances allow "130 seconds or the configured
		// function timeout (maximum 900 seconds), whichever is higher"
		// (AWS Lambda Developer Guide, lambda-runtime-environment.html).
		initTimeout = max(130*time.Second, def.Timeout)
	}
	pool, err := execenv.NewPool(execenv.Config{
		Function:        def.Name,
		Command:         def.Command,
		TaskRoot:        def.CodeDir,
		Handler:         def.RuntimeHandler,
		MemorySize:      def.MemorySize,
		Environment:     def.Environment,
		MaxConcurrency:  def.MaxConcurrencyPerEnvironment,
		InitTimeout:     initTimeout,
		Freeze:          !cfg.NoFreeze,
		IdleTimeout:     idle,
		Region:          DefaultRegion,
		AccessKeyID:     cfg.AccessKeyID,
		SecretAccessKey: cfg.SecretAccessKey,
		Now:             now,
		Logger:          log,
	})
	if err != nil {
		return nil, err
	}
	return &commandHandler{pool: pool}, nil
}

// Invoke runs inv in one of the function's execution environments, with
// inv's deadline; the server calls invokeEnv instead.
func (h *commandHandler) Invoke(ctx context.Context, inv *Invocation) Output {
	return h.invokeEnv(ctx, inv, func() time.Time { return inv.Deadline }).Output
}

// invokeEnv runs inv in one of the function's execution environments,
// starting its clock (begin) when the environment is ready for it.
func (h *commandHandler) invokeEnv(ctx context.Context, inv *Invocation, begin func() time.Time) envOutput {
	out := h.pool.Invoke(ctx, &execenv.Invocation{
		RequestID:          inv.RequestID,
		InvokedFunctionARN: inv.InvokedFunctionARN,
		Payload:            inv.Payload,
		ClientContext:      inv.ClientContext,
		Begin:              begin,
		Log:                inv.Log,
	})
	return envOutput{
		Output: Output{
			Payload:         out.Payload,
			Error:           out.Error,
			InitDuration:    out.InitDuration,
			MaxMemoryUsedMB: out.MaxMemoryUsedMB,
		},
		coldStart:    out.ColdStart,
		errorType:    out.ErrorType,
		errorMessage: out.ErrorMessage,
	}
}

// pids returns the process IDs of the live execution environments.
func (h *commandHandler) pids() []int { return h.pool.PIDs() }

// Close stops the function's execution environments (see
// [execenv.Pool.Close]).
func (h *commandHandler) Close() error { return h.pool.Close() }
