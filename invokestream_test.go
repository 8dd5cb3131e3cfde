package lambdafan_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
)

func TestStreamResponse_CloseEarly(t *testing.T) {
	endless := emulator.Function{Name: "endless", Timeout: time.Minute, Handler: streamHandler(func(ctx context.Context, inv *emulator.Invocation) emulator.Output {
		for ctx.Err() == nil {
			if _, err := inv.Stream.Write([]byte("more ")); err != nil {
				break
			}
		}
		return emulator.Output{Streamed: true}
	})}
	srv := emulatortest.New(t, emulator.Config{Functions: []emulator.Function{endless}})
	c := newClient(t, srv, lambdafan.Config{})
	s, err := c.InvokeStream(t.Context(), lambdafan.Request{FunctionName: "endless"})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(s, buf); err != nil || string(buf) != "more " {
		t.Fatalf("read %q, %v", buf, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if res := s.Result(); res.Err == nil || res.Outcome() != lambdafan.OutcomeUnknown {
		t.Errorf("after Close: error %v, outcome %v; want the stream cut short", res.Err, res.Outcome())
	}
	if _, err := s.Read(buf); err == nil {
		t.Error("Read after Close succeeded")
	}
}
