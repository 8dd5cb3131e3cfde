package execenv

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

const (
	// shutdownGrace is how long Close lets processes handle SIGTERM
	// before it kills them, as Lambda does on shutdown.
	shutdownGrace = 500 * time.Millisecond
	// reapWait bounds how long an invocation that timed out waits for its
	// killed process to be reaped before it returns.
	reapWait = time.Second
	// deadlineMargin is how close to its deadline an answer makes an
	// invocation count as timed out for the environment's sake.
	deadlineMargin = 10 * time.Millisecond
)

// errPoolClosed fails invocations that arrive after Close.
var errPoolClosed = errors.New("the function's execution environments are shut down")

// Pool runs one function's invocations in execution environments
// (processes speaking the Lambda Runtime API). It starts an environment
// whenever an invocation finds none with a free slot — it has no limit of
// its own: its caller bounds the invocations in flight (the emulator, by
// the function's concurrency) — keeps environments warm after each
// invocation and reuses those whose runtime already waits for an
// invocation first, then the most recently used. An environment runs one
// invocation at a time, or up to Config.MaxConcurrency at once (Lambda
// Managed Instances). Environments whose process crashed, timed out (one
// invocation at a time only) or failed to initialise are discarded; those
// idle for Config.IdleTimeout are shut down. No process starts before the
// first invocation. It is safe for concurrent use.
type Pool struct {
	name        string // function name
	program     string // absolute path of the executable
	args        []string
	env         []string // the processes' environment, but per-environment variables
	taskRoot    string   // the processes' working directory
	region      string
	slots       int // invocations an environment runs at once
	handlerName string
	initTimeout time.Duration
	freeze      bool // freeze environments between invocations
	idleTimeout time.Duration
	now         func() time.Time
	log         *slog.Logger
	bufs        sync.Pool // *bytes.Buffer for posted bodies of unknown length
	readers     sync.Pool // *bufio.Reader of Runtime API connections

	limits connLimits // Runtime API deadlines; zero means the defaults

	wg sync.WaitGroup // every goroutine of every environment, and the evictor

	mu sync.Mutex
	// idle holds the live environments with a free slot, as a stack: the
	// warmest on top. An environment is on it exactly when its free > 0.
	idle   []*environment
	live   map[*environment]struct{}
	closed bool
	// evictTimer fires when the first idle environment's time is up;
	// evictArmed reports that it is set. The evictor goroutine runs once
	// an environment exists.
	evictTimer *time.Timer
	evictArmed bool
	evictor    bool
	done       chan struct{} // closed by Close
}

// NewPool returns a pool of execution environments for the function cfg
// describes. The command's program must exist now: a path (absolute, or
// relative to the working directory) or a name found on PATH; so must
// the task root, if cfg names one.
func NewPool(cfg Config) (*Pool, error) {
	if len(cfg.Command) == 0 {
		return nil, errors.New("execution environments need a command")
	}
	program, err := resolveProgram(cfg.Command[0])
	if err != nil {
		return nil, err
	}
	taskRoot, err := resolveTaskRoot(cfg)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := newPool(cfg.Function, program, slices.Clone(cfg.Command[1:]), runtimeEnv(cfg, taskRoot), cfg.MaxConcurrency, log)
	p.taskRoot = taskRoot
	p.region = cfg.Region
	if cfg.Handler != "" {
		p.handlerName = cfg.Handler
	}
	if cfg.InitTimeout > 0 {
		p.initTimeout = cfg.InitTimeout
	}
	p.freeze = cfg.Freeze && canFreeze && p.slots == 1
	p.idleTimeout = cfg.IdleTimeout
	if cfg.Now != nil {
		p.now = cfg.Now
	}
	return p, nil
}

// newPool returns a pool starting program with args in environment env
// (to which each environment adds its own variables); each environment
// runs up to slots invocations at once.
func newPool(name, program string, args, env []string, slots int, log *slog.Logger) *Pool {
	return &Pool{
		name:        name,
		program:     program,
		args:        args,
		env:         env,
		slots:       max(slots, 1),
		handlerName: filepath.Base(program),
		initTimeout: DefaultInitTimeout,
		now:         time.Now,
		log:         log,
		bufs:        sync.Pool{New: func() any { return new(bytes.Buffer) }},
		readers:     sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }},
		live:        map[*environment]struct{}{},
		done:        make(chan struct{}),
	}
}

// Invoke runs inv in an environment with a free slot, or in a new one (a
// cold start, reported in Output.InitDuration), starting inv's clock
// (Invocation.Begin) once the environment is ready for it. ctx should be
// done only when the caller stops; Invoke itself enforces inv's deadline.
// When the deadline or ctx comes first, Invoke returns at once, with an
// Output that is not the function's and that the caller replaces by its
// timeout (or cancellation) error; an environment running one invocation
// at a time is killed then, one running several lets the invocation run
// on. After Close, invocations fail with a Runtime.Unavailable error.
func (p *Pool) Invoke(ctx context.Context, inv *Invocation) Output {
	for {
		e, fresh, err := p.acquire()
		if err != nil {
			return p.unavailable(inv, err)
		}
		out, retry := e.invoke(ctx, inv, fresh)
		if !retry {
			return out
		}
	}
}

