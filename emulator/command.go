package emulator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/lambdafan/lambdafan/emulator/internal/execenv"
)

// commandHandler is the Handler of a Function with a Command: it runs the
// function's invocations in execution environments, processes started
// from the command that speak the Lambda Runtime API (package execenv).
// A process sees the region it was invoked in (AWS_REGION), so each
// region has its own environments, as in Lambda, where a function exists
// per region. It is safe for concurrent use.
type commandHandler struct {
	cfg execenv.Config // but Region

	mu     sync.Mutex
	pools  map[string]*execenv.Pool // by region, made on first use
	closed bool
}

// newCommandHandler returns the Handler for def, a Function with a
// Command, for a server configured with cfg (its credentials become the
// processes' AWS credentials; now dates their log streams). The program
// and the code directory must exist now: the program a path (absolute,
// or relative to the working directory) or a name found on PATH. No
// process starts before the first invocation.
func newCommandHandler(def Function, cfg Config, now func() time.Time, log *slog.Logger) (*commandHandler, error) {
	command := append([]string(nil), def.Command...)
	if strings.ContainsRune(command[0], '/') || strings.ContainsRune(command[0], filepath.Separator) {
		// Regions' environments start later, maybe in another
		// working directory.
		abs, err := filepath.Abs(command[0])
		if err != nil {
			return nil, fmt.Errorf("command %q: %w", command[0], err)
		}
		command[0] = abs
	}
	codeDir := def.CodeDir
	if codeDir != "" {
		abs, err := filepath.Abs(codeDir)
		if err != nil {
			return nil, fmt.Errorf("code directory %q: %w", codeDir, err)
		}
		codeDir = abs
	}
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
	h := &commandHandler{
		cfg: execenv.Config{
			Function:        def.Name,
			Command:         command,
			TaskRoot:        codeDir,
			Handler:         def.RuntimeHandler,
			MemorySize:      def.MemorySize,
			Environment:     def.Environment,
			MaxConcurrency:  def.MaxConcurrencyPerEnvironment,
			InitTimeout:     initTimeout,
			Freeze:          !cfg.NoFreeze,
			IdleTimeout:     idle,
			AccessKeyID:     cfg.AccessKeyID,
			SecretAccessKey: cfg.SecretAccessKey,
			Now:             now,
			Logger:          log,
		},
		pools: map[string]*execenv.Pool{},
	}
	// The default region's pool checks the configuration now.
	if _, err := h.pool(DefaultRegion); err != nil {
		return nil, err
	}
	return h, nil
}

// pool returns region's execution environments, making them on first use.
func (h *commandHandler) pool(region string) (*execenv.Pool, error) {
	if region == "" {
		region = DefaultRegion
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if p, ok := h.pools[region]; ok {
		return p, nil
	}
	if h.closed {
		return nil, errEnvironmentsClosed
	}
	cfg := h.cfg
	cfg.Region = region
	p, err := execenv.NewPool(cfg)
	if err != nil {
		return nil, err
	}
	h.pools[region] = p
	return p, nil
}

// errEnvironmentsClosed fails invocations in a new region after Close.
var errEnvironmentsClosed = errors.New("the function's execution environments are shut down")

// Invoke runs inv in one of the function's execution environments of
// inv's region, with inv's deadline; the server calls invokeEnv instead.
func (h *commandHandler) Invoke(ctx context.Context, inv *Invocation) Output {
	return h.invokeEnv(ctx, inv, func() time.Time { return inv.Deadline }).Output
}

// invokeEnv runs inv in one of the function's execution environments of
// inv's region, starting its clock (begin) when the environment is ready
// for it.
func (h *commandHandler) invokeEnv(ctx context.Context, inv *Invocation, begin func() time.Time) envOutput {
	pool, err := h.pool(inv.Region)
	if err != nil {
		return envOutput{Output: Output{Error: true, Payload: ErrorDocument("Runtime.Unavailable", fmt.Sprintf("RequestId: %s Error: %v", inv.RequestID, err))}}
	}
	out := pool.Invoke(ctx, &execenv.Invocation{
		RequestID:          inv.RequestID,
		InvokedFunctionARN: inv.InvokedFunctionARN,
		Payload:            inv.Payload,
		ClientContext:      inv.ClientContext,
		Begin:              begin,
		Log:                inv.Log,
		Stream:             inv.Stream,
	})
	return envOutput{
		Output: Output{
			Payload:         out.Payload,
			Error:           out.Error,
			InitDuration:    out.InitDuration,
			MaxMemoryUsedMB: out.MaxMemoryUsedMB,
			Streamed:        out.Streamed,
		},
		coldStart:    out.ColdStart,
		errorType:    out.ErrorType,
		errorMessage: out.ErrorMessage,
	}
}

// pids returns the process IDs of the live execution environments.
func (h *commandHandler) pids() []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	var pids []int
	for _, p := range h.pools {
		pids = append(pids, p.PIDs()...)
	}
	return pids
}

// Close stops the function's execution environments in every region
// (see [execenv.Pool.Close]), the regions at once.
func (h *commandHandler) Close() error {
	h.mu.Lock()
	h.closed = true
	pools := make([]*execenv.Pool, 0, len(h.pools))
	for _, p := range h.pools {
		pools = append(pools, p)
	}
	h.mu.Unlock()
	errs := make([]error, len(pools))
	var wg sync.WaitGroup
	for i, p := range pools {
		wg.Go(func() { errs[i] = p.Close() })
	}
	wg.Wait()
	return errors.Join(errs...)
}
