package cli

import (
	"io"
	"testing"

	"github.com/lambdafan/lambdafan"
)

// TestPayloadBuffers: another attempt writes into the same buffer, emptied;
// result hands the bytes to the result and release takes them back.
func TestPayloadBuffers(t *testing.T) {
	pb := newPayloadBuffers()
	w := pb.writerFor(7, 1, "")
	first, _ := w(lambdafan.Result{})
	io.WriteString(first, "cut short")
	second, _ := w(lambdafan.Result{})
	if first != second {
		t.Fatal("another attempt got another buffer")
	}
	io.WriteString(second, `{"ok":true}`)
	var r lambdafan.Result
	_, release := pb.result(7, &r)
	if string(r.Payload) != `{"ok":true}` {
		t.Fatalf("payload %q, want the last attempt's", r.Payload)
	}
	release()
	if r.Payload != nil {
		t.Errorf("payload %q still set after release", r.Payload)
	}
	var none lambdafan.Result
	none.Payload = []byte("kept")
	_, release = pb.result(8, &none) // a request whose answer had no payload for the writer
	release()
	if string(none.Payload) != "kept" {
		t.Errorf("payload %q, want the result's own kept", none.Payload)
	}
}
