package lambdafan_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
)

func TestClient_PayloadWriter(t *testing.T) {
	srv := emulatortest.New(t, emulator.Config{Functions: append(streamFunctions(), emulator.BuiltinFunctions()...)})
	c := newClient(t, srv, lambdafan.Config{})
	var mu sync.Mutex
	bodies := map[string]*bytes.Buffer{}
	heads := map[string]lambdafan.Result{}
	writer := func(id string) func(lambdafan.Result) (io.Writer, error) {
		return func(head lambdafan.Result) (io.Writer, error) {
			mu.Lock()
			defer mu.Unlock()
			bodies[id], heads[id] = new(bytes.Buffer), head
			return bodies[id], nil
		}
	}
	reqs := []lambdafan.Request{
		{ID: "streamed", FunctionName: "chunks", ResponseStream: true},
		{ID: "large", FunctionName: "large", ResponseStream: true},
		{ID: "buffered", FunctionName: "echo", Payload: []byte(`{"a":1}`)},
		{ID: "function error", FunctionName: "fail", Payload: []byte(`{"message":"no"}`)},
		{ID: "event", FunctionName: "echo", InvocationType: lambdafan.Event},
		{ID: "not found", FunctionName: "nothere", ResponseStream: true},
	}
	for i := range reqs {
		reqs[i].PayloadWriter = writer(reqs[i].ID)
	}
	results := c.InvokeAll(t.Context(), reqs)
	want := map[string]string{
		"streamed":       "one two three",
		"large":          strings.Repeat("0123456789abcdef", 7*64<<10),
		"buffered":       `{"a":1}`,
		"function error": `{"errorMessage":"no","errorType":"Error"}`,
	}
	for _, r := range results {
		got, wrote := bodies[r.ID]
		if w, ok := want[r.ID]; ok != wrote || ok && got.String() != w {
			t.Errorf("%s: writer got %.40q (%v), want %.40q (%v)", r.ID, got, wrote, w, ok)
		}
		if wrote && (len(r.Payload) != 0 || heads[r.ID].StatusCode != 200 || heads[r.ID].RequestID != r.RequestID) {
			t.Errorf("%s: payload %q kept; head %+v", r.ID, r.Payload, heads[r.ID])
		}
		if r.ID == "not found" && !strings.Contains(string(r.Payload), "Function not found") {
			t.Errorf("%s: error answer %q, want it in the payload", r.ID, r.Payload)
		}
	}

	t.Run("a failing writer", func(t *testing.T) {
		for _, stream := range []bool{true, false} {
			r := c.Invoke(t.Context(), lambdafan.Request{FunctionName: "echo", Payload: []byte(`{}`), ResponseStream: stream,
				PayloadWriter: func(lambdafan.Result) (io.Writer, error) { return nil, errors.New("disk full") }})
			var te *lambdafan.TransportError
			if !errors.As(r.Err, &te) || !te.Sent || !errors.Is(r.Err, lambdafan.ErrPayloadWrite) || r.Attempts != 1 ||
				!strings.Contains(r.Err.Error(), "disk full") {
				t.Errorf("stream %v: error %v after %d attempts, want ErrPayloadWrite, not retried", stream, r.Err, r.Attempts)
			}
		}
	})
}
