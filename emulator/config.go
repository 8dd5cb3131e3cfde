package emulator

import (
	"cmp"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// Defaults used when a Config or Function field is left at its zero value.
const (
	// DefaultAccountID is the account in the ARNs the emulator reports.
	DefaultAccountID = "123456789012"
	// DefaultAccessKeyID and DefaultSecretAccessKey are the credentials
	// requests must be signed with when the Config names none. They are
	// the example key pair from the AWS documentation, never real.
	DefaultAccessKeyID     = "AKIAIOSFODNN7EXAMPLE"
	DefaultSecretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	// DefaultRegion is the region used in ARNs of requests whose signature
	// names none (only possible with NoAuth).
	DefaultRegion = "us-east-1"
	// DefaultAccountConcurrency is Lambda's default concurrent-executions
	// quota per region.
	DefaultAccountConcurrency = 1000
	// DefaultTimeout is a function's timeout when its definition sets none,
	// as in Lambda.
	DefaultTimeout = 3 * time.Second
	// MaxTimeout is the longest function timeout Lambda allows.
	MaxTimeout = 900 * time.Second
	// DefaultMemorySize is a function's memory in MB when its definition
	// sets none, as in Lambda.
	DefaultMemorySize = 128
	// MaxClockSkew is how far a request's signing time may be from the
	// emulator's clock before the signature counts as expired.
	MaxClockSkew = 5 * time.Minute
	// DefaultMaxEventRetries is how many times an Event invocation whose
	// function fails is retried, as in Lambda.
	DefaultMaxEventRetries = 2
	// DefaultMaxRequestBytes is Config.MaxRequestBytes when it is 0: room
	// for 21 bodies of the largest synchronous payload, or 128 of the
	// largest Event payload, at once.
	DefaultMaxRequestBytes = 128 << 20
	// DefaultMaxQueuedEvents and DefaultMaxQueuedEventBytes are
	// Config.MaxQueuedEvents and Config.MaxQueuedEventBytes when they
	// are 0.
	DefaultMaxQueuedEvents     = 100_000
	DefaultMaxQueuedEventBytes = 128 << 20
	// DefaultIdleTimeout is how long an execution environment of a
	// Command function may wait for an invocation before it is shut down.
	// Lambda does not document its own; LocalStack keeps environments for
	// ten minutes (LAMBDA_KEEPALIVE_MS, 600000).
	DefaultIdleTimeout = 10 * time.Minute
	// MaxConcurrencyPerEnvironment is the largest
	// Function.MaxConcurrencyPerEnvironment, Lambda's limit for
	// PerExecutionEnvironmentMaxConcurrency.
	MaxConcurrencyPerEnvironment = 1600
)

// Payload limits of the Invoke API, in bytes.
const (
	// MaxSyncPayloadBytes is the largest request payload of a synchronous
	// invocation: 6 MB (6,291,456 bytes).
	MaxSyncPayloadBytes = lambdaapi.MaxSyncPayloadBytes
	// MaxAsyncPayloadBytes is the largest request payload of an Event
	// invocation: 1 MB (1,048,576 bytes).
	MaxAsyncPayloadBytes = lambdaapi.MaxAsyncPayloadBytes
)

// Config configures a [Server]. The zero value of each field selects the
// documented default; a zero Config serves no functions.
type Config struct {
	// Functions are the functions the server serves.
	Functions []Function

	// AccountID appears in function ARNs. Empty means DefaultAccountID.
	AccountID string

	// AccessKeyID and SecretAccessKey are the only credentials accepted.
	// Empty means DefaultAccessKeyID / DefaultSecretAccessKey.
	AccessKeyID     string
	SecretAccessKey string
	// NoAuth accepts requests without checking their signature.
	NoAuth bool

	// AccountConcurrency is the account's concurrent-executions quota
	// shared by functions without reserved concurrency (minus what the
	// others reserve). 0 means DefaultAccountConcurrency.
	AccountConcurrency int

	// EventRetryDelays are the waits before the retries of a failed Event
	// invocation. Nil means Lambda's one minute then two minutes; tests
	// usually shorten them.
	EventRetryDelays []time.Duration

	// MaxRequestBytes caps the bytes of request bodies the server holds
	// at once, across all requests: a body is held from the moment the
	// server starts reading it until its call is answered (for a
	// synchronous invocation, until the function returned). A request
	// whose body does not fit is answered 429 TooManyRequestsException
	// (Reason CallerRateLimitExceeded) without being read, as Lambda
	// throttles a caller. Bodies are read only from requests whose
	// signature headers passed every check that needs no body, so an
	// unsigned request never holds any. 0 means DefaultMaxRequestBytes.
	MaxRequestBytes int64

	// MaxQueuedEvents and MaxQueuedEventBytes bound the Event
	// invocations accepted and not yet finished (queued, running or
	// waiting to retry), by count and by payload bytes. An Event call
	// beyond either is answered 429 TooManyRequestsException (Reason
	// CallerRateLimitExceeded), as Lambda throttles asynchronous
	// invocations. 0 means DefaultMaxQueuedEvents and
	// DefaultMaxQueuedEventBytes.
	MaxQueuedEvents     int
	MaxQueuedEventBytes int64

	// Faults injects failures into the Invoke API, for testing clients.
	Faults Faults

	// CountExecutions records how many times each distinct payload was
	// executed (see [Server.Executions]), to prove clients never execute
	// a request twice. It costs a map update per execution.
	CountExecutions bool

	// FunctionLog, when non-nil, receives every invocation's log (START,
	// the function's output, END, REPORT, and INIT_START for a new
	// execution environment), as Lambda sends it to CloudWatch Logs. It
	// receives the log as it is written, in whole lines (a line longer
	// than 64 KB in pieces); lines of invocations running at once
	// interleave, as the log streams of several execution environments
	// do. Writes are serialised.
	FunctionLog io.Writer

	// NoFreeze keeps the processes of Command functions running between
	// invocations. By default an execution environment running one
	// invocation at a time is frozen (SIGSTOP to its process group) once
	// its runtime asks for the next invocation and thawed (SIGCONT) when
	// it gets one, as Lambda freezes environments: timers and background
	// work of a handler do not run in between. Systems without process
	// groups never freeze.
	NoFreeze bool

	// IdleTimeout is how long an execution environment of a Command
	// function may wait for an invocation before it is shut down, as
	// Lambda does (extensions get SHUTDOWN, the processes SIGTERM, then
	// SIGKILL 500 ms later); the next invocation starts a new one. 0
	// means DefaultIdleTimeout; a negative value keeps environments until
	// the server closes.
	IdleTimeout time.Duration

	// Logger receives the emulator's own diagnostics. Nil discards them.
	Logger *slog.Logger

	// Now returns the current time. Nil means time.Now; tests set it to
	// check signature expiry.
	Now func() time.Time

	// initTimeout, when set, replaces the 10 seconds a Command function's
	// new execution environment has to initialise; the package's tests
	// shorten it.
	initTimeout time.Duration
}

// Function defines one function.
type Function struct {
	// Name is the function's name, e.g. "echo".
	Name string

	// Handler runs the function as Go code in the emulator's process.
	// Exactly one of Handler and Command must be set.
	Handler Handler

	// Command runs the function as an executable speaking the Lambda
	// Runtime API (a "bootstrap"), given as the program and its
	// arguments. Each execution environment is one process.
	Command []string

	// CodeDir is the directory of a Command function's code: the
	// processes' LAMBDA_TASK_ROOT (Lambda's /var/task) and working
	// directory, where a runtime looks for the handler's module (the
	// Node.js runtime client loads index.mjs from it for the handler
	// index.handler). A relative path is relative to the working
	// directory. Empty means the directory of the command's program when
	// it is given as a path, else the working directory. Setting it on a
	// Handler function is an error.
	CodeDir string

	// RuntimeHandler is a Command function's handler setting, the _HANDLER
	// its runtime reads to find the code to run, e.g. "index.handler"
	// (module index, export handler) for Node.js. Empty means the
	// program's file name ("bootstrap"), what an OS-only runtime gets.
	// Setting it on a Handler function is an error.
	RuntimeHandler string

	// Timeout bounds one invocation; an invocation still running at the
	// deadline fails with "Task timed out". 0 means DefaultTimeout; at
	// most MaxTimeout.
	Timeout time.Duration

	// MemorySize is the memory in MB reported to the function and in
	// REPORT lines. 0 means DefaultMemorySize.
	MemorySize int

	// ReservedConcurrency, when non-nil, reserves that many concurrent
	// executions for the function and caps it there; 0 throttles every
	// synchronous invocation. Nil means the function shares the account's
	// unreserved concurrency.
	ReservedConcurrency *int

	// Environment holds variables set for Command processes. Setting
	// any on a Handler function is an error.
	Environment map[string]string

	// Aliases maps alias names to versions. Only "$LATEST" exists as a
	// version, so every alias must map to it.
	Aliases map[string]string

	// MaxEventRetries is how often a failed Event invocation is retried
	// (0 to 2). Nil means DefaultMaxEventRetries.
	MaxEventRetries *int

	// MaxConcurrencyPerEnvironment, for a Command function, runs up to
	// that many invocations at once in each execution environment, as
	// Lambda Managed Instances do (their PerExecutionEnvironmentMaxConcurrency,
	// 1 to MaxConcurrencyPerEnvironment): the process gets
	// AWS_LAMBDA_MAX_CONCURRENCY and may poll /next that many times at
	// once; a timed-out invocation fails but its environment is not
	// killed. 0 or 1 means one invocation at a time, as in Lambda.
	// Setting it on a Handler function is an error.
	MaxConcurrencyPerEnvironment int
}

// setLimitDefaults applies the defaults of the limits on what the server
// holds in memory and rejects negative ones.
func (cfg *Config) setLimitDefaults() error {
	if cfg.MaxRequestBytes < 0 || cfg.MaxQueuedEvents < 0 || cfg.MaxQueuedEventBytes < 0 {
		return fmt.Errorf("negative limit: max request bytes %d, max queued events %d, max queued event bytes %d",
			cfg.MaxRequestBytes, cfg.MaxQueuedEvents, cfg.MaxQueuedEventBytes)
	}
	cfg.MaxRequestBytes = cmp.Or(cfg.MaxRequestBytes, DefaultMaxRequestBytes)
	cfg.MaxQueuedEvents = cmp.Or(cfg.MaxQueuedEvents, DefaultMaxQueuedEvents)
	cfg.MaxQueuedEventBytes = cmp.Or(cfg.MaxQueuedEventBytes, DefaultMaxQueuedEventBytes)
	return nil
}
