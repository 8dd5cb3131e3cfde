package emulator

import (
	"errors"
	"io"
	"log/slog"
)

// commandHandler runs a function as executables speaking the Lambda
// Runtime API, one process per execution environment.
type commandHandler interface {
	Handler
	io.Closer
}

// newCommandHandler returns the Handler for a Function with a Command.
func newCommandHandler(def Function, env []string, log *slog.Logger) (commandHandler, error) {
	return nil, errors.New("functions with a command are not supported yet")
}

// runtimeEnv is the environment of a function's processes, besides the
// per-environment AWS_LAMBDA_RUNTIME_API.
func (s *Server) runtimeEnv(def Function) []string {
	return nil
}
