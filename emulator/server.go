package emulator

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"golang.org/x/sync/semaphore"
)

// Server is a Lambda-compatible API endpoint: Invoke and the read-only
// calls described in the package documentation. It is an http.Handler;
// serve it with net/http (or httptest) and stop it with Shutdown or
// Close. It is safe for concurrent use.
type Server struct {
	cfg       Config
	functions map[string]*function
	auth      *authenticator // nil with NoAuth
	account   *semaphore.Weighted
	events    *eventQueue
	faults    *faultInjector
	execs     *executionCounter // nil unless CountExecutions
	stats     counters
	log       *slog.Logger
	now       func() time.Time
	// bodyBytes is the budget of request body bytes held at once
	// (Config.MaxRequestBytes).
	bodyBytes *semaphore.Weighted
	// started is when the server was created: the LastModified of its
	// functions.
	started time.Time

	// base is the parent of every execution's context: executions outlive
	// the HTTP request that started them (as in Lambda, a client that
	// disconnects does not stop its function) but not the server.
	base       context.Context
	stop       context.CancelFunc
	executions activity // running executions
	closeOnce  sync.Once
	closers    []io.Closer // handlers that own resources (processes)
	logMu      sync.Mutex  // serialises FunctionLog writes
	logs       sync.Pool   // *invocationLog, for reuse
	runs       sync.Pool   // *execution, for reuse
}

// New validates cfg and returns a Server. Handlers that start processes do
// so lazily, on their first invocation.
func New(cfg Config) (*Server, error) {
	cfg.AccountID = cmp.Or(cfg.AccountID, DefaultAccountID)
	cfg.AccessKeyID = cmp.Or(cfg.AccessKeyID, DefaultAccessKeyID)
	cfg.SecretAccessKey = cmp.Or(cfg.SecretAccessKey, DefaultSecretAccessKey)
	cfg.AccountConcurrency = cmp.Or(cfg.AccountConcurrency, DefaultAccountConcurrency)
	if cfg.EventRetryDelays == nil {
		cfg.EventRetryDelays = []time.Duration{time.Minute, 2 * time.Minute}
	}
	if cfg.AccountConcurrency < 0 {
		return nil, fmt.Errorf("account concurrency %d is negative", cfg.AccountConcurrency)
	}
	if err := cfg.Faults.validate(); err != nil {
		return nil, err
	}
	if err := cfg.setLimitDefaults(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		functions: make(map[string]*function, len(cfg.Functions)),
		log:       cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler)),
		now:       cfg.Now,
		faults:    newFaultInjector(cfg.Faults),
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.started = s.now()
	s.bodyBytes = semaphore.NewWeighted(cfg.MaxRequestBytes)
	s.logs.New = func() any { return &invocationLog{s: s} }
	s.runs.New = func() any {
		x := &execution{s: s}
		x.beginFunc = x.begin
		return x
	}
	s.base, s.stop = context.WithCancel(context.Background())
	if cfg.CountExecutions {
		s.execs = newExecutionCounter()
	}
	reserved := 0
	for _, def := range cfg.Functions {
		if _, dup := s.functions[def.Name]; dup {
			return nil, fmt.Errorf("function %s is defined twice", def.Name)
		}
		f, err := newFunction(def)
		if err != nil {
			return nil, err
		}
		if len(def.Command) > 0 {
			h, err := newCommandHandler(f.def, cfg, s.now, s.log)
			if err != nil {
				return nil, fmt.Errorf("function %s: %w", def.Name, err)
			}
			f.handler = h
			s.closers = append(s.closers, h)
		}
		if def.ReservedConcurrency != nil {
			reserved += *def.ReservedConcurrency
		}
		s.functions[def.Name] = f
	}
	if reserved > cfg.AccountConcurrency {
		return nil, fmt.Errorf("functions reserve %d concurrent executions, more than the account's %d", reserved, cfg.AccountConcurrency)
	}
	s.account = semaphore.NewWeighted(int64(cfg.AccountConcurrency - reserved))
	if !cfg.NoAuth {
		s.auth = &authenticator{
			creds:  aws.Credentials{AccessKeyID: cfg.AccessKeyID, SecretAccessKey: cfg.SecretAccessKey},
			signer: v4.NewSigner(),
			now:    s.now,
		}
	}
	s.events = newEventQueue(s.eventDeps())
	return s, nil
}

// Functions returns the names of the served functions.
func (s *Server) Functions() []string {
	names := make([]string, 0, len(s.functions))
	for _, f := range s.cfg.Functions {
		names = append(names, f.Name)
	}
	return names
}

// Credentials returns the access key pair requests must be signed with.
func (s *Server) Credentials() (accessKeyID, secretAccessKey string) {
	return s.cfg.AccessKeyID, s.cfg.SecretAccessKey
}

// Shutdown waits until running invocations and queued events (with their
// pending retries) have finished, or until ctx is done; it then cancels
// whatever still runs (those invocations fail with a ServiceException,
// queued events are dropped and counted in Stats) and releases the
// handlers' execution environments. It does not refuse new requests: stop
// the HTTP server first, or events that keep arriving keep it waiting.
func (s *Server) Shutdown(ctx context.Context) error {
	drained := make(chan struct{})
	go func() {
		s.events.drain()
		s.executions.wait()
		close(drained)
	}()
	var err error
	select {
	case <-drained:
	case <-ctx.Done():
		err = fmt.Errorf("emulator shutdown: %w", ctx.Err())
	}
	return errors.Join(err, s.Close())
}

// Close cancels running invocations and queued events at once and
// releases the handlers' execution environments. It is safe to call more
// than once.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.stop()
		s.events.close()
		s.executions.wait()
		for _, c := range s.closers {
			err = errors.Join(err, c.Close())
		}
	})
	return err
}

// activity counts work in progress and lets callers wait until there is
// none. Unlike a sync.WaitGroup, it may be added to while someone waits
// (a request arriving during Shutdown or Close): a wait ends the first
// moment the count is zero. It is safe for concurrent use; the zero value
// is ready.
type activity struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0; nil while n is 0
}

func (a *activity) add() {
	a.mu.Lock()
	a.n++
	a.mu.Unlock()
}

func (a *activity) done() {
	a.mu.Lock()
	a.n--
	if a.n == 0 && a.idle != nil {
		close(a.idle)
		a.idle = nil
	}
	a.mu.Unlock()
}

// wait returns once nothing is in progress.
func (a *activity) wait() {
	a.mu.Lock()
	if a.n == 0 {
		a.mu.Unlock()
		return
	}
	if a.idle == nil {
		a.idle = make(chan struct{})
	}
	idle := a.idle
	a.mu.Unlock()
	<-idle
}
