package emulator

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// commandHandler runs a function as executables speaking the Lambda
// Runtime API, one process per execution environment.
type commandHandler interface {
	Handler
	io.Closer
}

// newCommandHandler returns the Handler for a Function with a Command: a
// pool of execution environments, each one process started from the
// command with env plus its own AWS_LAMBDA_RUNTIME_API. The program must
// exist now: a path (absolute, or relative to the working directory) or a
// name found on PATH. No process starts before the first invocation.
func newCommandHandler(def Function, env []string, log *slog.Logger) (commandHandler, error) {
	program, err := resolveProgram(def.Command[0])
	if err != nil {
		return nil, err
	}
	return newEnvPool(def.Name, program, slices.Clone(def.Command[1:]), env, def.MaxConcurrencyPerEnvironment, log), nil
}

// resolveProgram returns the absolute path of a command's program.
func resolveProgram(name string) (string, error) {
	path := name
	if !strings.ContainsRune(name, filepath.Separator) && !strings.ContainsRune(name, '/') {
		var err error
		if path, err = exec.LookPath(name); err != nil {
			return "", fmt.Errorf("command %q: %w", name, err)
		}
	}
	path, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("command %q: %w", name, err)
	}
	info, err := os.Stat(path)
	switch {
	case err != nil:
		return "", fmt.Errorf("command %q: %w", name, err)
	case info.IsDir():
		return "", fmt.Errorf("command %q: %w", name, errors.New("is a directory"))
	}
	return path, nil
}

// Values the processes of Command functions see in their environment.
const (
	// runtimeExecutionEnv is AWS_EXECUTION_ENV: the OS-only runtime that
	// Go (and other compiled) handlers use in Lambda.
	runtimeExecutionEnv = "AWS_Lambda_provided.al2023"
	// runtimeSessionToken is the dummy AWS_SESSION_TOKEN of every process.
	runtimeSessionToken = "lambdafan-emulator-session-token"
)

// reservedEnv reports the variables a Function's Environment cannot set:
// the Runtime API address is per environment, _LAMBDA_SERVER_PORT would
// make aws-lambda-go use its retired RPC mode instead of the Runtime API,
// and AWS_LAMBDA_MAX_CONCURRENCY follows MaxConcurrencyPerEnvironment
// (a runtime polling more often than the emulator hands out would only
// wait).
func reservedEnv(name string) bool {
	return name == "AWS_LAMBDA_RUNTIME_API" || name == "_LAMBDA_SERVER_PORT" || name == "AWS_LAMBDA_MAX_CONCURRENCY"
}

// runtimeEnv is the environment of a function's processes, besides the
// per-environment AWS_LAMBDA_RUNTIME_API: the variables Lambda defines for
// an OS-only runtime, then the function's own Environment (sorted by name;
// it may override all but reservedEnv), with AWS_LAMBDA_MAX_CONCURRENCY
// for functions that run several invocations per environment. Nothing is
// inherited from the
// emulator's environment but PATH. LAMBDA_TASK_ROOT and LAMBDA_RUNTIME_DIR
// are the directory of the command's program when given as a path, else
// the working directory. The AWS credentials are the emulator's own (by
// default the documentation's example key pair), so a handler can call
// the emulator back, plus a dummy session token.
func (s *Server) runtimeEnv(def Function) []string {
	taskRoot := taskRootOf(def.Command[0])
	now := s.now().UTC()
	env := []string{
		"_HANDLER=" + handlerName(def.Command[0]),
		"AWS_LAMBDA_FUNCTION_NAME=" + def.Name,
		"AWS_LAMBDA_FUNCTION_VERSION=" + latest,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(def.MemorySize),
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + def.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME=" + now.Format("2006/01/02") + "/[" + latest + "]" + strings.ReplaceAll(newRequestID(), "-", ""),
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_REGION=" + DefaultRegion,
		"AWS_DEFAULT_REGION=" + DefaultRegion,
		"AWS_EXECUTION_ENV=" + runtimeExecutionEnv,
		"LAMBDA_TASK_ROOT=" + taskRoot,
		"LAMBDA_RUNTIME_DIR=" + taskRoot,
		"TZ=:UTC",
		"LANG=en_US.UTF-8",
		"PATH=" + os.Getenv("PATH"),
		"AWS_ACCESS_KEY_ID=" + s.cfg.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + s.cfg.SecretAccessKey,
		"AWS_SESSION_TOKEN=" + runtimeSessionToken,
	}
	if def.MaxConcurrencyPerEnvironment > 1 {
		env = append(env, "AWS_LAMBDA_MAX_CONCURRENCY="+strconv.Itoa(def.MaxConcurrencyPerEnvironment))
	}
	for _, k := range slices.Sorted(maps.Keys(def.Environment)) {
		if !reservedEnv(k) {
			env = append(env, k+"="+def.Environment[k])
		}
	}
	return env
}

// taskRootOf is the directory a function's code lives in.
func taskRootOf(program string) string {
	if strings.ContainsRune(program, '/') || strings.ContainsRune(program, filepath.Separator) {
		if abs, err := filepath.Abs(program); err == nil {
			return filepath.Dir(abs)
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	return wd
}

// handlerName is _HANDLER: the program's file name, "bootstrap" for a
// typical Go handler.
func handlerName(program string) string {
	return filepath.Base(program)
}
