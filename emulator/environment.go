package emulator

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"time"
)

// environment is one execution environment: one process started from a
// function's Command, with its own Runtime API endpoint on a loopback
// port. It runs one invocation at a time; its pool owns it while idle and
// the invoking goroutine owns it while it runs an invocation.
type environment struct {
	pool    *envPool
	cmd     *exec.Cmd
	srv     *http.Server
	out     *outputCapture
	mem     *peakMemory
	spawned time.Time

	// assign hands the next invocation to the runtime's /next (buffer 1:
	// the invoker need not wait for the runtime to be polling).
	assign chan *Invocation
	// results carries the runtime's answer to the invocation it fetched.
	results chan runtimeResult
	// initFailed is closed when the runtime posts /init/error.
	initFailed chan struct{}
	// dead is closed once the process has exited and exitErr is set.
	dead chan struct{}
	// shutdown is closed when the pool closes; extensions then receive
	// their SHUTDOWN event.
	shutdown     chan struct{}
	shutdownOnce sync.Once

	exitErr error // cmd.Wait's result, written before dead is closed

	// used counts the invocations handed to the environment; only its
	// current owner touches it.
	used int

	mu           sync.Mutex
	current      *Invocation // fetched by the runtime, not answered yet
	initDone     bool
	initDuration time.Duration
	initError    []byte         // body posted to /init/error
	closing      bool           // no new Runtime API requests are served
	handlers     sync.WaitGroup // Runtime API requests being served
}

// runtimeResult is what the runtime posted for an invocation.
type runtimeResult struct {
	payload []byte
	isError bool
}

// startEnvironment spawns a new environment for p's function: its Runtime
// API listener, then the process. The environment's goroutines belong to
// p.wg.
func startEnvironment(p *envPool) (*environment, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtime API listener: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("output pipe: %w", err)
	}
	out, err := newOutputCapture(r)
	if err != nil {
		ln.Close()
		r.Close()
		w.Close()
		return nil, fmt.Errorf("output pipe: %w", err)
	}
	e := &environment{
		pool:       p,
		out:        out,
		assign:     make(chan *Invocation, 1),
		results:    make(chan runtimeResult, 1),
		initFailed: make(chan struct{}),
		dead:       make(chan struct{}),
		shutdown:   make(chan struct{}),
	}
	e.srv = &http.Server{
		Handler:  e,
		ErrorLog: slog.NewLogLogger(p.log.Handler(), slog.LevelDebug),
	}
	cmd := exec.Command(p.program, p.args...)
	cmd.Env = append(p.env[:len(p.env):len(p.env)], "AWS_LAMBDA_RUNTIME_API="+ln.Addr().String())
	cmd.Stdout, cmd.Stderr = w, w
	startInOwnGroup(cmd)
	e.cmd = cmd
	e.spawned = time.Now()
	err = cmd.Start()
	w.Close() // the child has its copy; ours would keep the pipe from ending
	if err != nil {
		ln.Close()
		r.Close()
		return nil, err
	}
	e.mem = openPeakMemory(cmd.Process.Pid)
	p.wg.Go(func() { _ = e.srv.Serve(ln) })
	p.wg.Go(e.out.run)
	p.wg.Go(e.wait)
	return e, nil
}

// wait reaps the process and marks the environment dead.
func (e *environment) wait() {
	e.exitErr = e.cmd.Wait()
	close(e.dead)
}

// pid is the process's ID.
func (e *environment) pid() int { return e.cmd.Process.Pid }

// kill kills the process group; dead is closed once it is reaped.
func (e *environment) kill() {
	if err := killGroup(e.cmd.Process); err != nil {
		e.pool.log.Warn("kill execution environment", "function", e.pool.name, "pid", e.pid(), "err", err)
	}
}

// awaitDeath waits until the process is reaped or d passed.
func (e *environment) awaitDeath(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-e.dead:
		return true
	case <-t.C:
		return false
	}
}

// beginShutdown releases extensions waiting for their SHUTDOWN event.
func (e *environment) beginShutdown() {
	e.shutdownOnce.Do(func() { close(e.shutdown) })
}

// release frees what remains once the process is dead: the Runtime API
// server and its running requests, the output pipe and the memory probe.
func (e *environment) release() {
	<-e.dead
	e.beginShutdown()
	e.mu.Lock()
	e.closing = true
	e.mu.Unlock()
	_ = e.srv.Close()
	e.handlers.Wait()
	e.out.close()
	e.mem.close()
}

// exitMessage describes how the process ended, the way Lambda does in
// Runtime.ExitError messages ("exit status 42", "signal: killed").
func (e *environment) exitMessage() string {
	if e.exitErr == nil {
		return "Runtime exited without providing a reason"
	}
	return "Runtime exited with error: " + e.exitErr.Error()
}
