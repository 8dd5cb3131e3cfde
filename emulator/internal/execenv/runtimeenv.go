package execenv

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

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

// Values the processes see in their environment.
const (
	// latest is AWS_LAMBDA_FUNCTION_VERSION: the emulator runs no other
	// version.
	latest = lambdaapi.Latest
	// runtimeExecutionEnv is AWS_EXECUTION_ENV: the OS-only runtime that
	// Go (and other compiled) handlers use in Lambda.
	runtimeExecutionEnv = "AWS_Lambda_provided.al2023"
	// runtimeSessionToken is the dummy AWS_SESSION_TOKEN of every process.
	runtimeSessionToken = "lambdafan-emulator-session-token"
)

// reservedEnv reports the variables Config.Environment cannot set:
// the Runtime API address is per environment, _LAMBDA_SERVER_PORT would
// make aws-lambda-go use its retired RPC mode instead of the Runtime API,
// and AWS_LAMBDA_MAX_CONCURRENCY follows Config.MaxConcurrency
// (a runtime polling more often than the emulator hands out would only
// wait).
func reservedEnv(name string) bool {
	return name == "AWS_LAMBDA_RUNTIME_API" || name == "_LAMBDA_SERVER_PORT" || name == "AWS_LAMBDA_MAX_CONCURRENCY"
}

// runtimeEnv is the environment of a function's processes, besides the
// per-environment AWS_LAMBDA_RUNTIME_API and AWS_LAMBDA_LOG_STREAM_NAME
// (each environment has its own log stream, as in Lambda): the variables
// Lambda defines for an OS-only runtime, then the function's own
// Environment (sorted by name; it may override all but reservedEnv), with
// AWS_LAMBDA_MAX_CONCURRENCY for functions that run several invocations
// per environment. Nothing is inherited from the caller's environment but
// PATH. LAMBDA_TASK_ROOT and LAMBDA_RUNTIME_DIR are taskRoot. The AWS
// credentials are cfg's (the emulator passes its own, so that a handler
// can call it back), plus a dummy session token.
func runtimeEnv(cfg Config, taskRoot string) []string {
	handler := cfg.Handler
	if handler == "" {
		handler = filepath.Base(cfg.Command[0])
	}
	env := []string{
		"_HANDLER=" + handler,
		"AWS_LAMBDA_FUNCTION_NAME=" + cfg.Function,
		"AWS_LAMBDA_FUNCTION_VERSION=" + latest,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(cfg.MemorySize),
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + cfg.Function,
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_REGION=" + cfg.Region,
		"AWS_DEFAULT_REGION=" + cfg.Region,
		"AWS_EXECUTION_ENV=" + runtimeExecutionEnv,
		"LAMBDA_TASK_ROOT=" + taskRoot,
		"LAMBDA_RUNTIME_DIR=" + taskRoot,
		"TZ=:UTC",
		"LANG=en_US.UTF-8",
		"PATH=" + os.Getenv("PATH"),
		"AWS_ACCESS_KEY_ID=" + cfg.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + cfg.SecretAccessKey,
		"AWS_SESSION_TOKEN=" + runtimeSessionToken,
	}
	if cfg.MaxConcurrency > 1 {
		env = append(env, "AWS_LAMBDA_MAX_CONCURRENCY="+strconv.Itoa(cfg.MaxConcurrency))
	}
	for _, k := range slices.Sorted(maps.Keys(cfg.Environment)) {
		if !reservedEnv(k) {
			env = append(env, k+"="+cfg.Environment[k])
		}
	}
	return env
}

// logStreamName is an environment's AWS_LAMBDA_LOG_STREAM_NAME, as Lambda
// names them: the date it started (UTC), the version and 32 hex digits,
// e.g. 2026/03/05/[$LATEST]8c2f….
func logStreamName(started time.Time) string {
	return started.UTC().Format("2006/01/02") + "/[" + latest + "]" + strings.ReplaceAll(lambdaapi.NewRequestID(), "-", "")
}

// taskRootOf is the directory a function's code lives in when the
// configuration names none: the program's directory when it is given as
// a path, else the working directory.
func taskRootOf(program string) (string, error) {
	if strings.ContainsRune(program, '/') || strings.ContainsRune(program, filepath.Separator) {
		abs, err := filepath.Abs(program)
		if err != nil {
			return "", err
		}
		return filepath.Dir(abs), nil
	}
	return os.Getwd()
}

// resolveTaskRoot returns the absolute task root of cfg, which must be an
// existing directory.
func resolveTaskRoot(cfg Config) (string, error) {
	if cfg.TaskRoot == "" {
		dir, err := taskRootOf(cfg.Command[0])
		if err != nil {
			return "", fmt.Errorf("task root: %w", err)
		}
		return dir, nil
	}
	dir, err := filepath.Abs(cfg.TaskRoot)
	if err != nil {
		return "", fmt.Errorf("task root %q: %w", cfg.TaskRoot, err)
	}
	info, err := os.Stat(dir)
	switch {
	case err != nil:
		return "", fmt.Errorf("task root %q: %w", cfg.TaskRoot, err)
	case !info.IsDir():
		return "", fmt.Errorf("task root %q: %w", cfg.TaskRoot, errors.New("not a directory"))
	}
	return dir, nil
}

// ExecutionEnv is AWS_EXECUTION_ENV of every environment, the OS-only
// runtime (AWS_Lambda_provided.al2023), for the Invoke API's function
// configurations.
const ExecutionEnv = runtimeExecutionEnv

// HandlerName is _HANDLER of a command's environments: the file name of
// its program.
func HandlerName(program string) string { return filepath.Base(program) }
