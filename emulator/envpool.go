package emulator

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
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
// whenever an invocation finds none with a free slot — the server already
// bounds the invocations in flight by the function's concurrency — keeps
// environments warm after each invocation and reuses those whose runtime
// already waits for an invocation first, then the most recently used. An environment runs one invocation at a time, or up to slots
// at once for functions with MaxConcurrencyPerEnvironment (Lambda Managed
// Instances). Environments whose process crashed, timed out (one
// invocation at a time only) or failed to initialise are discarded. It is
// safe for concurrent use.
type envPool struct {
	name        string // function name
	program     string // absolute path of the executable
	args        []string
	env         []string // the processes' environment, but AWS_LAMBDA_RUNTIME_API
	slots       int      // invocations an environment runs at once
	handlerName string
	log         *slog.Logger
	bufs        sync.Pool // *bytes.Buffer for posted bodies of unknown length
	readers     sync.Pool // *bufio.Reader of Runtime API connections

	wg sync.WaitGroup // every goroutine of every environment

	mu sync.Mutex
	// idle holds the live environments with a free slot, as a stack: the
	// warmest on top. An environment is on it exactly when its free > 0.
	idle   []*environment
	live   map[*environment]struct{}
	closed bool
}

func newEnvPool(name, program string, args, env []string, slots int, log *slog.Logger) *envPool {
	return &envPool{
		name:        name,
		program:     program,
		args:        args,
		env:         env,
		slots:       max(slots, 1),
		handlerName: handlerName(program),
		log:         log,
		bufs:        sync.Pool{New: func() any { return new(bytes.Buffer) }},
		readers:     sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }},
		live:        map[*environment]struct{}{},
	}
}

// Invoke runs inv in an environment with a free slot, or in a new one (a
// cold start, reported in Output.InitDuration). When ctx is done first,
// Invoke returns at once and the server reports the timeout; an
// environment running one invocation at a time is killed then.
func (p *envPool) Invoke(ctx context.Context, inv *Invocation) Output {
	for {
		e, fresh, err := p.acquire()
		if err != nil {
			errorType := "Runtime.InvalidEntrypoint"
			if errors.Is(err, errPoolClosed) {
				errorType = "Runtime.Unavailable"
			}
			return Output{Error: true, Payload: ErrorDocument(errorType, fmt.Sprintf("RequestId: %s Error: %v", inv.RequestID, err))}
		}
		out, retry := e.invoke(ctx, inv, fresh)
		if !retry {
			return out
		}
	}
}

// acquire takes a slot of an environment that has one, or starts a new
// environment; fresh reports the latter. It prefers the warmest
// environment whose runtime already waits for an invocation: in Lambda an
// invocation ends only when the runtime asks for the next one, and one
// handed to a runtime still finishing the last (reading the answer to
// its response, say) waits for it.
func (p *envPool) acquire() (e *environment, fresh bool, err error) {
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

	// The new environment takes invocations before its process runs, and
	// its listener and pipe are made under the lock (a few system calls;
	// the process starts after): with several slots, a burst of
	// invocations fills one environment rather than starting one each.
	e, err = newEnvironment(p)
	if err != nil {
		p.mu.Unlock()
		return nil, false, err
	}
	p.live[e] = struct{}{}
	if e.free = p.slots - 1; e.free > 0 {
		p.idle = append(p.idle, e)
	}
	p.mu.Unlock()
	if err := e.spawn(); err != nil {
		// Invocations that took its other slots see it dead and retry.
		p.mu.Lock()
		delete(p.live, e)
		p.removeIdleLocked(e)
		p.mu.Unlock()
		return nil, false, err
	}
	return e, true, nil
}

// removeIdleLocked takes e off the idle stack, if it is there.
func (p *envPool) removeIdleLocked(e *environment) {
	if e.free > 0 {
		p.idle = slices.DeleteFunc(p.idle, func(x *environment) bool { return x == e })
	}
}

// put gives back a slot of a healthy environment.
func (p *envPool) put(e *environment) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.live[e]; !ok || p.closed {
		return
	}
	if e.free++; e.free == 1 {
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
	p.removeIdleLocked(e)
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

// invoke runs inv in e, in a slot the caller took from the pool; fresh
// reports that e was started for it. retry reports that e had died
// before the runtime took inv, so inv never ran and may go to another
// environment.
func (e *environment) invoke(ctx context.Context, inv *Invocation, fresh bool) (out Output, retry bool) {
	p := e.pool
	call := &envCall{inv: inv, result: make(chan runtimeResult, 1)}
	e.out.attach(inv.Log)
	e.offer(call)

	select {
	case res := <-call.result:
		out = e.output(inv, res, fresh)
		if e.slots == 1 && nearDeadline(ctx) {
			// The answer came at or near the deadline (a handler's own
			// context expires then too): the server, which decides a
			// little later, may well report a timeout, and a timed-out
			// environment is never reused.
			e.kill()
			e.awaitDeath(reapWait)
			p.discard(e)
		} else {
			p.put(e)
		}
		return out, false
	case <-e.initFailed:
		e.out.detach(inv.Log)
		p.discard(e)
		return e.initFailure(), false
	case <-e.dead:
	case <-ctx.Done():
		out.InitDuration = e.initTime(fresh)
		if e.slots > 1 {
			// Lambda Managed Instances report the timeout but let the
			// invocation run on: its slot is freed when the runtime
			// answers (or at once if it never took the invocation).
			e.out.detach(inv.Log)
			if e.abandon(call) {
				p.put(e)
			}
			return out, false
		}
		e.kill()
		e.awaitDeath(reapWait)
		e.out.detach(inv.Log)
		p.discard(e)
		return out, false
	}

	// The process exited. It may have answered first, or failed init.
	select {
	case res := <-call.result:
		out = e.output(inv, res, fresh)
		p.discard(e)
		return out, false
	case <-e.initFailed:
		e.out.detach(inv.Log)
		p.discard(e)
		return e.initFailure(), false
	default:
	}
	taken := !e.unqueue(call)
	e.out.detach(inv.Log)
	p.discard(e)
	if !taken && !fresh {
		return Output{}, true
	}
	out.Error = true
	out.Payload = ErrorDocument("Runtime.ExitError", "RequestId: "+inv.RequestID+" Error: "+e.exitMessage())
	out.InitDuration = e.initTime(fresh)
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
func (e *environment) output(inv *Invocation, res runtimeResult, fresh bool) Output {
	e.out.detach(inv.Log)
	out := Output{Payload: res.payload, Error: res.isError, InitDuration: e.initTime(fresh)}
	// Reading /proc costs a few microseconds; only the REPORT line shows
	// the figure, and the server writes that only when it keeps a log.
	if inv.Log != io.Discard {
		out.MaxMemoryUsedMB = e.mem.megabytes()
	}
	return out
}

// initTime is the environment's init duration to report for an
// invocation: spawn to first /next for the invocation that started it,
// else 0.
func (e *environment) initTime(fresh bool) time.Duration {
	if !fresh {
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
