package execenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lambdafan/lambdafan/emulator/internal/peer"
)

// environment is one execution environment: one process started from a
// function's command, with its own Runtime API endpoint on a loopback
// port. It runs one invocation at a time, or up to slots at once (Lambda
// Managed Instances); its pool hands out its free slots, and each
// invoking goroutine owns the invocation it runs.
type environment struct {
	pool    *Pool
	cmd     *exec.Cmd
	ln      net.Listener // the Runtime API's
	out     *outputCapture
	outW    *os.File // the pipe's write end, until the process has it
	mem     *peakMemory
	spawned time.Time
	slots   int
	// admit decides which processes may use the Runtime API (see
	// runtimepeer.go); nil admits none. Set before accept starts.
	admit admitFunc
	// singleNext refuses a second /next while one waits: the partial
	// defence where peer identity is not supported (runtimepeer.go).
	singleNext bool

	// spawnTried is closed once spawn has started the process or failed
	// to: cmd and mem are set then.
	spawnTried chan struct{}
	// initialized is closed when the runtime first asks for an
	// invocation: its init phase is over.
	initialized chan struct{}
	// initFailed is closed when the runtime posts /init/error.
	initFailed chan struct{}
	// dead is closed once the process has exited and exitErr is set.
	dead chan struct{}
	// shutdown is closed when the pool closes; extensions then receive
	// their SHUTDOWN event.
	shutdown     chan struct{}
	shutdownOnce sync.Once

	exitErr error // cmd.Wait's result, written before dead is closed

	free int // slots not handed out; guarded by pool.mu
	// idleSince is when the last slot was given back; guarded by pool.mu.
	idleSince time.Time

	// The freezer's state (freeze.go), guarded by fmu.
	fmu         sync.Mutex
	frozen      bool        // the process group is stopped
	busy        int         // invocations using the environment
	thawed      bool        // never freeze again: the environment is stopping
	freezeTimer *time.Timer // freezes the environment once idle a while
	armed       bool        // freezeTimer is set

	// ready reports that a /next waits for an invocation: whether
	// len(waiting) > 0, readable without mu.
	ready atomic.Bool

	mu           sync.Mutex
	queued       []*envCall          // handed over, not fetched by the runtime yet
	waiting      []*runtimeConn      // connections whose /next waits for an invocation
	fetched      map[string]*envCall // fetched by the runtime, not answered yet
	initDone     bool
	initDuration time.Duration
	initError    []byte                    // body posted to /init/error
	closing      bool                      // no new Runtime API requests are served
	conns        map[*runtimeConn]struct{} // open Runtime API connections
	serving      sync.WaitGroup            // the goroutines serving conns

	// initErrorType is the Lambda-Runtime-Function-Error-Type posted with
	// initError; guarded by mu.
	initErrorType string
}

// envCall is one invocation handed to an environment.
type envCall struct {
	inv *Invocation
	// result carries the runtime's answer (buffered: the invoker may
	// have stopped waiting).
	result chan runtimeResult
	// abandoned marks an invocation whose invoker stopped waiting while
	// the runtime runs it; its slot is given back with the answer.
	// Guarded by the environment's mu.
	abandoned bool
}

// runtimeResult is what the runtime posted for an invocation.
type runtimeResult struct {
	payload []byte
	isError bool
	// stream is a response the runtime streams; the invoker reads it
	// (readStream), which turns it into a result with streamed set when
	// it went to Invocation.Stream.
	stream   *responseStream
	streamed bool
}

// newEnvironment prepares an environment for p's function: its Runtime
// API listener and its output pipe. spawn starts its process.
func newEnvironment(p *Pool) (*environment, error) {
	// No TCP keep-alive probes on loopback connections to a child
	// process: they would only cost system calls on every accept, and
	// runtimes that keep few idle connections (aws-lambda-go with
	// several invocations at once) connect often.
	ln, err := (&net.ListenConfig{KeepAlive: -1}).Listen(context.Background(), "tcp", "127.0.0.1:0")
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
	return &environment{
		pool:        p,
		out:         out,
		outW:        w,
		ln:          ln,
		slots:       p.slots,
		fetched:     make(map[string]*envCall, p.slots),
		spawnTried:  make(chan struct{}),
		initialized: make(chan struct{}),
		initFailed:  make(chan struct{}),
		dead:        make(chan struct{}),
		shutdown:    make(chan struct{}),
		conns:       map[*runtimeConn]struct{}{},
	}, nil
}

