package execenv

import (
	"log/slog"
	"time"
)

// DefaultInitTimeout bounds an environment's init phase when
// Config.InitTimeout is 0: Lambda's 10 seconds for on-demand functions
// ("The Init phase is limited to 10 seconds", AWS Lambda Developer Guide,
// lambda-runtime-environment.html).
const DefaultInitTimeout = 10 * time.Second

// Config describes one function's execution environments: the process to
// start and the values Lambda gives it in its environment.
type Config struct {
	// Function is the function's name: AWS_LAMBDA_FUNCTION_NAME, and the
	// name extensions are told when they register.
	Function string

	// Command is the program and its arguments, speaking the Lambda
	// Runtime API (a "bootstrap"); NewPool refuses an empty one.
	Command []string

	// TaskRoot is the directory of the function's code: LAMBDA_TASK_ROOT
	// and the processes' working directory. Empty means the directory of
	// the command's program when it is given as a path, else the working
	// directory.
	TaskRoot string

	// Handler is _HANDLER, the handler a runtime loads (e.g.
	// "index.handler" for Node.js). Empty means the program's file name,
	// as for an OS-only runtime's bootstrap.
	Handler string

	// MemorySize is AWS_LAMBDA_FUNCTION_MEMORY_SIZE, in MB.
	MemorySize int

	// Environment holds the function's own variables. They may override
	// Lambda's, except AWS_LAMBDA_RUNTIME_API, _LAMBDA_SERVER_PORT and
	// AWS_LAMBDA_MAX_CONCURRENCY, which are dropped.
	Environment map[string]string

	// MaxConcurrency is how many invocations one environment runs at
	// once, as Lambda Managed Instances do: the process gets
	// AWS_LAMBDA_MAX_CONCURRENCY and may poll /next that many times at
	// once. 0 or 1 means one at a time, as in Lambda.
	MaxConcurrency int

	// InitTimeout bounds a new environment's init phase: spawning its
	// process until the runtime first asks for an invocation. 0 means
	// DefaultInitTimeout. With one invocation at a time, an init phase
	// that fails or runs out of time is retried for the invocation
	// waiting for it, under that invocation's deadline (Lambda's
	// suppressed init).
	InitTimeout time.Duration

	// Freeze stops an environment's processes (SIGSTOP to its process
	// group) while its runtime waits for an invocation, and continues
	// them (SIGCONT) when it gets one, as Lambda freezes execution
	// environments between invocations. It applies to environments that
	// run one invocation at a time, on systems with process groups.
	Freeze bool

	// IdleTimeout is how long an environment may wait for an invocation
	// before it is shut down (extensions get SHUTDOWN, the processes
	// SIGTERM). 0 or less keeps idle environments until Close.
	IdleTimeout time.Duration

	// Region is AWS_REGION and AWS_DEFAULT_REGION.
	Region string

	// AccessKeyID and SecretAccessKey are the processes' AWS credentials
	// (they get a dummy session token too).
	AccessKeyID, SecretAccessKey string

	// Now returns the current time on the caller's clock: it dates each
	// environment's AWS_LAMBDA_LOG_STREAM_NAME. Nil means time.Now.
	Now func() time.Time

	// Logger receives diagnostics, such as a process that cannot be
	// killed. Nil discards them.
	Logger *slog.Logger
}
