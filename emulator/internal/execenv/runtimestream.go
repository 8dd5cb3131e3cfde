package execenv

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// Response streaming at the Runtime API. A runtime streams a response by
// posting it to /runtime/invocation/{id}/response with
// "Lambda-Runtime-Function-Response-Mode: streaming" and a chunked body,
// written as the handler produces it; when the handler fails midway the
// runtime ends the body with the trailer fields
// Lambda-Runtime-Function-Error-Type (the error's type) and
// Lambda-Runtime-Function-Error-Body (base64 of the JSON error document).
// Sources: AWS Lambda developer guide, "Implementing response streaming in
// a custom runtime" (runtimes-custom.html); the Node.js runtime interface
// client aws-lambda-ric 4.0.2, dist/stream/constants.js and
// response-stream.js (makeResponseStreamHeaders, and the fail hook that
// adds the trailers); aws-lambda-runtime-interface-emulator @4fa2157,
// internal/lambda/core/directinvoke/directinvoke.go and
// internal/lambda-managed-instances/invoke/runtime_response_request.go.
//
// The body is not buffered here: the connection's goroutine hands it to
// the invoker (the goroutine in Pool.Invoke), which reads it as it
// arrives and writes it to Invocation.Stream, and waits until the invoker
// is done with it before it answers the runtime and reads its next
// request.

// MaxStreamedResponseBytes is the most a streamed response may carry
// when the caller takes it as a stream: Lambda's 200 MB (MiB) for
// response streaming. Taken whole, a streamed response is held to the
// 6 MB of any other.
const MaxStreamedResponseBytes = lambdaapi.MaxStreamedResponseBytes

// streamChunkBytes is the most one Write to Invocation.Stream carries.
const streamChunkBytes = 32 << 10

// responseStream is a response the runtime is streaming, handed from the
// connection's goroutine to the invoker.
type responseStream struct {
	rc  *runtimeConn
	req *runtimeRequest
	// ended receives how the invoker finished with the stream, exactly
	// once (buffered).
	ended chan streamEnd
}

// streamEnd is how a response stream ended for the invoker.
type streamEnd int

const (
	streamComplete streamEnd = iota // read to its end, trailers and all
	streamTooLarge                  // stopped at the size limit
	streamBroken                    // reading failed: cut off, or past the deadline
	streamDropped                   // not read to its end: the invoker stopped waiting
)

// postStream serves a streamed response for invocation id: it hands the
// stream to the invoker, waits until the invoker has read it, and
// answers the runtime.
func (e *environment) postStream(rc *runtimeConn, r *runtimeRequest, id string) connState {
	rc.continueBody(r)
	s := &responseStream{rc: rc, req: r, ended: make(chan streamEnd, 1)}
	e.mu.Lock()
	call := e.fetched[id]
	if call == nil {
		// Answered meanwhile, on another connection.
		e.mu.Unlock()
		rc.closeAfter()
		_ = runtimeError(rc, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID: "+strconv.Quote(id))
		return connClose
	}
	delete(e.fetched, id)
	abandoned := call.abandoned
	if !abandoned {
		// Sent under mu, as settle sends.
		call.result <- runtimeResult{stream: s}
	}
	e.mu.Unlock()
	end := streamDropped
	if abandoned {
		// Nobody reads it: drop it, and free the slot once it has ended.
		defer e.pool.put(e)
	} else {
		// The invoker always ends the stream (environment.invoke), also
		// when it stops waiting.
		end = <-s.ended
	}
	switch end {
	case streamComplete:
	case streamTooLarge:
		rc.closeAfter()
		_ = runtimeError(rc, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
			"Exceeded maximum allowed payload size ("+strconv.Itoa(MaxStreamedResponseBytes)+" bytes).")
		return connClose
	case streamDropped:
		if _, err := io.Copy(io.Discard, io.LimitReader(r.body, MaxStreamedResponseBytes)); err != nil || !r.body.done() {
			return connClose
		}
	default:
		rc.closeAfter()
		_ = runtimeError(rc, http.StatusBadRequest, "TruncatedHTTPRequest", "HTTP request detected as truncated")
		return connClose
	}
	_ = accepted(rc)
	return connKeep
}

// readStream reads a response the runtime streams for inv, as it arrives:
// to inv.Stream, up to MaxStreamedResponseBytes, or, without one, into the
// payload, up to maxResponseBytes. A Write error stops the writes; the
// rest is read and dropped. It gives up when ctx is done, and ends the
// stream for the connection's goroutine before it returns.
func readStream(ctx context.Context, inv *Invocation, s *responseStream) (res runtimeResult) {
	end := streamBroken
	defer func() {
		res.streamed = inv.Stream != nil
		s.ended <- end
	}()
	// The connection's read deadline is the invocation's; an invoker that
	// stops waiting earlier (the emulator closing) stops reading too.
	stop := context.AfterFunc(ctx, func() { _ = s.rc.c.SetReadDeadline(time.Now()) })
	defer stop()

	limit := maxResponseBytes
	if inv.Stream != nil {
		limit = MaxStreamedResponseBytes
	}
	var payload []byte
	var sinkErr error
	chunk := make([]byte, streamChunkBytes)
	for total := 0; ; {
		n, err := s.req.body.Read(chunk)
		if total += n; total > limit {
			end = streamTooLarge
			return tooLargeResult(limit)
		}
		if n > 0 {
			switch {
			case inv.Stream == nil:
				payload = append(payload, chunk[:n]...)
			case sinkErr == nil:
				_, sinkErr = inv.Stream.Write(chunk[:n])
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return truncated(inv.RequestID, err)
		}
	}
	end = streamComplete
	if s.req.trailerErrorType != "" {
		return trailerError(s.req)
	}
	return runtimeResult{payload: payload}
}

// takeStream reads res's stream, if it is one, into the result it makes.
func takeStream(ctx context.Context, inv *Invocation, res runtimeResult) runtimeResult {
	if res.stream == nil {
		return res
	}
	return readStream(ctx, inv, res.stream)
}

// dropStream ends, unread, a stream the runtime handed to call's invoker
// that stopped waiting for it, so that the connection's goroutine drops
// the rest. abandon must have run: the result is then in the channel, or
// never will be.
func dropStream(call *envCall) {
	select {
	case res := <-call.result:
		if res.stream != nil {
			res.stream.ended <- streamDropped
		}
	default:
	}
}
