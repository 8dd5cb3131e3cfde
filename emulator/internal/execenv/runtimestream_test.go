package execenv_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lambdafan/lambdafan/emulator/internal/execenv"
	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// streamRuntime returns the path of testdata/streamruntime, a runtime
// that streams its responses over raw HTTP/1.1, built on first use.
func streamRuntime(tb testing.TB) string {
	tb.Helper()
	return builtPrograms.Build(tb, "testdata/streamruntime", "bootstrap")
}

// recorder is an Invocation.Stream that keeps each Write apart.
type recorder struct {
	writes [][]byte
	total  int
	keep   bool // keep the bytes, not only count them
}

func (r *recorder) Write(p []byte) (int, error) {
	r.total += len(p)
	if r.keep {
		r.writes = append(r.writes, bytes.Clone(p))
	}
	return len(p), nil
}

func (r *recorder) String() string {
	var b strings.Builder
	for _, w := range r.writes {
		b.Write(w)
	}
	return b.String()
}

// invokeStream runs event in p, with stream as the Invocation's Stream
// (nil: take the response whole), and returns the output and the log.
func invokeStream(p *execenv.Pool, event string, stream *recorder) (execenv.Output, string) {
	var log bytes.Buffer
	inv := &execenv.Invocation{RequestID: lambdaapi.NewRequestID(), Payload: []byte(event),
		Deadline: time.Now().Add(30 * time.Second).Truncate(time.Millisecond), Log: &log}
	if stream != nil {
		inv.Stream = stream
	}
	ctx, cancel := context.WithDeadline(context.Background(), inv.Deadline)
	defer cancel()
	return p.Invoke(ctx, inv), log.String()
}

func errorDoc(t *testing.T, out execenv.Output) (typ, msg string) {
	t.Helper()
	if !out.Error {
		t.Fatalf("succeeded with %.200q, want an error", out.Payload)
	}
	var doc struct{ ErrorType, ErrorMessage string }
	if err := json.Unmarshal(out.Payload, &doc); err != nil {
		t.Fatalf("error document %.200q: %v", out.Payload, err)
	}
	return doc.ErrorType, doc.ErrorMessage
}

// TestPool_StreamedResponse runs a runtime that streams its responses
// (testdata/streamruntime) with callers that take the response as a
// stream and callers that take it whole.
func TestPool_StreamedResponse(t *testing.T) {
	p, err := execenv.NewPool(execenv.Config{Function: "stream", Command: []string{streamRuntime(t)}, MemorySize: 128, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	const chunks = `"chunks":["hello ","streaming ","world"]`

	t.Run("as a stream", func(t *testing.T) {
		rec := &recorder{keep: true}
		out, log := invokeStream(p, `{`+chunks+`,"print":"printed while streaming"}`, rec)
		if out.Error || !out.Streamed || len(out.Payload) != 0 {
			t.Fatalf("error %v, streamed %v, payload %q", out.Error, out.Streamed, out.Payload)
		}
		// Chunks that arrive together may be read together
		// (TestRuntimeConn_Stream shows them read as they arrive).
		if got := rec.String(); got != "hello streaming world" {
			t.Errorf("streamed %q", got)
		}
		if !strings.Contains(log, "printed while streaming") {
			t.Errorf("log %q lacks what the function printed while it streamed", log)
		}
	})

	t.Run("as a stream, failing midway", func(t *testing.T) {
		rec := &recorder{keep: true}
		out, _ := invokeStream(p, `{`+chunks+`,"failType":"Error","failMessage":"broke midway"}`, rec)
		if typ, msg := errorDoc(t, out); typ != "Error" || msg != "broke midway" {
			t.Errorf("error %s: %s, want the trailer's", typ, msg)
		}
		if rec.String() != "hello streaming world" || !out.Streamed {
			t.Errorf("streamed %q (%v) before the error, want all the runtime sent", rec.String(), out.Streamed)
		}
	})

	t.Run("whole", func(t *testing.T) {
		out, _ := invokeStream(p, `{`+chunks+`}`, nil)
		if out.Error || out.Streamed || string(out.Payload) != "hello streaming world" {
			t.Errorf("error %v, streamed %v, payload %q", out.Error, out.Streamed, out.Payload)
		}
	})

	t.Run("whole, failing midway", func(t *testing.T) {
		out, _ := invokeStream(p, `{`+chunks+`,"failType":"Error","failMessage":"broke midway"}`, nil)
		if typ, msg := errorDoc(t, out); typ != "Error" || msg != "broke midway" {
			t.Errorf("error %s: %s, want the trailer's", typ, msg)
		}
	})

	t.Run("buffered and chunked, failing midway", func(t *testing.T) {
		// As aws-lambda-go posts the response of a handler whose
		// io.Reader fails: no response mode, error trailers.
		rec := &recorder{keep: true}
		out, _ := invokeStream(p, `{`+chunks+`,"mode":"none","failType":"ReaderError","failMessage":"read failed"}`, rec)
		if typ, _ := errorDoc(t, out); typ != "ReaderError" || out.Streamed || len(rec.writes) != 0 {
			t.Errorf("error %s, streamed %v, writes %q", typ, out.Streamed, rec.writes)
		}
	})

	t.Run("an invalid response mode", func(t *testing.T) {
		out, _ := invokeStream(p, `{`+chunks+`,"mode":"sideways"}`, nil)
		if typ, _ := errorDoc(t, out); typ != "Runtime.InvalidResponseModeHeader" {
			t.Errorf("error %s, want Runtime.InvalidResponseModeHeader", typ)
		}
	})

	t.Run("beyond 6 MB, whole", func(t *testing.T) {
		out, _ := invokeStream(p, `{"size":7000000}`, nil)
		if typ, msg := errorDoc(t, out); typ != "Function.ResponseSizeTooLarge" || !strings.Contains(msg, "(6291556 bytes)") {
			t.Errorf("error %s: %s", typ, msg)
		}
	})

	t.Run("beyond 6 MB, as a stream", func(t *testing.T) {
		rec := &recorder{}
		out, _ := invokeStream(p, `{"size":7000000}`, rec)
		if out.Error || rec.total != 7000000 {
			t.Errorf("error %v (%.200s), streamed %d bytes, want 7000000", out.Error, out.Payload, rec.total)
		}
	})

	t.Run("beyond 200 MB, as a stream", func(t *testing.T) {
		if testing.Short() {
			t.Skip("streams 200 MB")
		}
		rec := &recorder{}
		out, _ := invokeStream(p, fmt.Sprintf(`{"size":%d}`, execenv.MaxStreamedResponseBytes+1), rec)
		if typ, msg := errorDoc(t, out); typ != "Function.ResponseSizeTooLarge" || !strings.Contains(msg, "(209715200 bytes)") {
			t.Errorf("error %s: %s", typ, msg)
		}
		if rec.total > execenv.MaxStreamedResponseBytes {
			t.Errorf("streamed %d bytes, more than the limit", rec.total)
		}
	})

	t.Run("the environment stays warm", func(t *testing.T) {
		pids := p.PIDs()
		out, _ := invokeStream(p, `{`+chunks+`}`, &recorder{})
		if out.Error || out.InitDuration != 0 || len(pids) != 1 || fmt.Sprint(p.PIDs()) != fmt.Sprint(pids) {
			t.Errorf("error %v, init %v, processes %v then %v", out.Error, out.InitDuration, pids, p.PIDs())
		}
	})
}
