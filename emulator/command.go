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
// Command, whose processes get accessKeyID and secretAccessKey as their
// AWS credentials and log streams dated by now. The program and the code
// directory must exist now: the program a path (absolute, or relative to
// the working directory) or a name found on PATH. No process starts
// before the first invocation.
func newCommandHandler(def Function, accessKeyID, secretAccessKey string, now func() time.Time, log *slog.Logger) (*commandHandler, error) {
	pool, err := execenv.NewPool(execenv.Config{
		Function:        def.Name,
		Command:         def.Command,
		TaskRoot:        def.CodeDir,
		Handler:         def.RuntimeHandler,
		MemorySize:      def.MemorySize,
		Environment:     def.Environment,
		MaxConcurrency:  def.MaxConcurrencyPerEnvironment,
		Region:          DefaultRegion,
		AccessKeyID:     accessKeyID,
		SecretAccessKey: secretAccessKey,
		Now:             now,
		Logger:          log,
	})
	if err != nil {
		return nil, err
	}
	return &commandHandler{pool: pool}, nil
}

// Invoke runs inv in one of the function's execution environments.
func (h *commandHandler) Invoke(ctx context.Context, inv *Invocation) Output {
	out := h.pool.Invoke(ctx, &execenv.Invocation{
		RequestID:          inv.RequestID,
		InvokedFunctionARN: inv.InvokedFunctionARN,
		Payload:            inv.Payload,
		ClientContext:      inv.ClientContext,
		Deadline:           inv.Deadline,
		Log:                inv.Log,
	})
	return Output{
		Payload:         out.Payload,
		Error:           out.Error,
		InitDuration:    out.InitDuration,
		MaxMemoryUsedMB: out.MaxMemoryUsedMB,
	}
}

// Close stops the function's execution environments (see
// [execenv.Pool.Close]).
func (h *commandHandler) Close() error { return h.pool.Close() }