// spawn starts the environment's process. The environment's goroutines
// belong to the pool's wg. When the process cannot start, the
// environment is dead at once, with the error as its exit error.
func (e *environment) spawn() error {
	defer close(e.spawnTried)
	p := e.pool
	cmd := exec.Command(p.program, p.args...)
	cmd.Env = append(p.env[:len(p.env):len(p.env)],
		"AWS_LAMBDA_RUNTIME_API="+e.ln.Addr().String(),
		"AWS_LAMBDA_LOG_STREAM_NAME="+logStreamName(p.now()))
	cmd.Dir = p.taskRoot
	cmd.Stdout, cmd.Stderr = e.outW, e.outW
	startInOwnGroup(cmd)
	e.cmd = cmd
	e.spawned = time.Now()
	err := cmd.Start()
	e.outW.Close() // the child has its copy; ours would keep the pipe from ending
	if err != nil {
		e.ln.Close()
		e.out.close()
		e.exitErr = err
		close(e.dead)
		return err
	}
	e.mem = openPeakMemory(cmd.Process.Pid)
	// The process leads its own group (startInOwnGroup).
	e.admit = admitGroup(cmd.Process.Pid)
	e.singleNext = !peer.Supported && e.slots == 1
	p.wg.Go(e.accept)
	p.wg.Go(e.out.run)
	p.wg.Go(e.wait)
	return nil
}

// accept serves the Runtime API's connections, each in a goroutine of
// the pool's, until the listener is closed.
func (e *environment) accept() {
	var backoff time.Duration
	for {
		c, err := e.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors, say: retry, more slowly each time,
			// as net/http's server does, while the process lives.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
				continue
			case <-e.dead:
				t.Stop()
				return
			}
		}
		backoff = 0
		rc := newRuntimeConn(e, c)
		e.mu.Lock()
		if e.closing {
			e.mu.Unlock()
			_ = c.Close()
			continue
		}
		e.conns[rc] = struct{}{}
		e.serving.Add(1)
		e.mu.Unlock()
		// accept is one of the pool's goroutines, so this Add cannot race
		// with the pool's Wait.
		e.pool.wg.Go(func() {
			defer e.serving.Done()
			rc.serve()
		})
	}
}

// dropConn forgets a connection whose serving ended and closes it.
func (e *environment) dropConn(rc *runtimeConn) {
	e.mu.Lock()
	delete(e.conns, rc)
	if rc.waiting {
		e.waiting = slices.DeleteFunc(e.waiting, func(w *runtimeConn) bool { return w == rc })
		e.ready.Store(len(e.waiting) > 0)
		rc.waiting = false
	}
	e.mu.Unlock()
	_ = rc.c.Close()
}

// terminate asks the process group to stop (SIGTERM), continuing it
// first if it is frozen: a stopped process would not act on the signal.
func (e *environment) terminate() error {
	<-e.spawnTried
	if e.cmd.Process == nil {
		return nil
	}
	e.thawForGood()
	return terminateGroup(e.cmd.Process)
}

// wait reaps the process and marks the environment dead.
func (e *environment) wait() {
	e.exitErr = e.cmd.Wait()
	close(e.dead)
}

// pid is the process's ID, or 0 when it did not start.
func (e *environment) pid() int {
	<-e.spawnTried
	if e.cmd.Process == nil {
		return 0
	}
	return e.cmd.Process.Pid
}

// kill kills the process group; dead is closed once it is reaped.
func (e *environment) kill() {
	<-e.spawnTried
	if e.cmd.Process == nil {
		return
	}
	e.thawForGood()
	if err := killGroup(e.cmd.Process); err != nil {
		e.pool.log.Warn("kill execution environment", "function", e.pool.name, "pid", e.pid(), "err", err)
	}
}

// isInitialized reports that the runtime has asked for an invocation.
func (e *environment) isInitialized() bool {
	select {
	case <-e.initialized:
		return true
	default:
		return false
	}
}

// peakMemoryMB is the peak memory of the process and its children, in MB,
// or 0 when unknown; read it before killing the process.
func (e *environment) peakMemoryMB() int {
	return e.mem.megabytes()
}

// exitPeakMemoryMB is the peak memory of the exited process, in MB, from
// its resource usage, or 0 when unknown.
func (e *environment) exitPeakMemoryMB() int {
	<-e.dead
	if e.cmd == nil || e.cmd.ProcessState == nil {
		return 0
	}
	return exitPeakMB(e.cmd.ProcessState)
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
// listener, its connections and the goroutines serving them, the output
// pipe and the memory probe.
func (e *environment) release() {
	<-e.dead
	e.beginShutdown()
	e.closeRuntimeAPI()
	e.out.close()
	e.mem.close()
}

// closeRuntimeAPI closes the Runtime API's listener and connections and
// waits for the goroutines serving them.
func (e *environment) closeRuntimeAPI() {
	e.mu.Lock()
	e.closing = true
	_ = e.ln.Close()
	for rc := range e.conns {
		_ = rc.c.Close()
	}
	e.mu.Unlock()
	e.serving.Wait()
}

// exitMessage describes how the process ended, the way Lambda does in
// Runtime.ExitError messages ("exit status 42", "signal: killed").
func (e *environment) exitMessage() string {
	if e.exitErr == nil {
		return "Runtime exited without providing a reason"
	}
	return "Runtime exited with error: " + e.exitErr.Error()
}
