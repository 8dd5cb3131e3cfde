package lambdafan

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
)

// errStreamClosed is what a response stream's writer meets once its
// reader has been closed.
var errStreamClosed = errors.New("the response stream was closed by its reader")

// StreamResponse is a function's response being streamed to the caller:
// the payload of one InvokeWithResponseStream call, readable as it arrives
// (see [Client.InvokeStream]). Read it to io.EOF; [StreamResponse.Result]
// then says how the invocation ended. Close it in any case. Read and Close
// may be called from different goroutines; Reads must not be concurrent.
type StreamResponse struct {
	pr     *io.PipeReader
	cancel context.CancelFunc
	done   chan struct{} // closed once res is final
	head   Result        // the Result as the stream began
	res    Result
	ended  atomic.Bool // Read returned an error, or Close was called
}

// InvokeStream invokes req's function through InvokeWithResponseStream and
// returns as soon as the response begins, with its payload to be read as
// the function streams it: the PayloadChunk events' bytes, in order, with
// nothing held beyond the chunk being read. req.ResponseStream is implied
// and req.PayloadWriter is replaced.
//
// It signs, routes, waits for the rate cap and the adaptive limits, and
// retries failures that certainly did not run the function, as
// [Client.Invoke] does; it never retries one after which the function may
// have run (a stream cut short cannot be restarted under its reader), so
// Config.RetryUnsafe does not apply. A request that fails before its
// response begins returns the error a Result would carry (a
// *[RequestError], *[InvokeError], *[TransportError], …) and no
// StreamResponse. A DryRun, answered 204, returns an empty stream.
//
// Config.AttemptTimeout bounds the whole call, the reading included: a
// reader slower than that is cut off (Read then returns a
// *[TransportError]). Once Read has returned io.EOF the function has
// finished: [StreamResponse.Result] gives its error (a *[FunctionError]
// from the InvokeComplete event's ErrorCode and ErrorDetails, in
// ErrorType and Details) and its log tail (LogResult, decoded). A stream
// cut short makes Read return a *[TransportError] with Sent set: the
// function ran, its answer is incomplete.
func (c *Client) InvokeStream(ctx context.Context, req Request) (*StreamResponse, error) {
	ctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	s := &StreamResponse{pr: pr, cancel: cancel, done: make(chan struct{})}
	began := make(chan Result, 1)
	req.ResponseStream = true
	req.PayloadWriter = func(head Result) (io.Writer, error) {
		select {
		case began <- head:
			return pw, nil
		default: // unreachable: no retry once a response began (see below)
			return nil, errors.New("a response stream cannot begin twice")
		}
	}
	once := *c // the same pools, limits and credentials, without unsafe retries
	once.retry.unsafe = false
	go func() {
		s.res = once.invoke(ctx, nil, 0, &req)
		close(s.done) // before the reader can see the end: Result is then final
		var fe *FunctionError
		if s.res.Err != nil && !errors.As(s.res.Err, &fe) {
			pw.CloseWithError(s.res.Err)
			return
		}
		pw.Close() // Read returns io.EOF: the function has finished
	}()
	select {
	case s.head = <-began:
		return s, nil
	case <-s.done:
	}
	select { // the response may have begun just before the end
	case s.head = <-began:
		return s, nil
	default:
	}
	if s.res.Err != nil {
		cancel()
		return nil, s.res.Err
	}
	s.head = s.res
	return s, nil
}

// Read reads the next bytes of the function's response. It returns io.EOF
// once the function has finished, or the error that cut the stream short.
func (s *StreamResponse) Read(p []byte) (int, error) {
	n, err := s.pr.Read(p)
	if err != nil {
		s.ended.Store(true)
	}
	return n, err
}

// Close stops reading: an unfinished stream is abandoned (its connection
// closed), and Close returns once the call is over. It always returns nil.
func (s *StreamResponse) Close() error {
	s.ended.Store(true)
	s.pr.CloseWithError(errStreamClosed)
	s.cancel()
	<-s.done
	return nil
}

// Result returns the invocation's Result. Until Read has returned io.EOF
// (or an error) or Close has returned, it is the Result as the stream began
// — region, status, request ID, executed version, attempts — with no
// error; after that it is final: Err is nil, a *[FunctionError], or what
// cut the stream short, LogTail is set when the request asked for the log
// tail, and Latency covers the whole stream. Payload is always empty: the
// payload is what Read returns.
func (s *StreamResponse) Result() Result {
	if !s.ended.Load() {
		return s.head
	}
	<-s.done // closed before Read can return the end
	return s.res
}
