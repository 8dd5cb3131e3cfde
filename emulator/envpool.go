package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
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

// envPool runs one function's invocations in execution environments
// (processes speaking the Lambda Runtime API). It starts an environment
// whenever an invocation finds none idle — the server already bounds the
// invocations in flight by the function's concurrency — keeps environments
// warm after each invocation and reuses the most recently used first.
// Environments whose process crashed, timed out or failed to initialise
// are discarded. It is safe for concurrent use.
type envPool struct {
	name        string // function name
	program     string // absolute path of the executable
	args        []string
	env         []string // the processes' environment, but AWS_LAMBDA_RUNTIME_API
	handlerName string
	log         *slog.Logger
	bufs        sync.Pool // *bytes.Buffer for posted bodies of unknown length

	wg sync.WaitGroup // every goroutine of every environment

	mu     sync.Mutex
	idle   []*environment // a stack: the warmest on top
	live   map[*environment]struct{}
	closed bool
}

func newEnvPool(name, program string, args, env []string, log *slog.Logger) *envPool {
	return &envPool{
		name:        name,
		program:     program,
		args:        args,
		env:         env,
		handlerName: handlerName(program),
		log:         log,
		bufs:        sync.Pool{New: func() any { return new(bytes.Buffer) }},
		live:        map[*environment]struct{}{},
	}
}

// Invoke runs inv in an idle environment, or in a new one (a cold start,
// reported in Output.InitDuration). When ctx is done first, the
// environment is killed and Invoke returns at once; the server reports the
// timeout.
func (p *envPool) Invoke(ctx context.Context, inv *Invocation) Output {
	for {
		e, err := p.acquire()
		if err != nil {
			errorType := "Runtime.InvalidEntrypoint"
			if errors.Is(err, errPoolClosed) {
				errorType = "Runtime.Unavailable"
			}
			return Output{Error: true, Payload: ErrorDocument(errorType, fmt.Sprintf("RequestId: %s Error: %v", inv.RequestID, err))}
		}
		out, retry := e.invoke(ctx, inv)
		if !retry {
			return out
		}
	}
}

// acquire takes the warmest idle environment, or starts a new one.
func (p *envPool) acquire() (*environment, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errPoolClosed
	}
	for len(p.idle) > 0 {
		e := p.idle[len(p.idle)-1]
		p.idle[len(p.idle)-1] = nil
		p.idle = p.idle[:len(p.idle)-1]
		select {
		case <-e.dead: // it exited while idle
			p.discardLocked(e)
			continue
		default:
		}
		p.mu.Unlock()
		return e, nil
	}
	p.mu.Unlock()

	e, err := startEnvironment(p)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.live[e] = struct{}{}
	if p.closed {
		p.discardLocked(e)
		return nil, errPoolClosed
	}
	return e, nil
}

// put returns a healthy environment to the idle stack.
func (p *envPool) put(e *environment) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.live[e]; ok && !p.closed {
		p.idle = append(p.idle, e)
	}
}

// discard kills an environment that must not run again and frees it in
// the background.
func (p *envPool) discard(e *environment) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.discardLocked(e)
}

func (p *envPool) discardLocked(e *environment) {
	if _, ok := p.live[e]; !ok {
		return // Close owns it
	}
	delete(p.live, e)
	e.kill()
	// The environment's own goroutines are still counted in wg, so this
	// Add cannot race with Close's Wait.
	p.wg.Go(e.release)
}

// Close shuts every environment down the way Lambda does: extensions get
// their SHUTDOWN event and processes SIGTERM; processes still running
// after shutdownGrace are killed. It returns once every process has been
// reaped and every goroutine of the pool has ended.
func (p *envPool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
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
		if err := terminateGroup(e.cmd.Process); err != nil {
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

// invoke runs inv in e, which the caller took from the pool. retry reports
// that e had died while idle before the runtime took inv, so inv never
// ran and may go to another environment.
func (e *environment) invoke(ctx context.Context, inv *Invocation) (out Output, retry bool) {
	p := e.pool
	first := e.used == 0
	e.used++
	e.out.attach(inv.Log)
	e.offer(inv)

	select {
	case res := <-e.results:
		out = e.output(inv, res, first)
		if nearDeadline(ctx) {
			// The answer came at the deadline (a handler's own context
			// expires then too, up to a millisecond early as Deadline-Ms
			// is truncated): the server may well report a timeout, and a
			// timed-out environment is never reused.
			e.kill()
			e.awaitDeath(reapWait)
			p.discard(e)
		} else {
			p.put(e)
		}
		return out, false
	case <-e.initFailed:
		e.out.detach()
		p.discard(e)
		return e.initFailure(), false
	case <-e.dead:
	case <-ctx.Done():
		e.kill()
		e.awaitDeath(reapWait)
		e.out.detach()
		p.discard(e)
		out.InitDuration = e.initTime(first)
		return out, false
	}

	// The process exited. It may have answered first, or failed init.
	select {
	case res := <-e.results:
		out = e.output(inv, res, first)
		p.discard(e)
		return out, false
	case <-e.initFailed:
		e.out.detach()
		p.discard(e)
		return e.initFailure(), false
	default:
	}
	taken := !e.unqueue(inv)
	e.out.detach()
	p.discard(e)
	if !taken && !first {
		return Output{}, true
	}
	out.Error = true
	out.Payload = ErrorDocument("Runtime.ExitError", "RequestId: "+inv.RequestID+" Error: "+e.exitMessage())
	out.InitDuration = e.initTime(first)
	return out, false
}

// nearDeadline reports that ctx is done or about to be.
func nearDeadline(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && time.Until(d) < deadlineMargin
}

// output finishes an invocation the runtime answered.
func (e *environment) output(inv *Invocation, res runtimeResult, first bool) Output {
	e.out.detach()
	out := Output{Payload: res.payload, Error: res.isError, InitDuration: e.initTime(first)}
	// Reading /proc costs a few microseconds; only the REPORT line shows
	// the figure, and the server writes that only when it keeps a log.
	if inv.Log != io.Discard {
		out.MaxMemoryUsedMB = e.mem.megabytes()
	}
	return out
}

// initTime is the environment's init duration to report for an
// invocation: spawn to first /next on its first invocation, else 0.
func (e *environment) initTime(first bool) time.Duration {
	if !first {
		return 0
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.initDone {
		return time.Since(e.spawned)
	}
	return e.initDuration
}

// initFailure is the output of an invocation whose environment posted
// /init/error.
func (e *environment) initFailure() Output {
	e.mu.Lock()
	defer e.mu.Unlock()
	return Output{Error: true, Payload: e.initError, InitDuration: time.Since(e.spawned)}
}