// unavailable is the output of an invocation that found no environment:
// the pool is closed, or a process could not start.
func (p *Pool) unavailable(inv *Invocation, err error) Output {
	errorType := "Runtime.InvalidEntrypoint"
	if errors.Is(err, errPoolClosed) {
		errorType = "Runtime.Unavailable"
	}
	return Output{Error: true, Payload: lambdaapi.ErrorDocument(errorType, fmt.Sprintf("RequestId: %s Error: %v", inv.RequestID, err))}
}

// acquire takes a slot of an environment that has one, or starts a new
// environment; fresh reports the latter. It prefers the warmest
// environment whose runtime already waits for an invocation: in Lambda an
// invocation ends only when the runtime asks for the next one, and one
// handed to a runtime still finishing the last (reading the answer to
// its response, say) waits for it.
func (p *Pool) acquire() (e *environment, fresh bool, err error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, false, errPoolClosed
	}
	for len(p.idle) > 0 {
		i := len(p.idle) - 1
		for j := i; j >= 0; j-- {
			if p.idle[j].ready.Load() {
				i = j
				break
			}
		}
		e := p.idle[i]
		select {
		case <-e.dead: // it exited while idle
			p.discardLocked(e) // which takes it off the stack
			continue
		default:
		}
		if e.free--; e.free == 0 {
			p.idle = slices.Delete(p.idle, i, i+1)
		}
		p.mu.Unlock()
		return e, false, nil
	}
	e, err = p.startLocked()
	return e, err == nil, err
}

// startEnvironment starts a new environment and takes one of its slots.
func (p *Pool) startEnvironment() (*environment, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errPoolClosed
	}
	return p.startLocked()
}

// startLocked starts a new environment and takes one of its slots; the
// caller holds mu, which startLocked releases. The new environment takes
// invocations before its process runs, and its listener and pipe are made
// under the lock (a few system calls; the process starts after): with
// several slots, a burst of invocations fills one environment rather than
// starting one each.
func (p *Pool) startLocked() (*environment, error) {
	e, err := newEnvironment(p)
	if err != nil {
		p.mu.Unlock()
		return nil, err
	}
	p.live[e] = struct{}{}
	if e.free = p.slots - 1; e.free > 0 {
		p.idle = append(p.idle, e)
	}
	if p.idleTimeout > 0 && !p.evictor {
		p.evictor = true
		p.evictTimer = time.NewTimer(p.idleTimeout)
		p.evictTimer.Stop()
		p.wg.Go(p.evictIdle)
	}
	p.mu.Unlock()
	if err := e.spawn(); err != nil {
		// Invocations that took its other slots see it dead and retry.
		p.mu.Lock()
		delete(p.live, e)
		p.removeIdleLocked(e)
		p.mu.Unlock()
		return nil, err
	}
	return e, nil
}

// removeIdleLocked takes e off the idle stack, if it is there.
func (p *Pool) removeIdleLocked(e *environment) {
	if e.free > 0 {
		p.idle = slices.DeleteFunc(p.idle, func(x *environment) bool { return x == e })
	}
}

// put gives back a slot of a healthy environment.
func (p *Pool) put(e *environment) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.live[e]; !ok || p.closed {
		return
	}
	if e.free++; e.free == 1 {
		p.idle = append(p.idle, e)
	}
	if e.free == e.slots && p.evictTimer != nil {
		e.idleSince = time.Now()
		if !p.evictArmed {
			p.evictArmed = true
			p.evictTimer.Reset(p.idleTimeout)
		}
	}
}

// discard kills an environment that must not run again and frees it in
// the background.
func (p *Pool) discard(e *environment) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.discardLocked(e)
}

func (p *Pool) discardLocked(e *environment) {
	if _, ok := p.live[e]; !ok {
		return // Close owns it
	}
	delete(p.live, e)
	p.removeIdleLocked(e)
	e.kill()
	// The environment's own goroutines are still counted in wg, so this
	// Add cannot race with Close's Wait.
	p.wg.Go(e.release)
}

// Close shuts every environment down the way Lambda does: extensions get
// their SHUTDOWN event and processes SIGTERM; processes still running
// after a grace period (shutdownGrace, 500 ms) are killed. It returns once every process has been
// reaped and every goroutine of the pool has ended.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.done)
	envs := make([]*environment, 0, len(p.live))
	for e := range p.live {
		envs = append(envs, e)
	}
	clear(p.live)
	p.idle = nil
	p.mu.Unlock()

	var errs []error
	for _, e := range envs {
		e.beginShutdown()
		if err := e.terminate(); err != nil {
			errs = append(errs, fmt.Errorf("stop %s pid %d: %w", p.name, e.pid(), err))
		}
	}
	grace := time.NewTimer(shutdownGrace)
	defer grace.Stop()
	expired := false
	for _, e := range envs {
		if !expired {
			select {
			case <-e.dead:
				continue
			case <-grace.C:
				expired = true
			}
		}
		e.kill()
	}
	for _, e := range envs {
		e.release()
	}
	p.wg.Wait()
	return errors.Join(errs...)
}

// PIDs returns the process IDs of the live execution environments, for
// benchmarks that account their CPU.
func (p *Pool) PIDs() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	pids := make([]int, 0, len(p.live))
	for e := range p.live {
		pids = append(pids, e.pid())
	}
	return pids
}
