package jsonl

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lambdafan/lambdafan"
)

func decodeRecord(t *testing.T, line []byte) map[string]any {
	t.Helper()
	if len(line) == 0 || line[len(line)-1] != '\n' || strings.Count(string(line), "\n") != 1 {
		t.Fatalf("record is not one line: %q", line)
	}
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatalf("record is not JSON: %v\n%s", err, line)
	}
	return m
}

func TestAppendRecord_Success(t *testing.T) {
	r := &lambdafan.Result{
		Index: 0, ID: "id-1", FunctionName: "f", Region: "us-east-1", InvocationType: lambdafan.RequestResponse,
		StatusCode: 200, Payload: []byte("{\n  \"a\": \"x\\ny\"\n}"), LogTail: "START\tRequestId\nEND\n",
		ExecutedVersion: "$LATEST", RequestID: "req", Attempts: 2, Latency: 1500 * time.Microsecond,
	}
	m := decodeRecord(t, AppendRecord(nil, Record{Line: 7, Result: r}))
	want := map[string]any{
		"line": 7.0, "id": "id-1", "function_name": "f", "region": "us-east-1", "invocation_type": "RequestResponse",
		"status": 200.0, "outcome": "ok", "log": "START\tRequestId\nEND\n", "executed_version": "$LATEST",
		"request_id": "req", "attempts": 2.0, "latency_ms": 1.5,
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %#v, want %#v", k, m[k], v)
		}
	}
	if p, ok := m["payload"].(map[string]any); !ok || p["a"] != "x\ny" {
		t.Errorf("payload = %#v, want the embedded JSON object", m["payload"])
	}
	if _, ok := m["error"]; ok {
		t.Error("success has an error field")
	}
}

func TestAppendRecord_PayloadFile(t *testing.T) {
	r := &lambdafan.Result{FunctionName: "f", StatusCode: 200, Payload: []byte(`{"kept":"out"}`), Attempts: 1}
	f := &PayloadFile{Path: "out/line-3.payload", Size: 11, SHA256: [32]byte{0xab, 0x01}}
	line := AppendRecord(nil, Record{Line: 3, Result: r, PayloadFile: f})
	m := decodeRecord(t, line)
	if m["payload_file"] != "out/line-3.payload" || m["payload_size"] != 11.0 ||
		m["payload_sha256"] != "ab01"+strings.Repeat("0", 60) || m["payload"] != nil || m["payload_encoding"] != nil {
		t.Errorf("record %s", line)
	}
}

func TestAppendRecord_PayloadEncodings(t *testing.T) {
	tests := []struct {
		payload      []byte
		wantPayload  any
		wantEncoding any
	}{
		{[]byte(`"str"`), "str", nil},
		{[]byte(`plain text "quoted"`), `plain text "quoted"`, "text"},
		{[]byte{0xff, 0x00, 0x01}, "/wAB", "base64"},
	}
	for _, tt := range tests {
		m := decodeRecord(t, AppendRecord(nil, Record{Line: 1, Result: &lambdafan.Result{Payload: tt.payload, Attempts: 1}}))
		if m["payload"] != tt.wantPayload || m["payload_encoding"] != tt.wantEncoding {
			t.Errorf("payload %q → payload %#v encoding %#v, want %#v %#v", tt.payload, m["payload"], m["payload_encoding"], tt.wantPayload, tt.wantEncoding)
		}
	}
}

func TestAppendRecord_Errors(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		kind     string
		outcome  string
		extraKey string
		extraVal any
	}{
		{"bad line", &LineError{Line: 3, Field: "function_name", Err: errString("must be a string")}, KindInvalid, "invalid", "field", "function_name"},
		{"invalid request", &lambdafan.RequestError{Field: "region", Err: errString("bad")}, KindInvalid, "invalid", "field", "region"},
		{"function error", &lambdafan.FunctionError{Kind: "Unhandled", ErrorType: "ValueError", ErrorMessage: "m"}, KindFunction, "function_error", "type", "ValueError"},
		{"throttle", &lambdafan.InvokeError{StatusCode: 429, Type: "TooManyRequestsException", Reason: "CallerRateLimitExceeded"}, KindInvoke, "throttled", "reason", "CallerRateLimitExceeded"},
		{"not found", &lambdafan.InvokeError{StatusCode: 404, Type: "ResourceNotFoundException"}, KindInvoke, "error", "status", 404.0},
		{"transport after sending", &lambdafan.TransportError{Sent: true, Err: errString("reset")}, KindTransport, "unknown", "sent", true},
		{"transport before sending", &lambdafan.TransportError{Sent: false, Err: errString("refused")}, KindTransport, "not_sent", "sent", false},
		{"stopped", lambdafan.ErrStopped, KindStopped, "not_sent", "sent", false},
		{"cancelled before sending", context.Canceled, KindCancelled, "not_sent", "sent", false},
		{"cancelled after sending", &lambdafan.TransportError{Sent: true, Err: context.Canceled}, KindCancelled, "unknown", "sent", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := decodeRecord(t, AppendRecord(nil, Record{Line: 1, Result: &lambdafan.Result{Err: tt.err}}))
			e, ok := m["error"].(map[string]any)
			if !ok {
				t.Fatalf("no error object in %v", m)
			}
			if e["kind"] != tt.kind || m["outcome"] != tt.outcome || e[tt.extraKey] != tt.extraVal || e["message"] != tt.err.Error() {
				t.Errorf("record %v\nwant kind %s outcome %s %s=%v", m, tt.kind, tt.outcome, tt.extraKey, tt.extraVal)
			}
		})
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", "quote \" backslash \\ tab \t nl \n cr \r", "\x00\x01\x1f", "héllo ✓ 𝄞", "bad \xff utf8"} {
		var got string
		if err := json.Unmarshal(appendString(nil, s), &got); err != nil {
			t.Errorf("appendString(%q) is not valid JSON: %v", s, err)
			continue
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		if got != want {
			t.Errorf("appendString(%q) decodes to %q", s, got)
		}
	}
}

func TestAppendRecord_CredentialsAndCancelled(t *testing.T) {
	refused := fmt.Errorf("%w: %w", lambdafan.ErrCredentials, &lambdafan.InvokeError{StatusCode: 403, Type: "ExpiredTokenException"})
	m := decodeRecord(t, AppendRecord(nil, Record{Line: 1, Result: &lambdafan.Result{Err: refused}}))
	if e := m["error"].(map[string]any); e["kind"] != KindCredentials {
		t.Errorf("refused credentials: %v", m)
	}
	inFlight := &lambdafan.TransportError{Sent: true, Err: context.Canceled}
	m = decodeRecord(t, AppendRecord(nil, Record{Line: 1, Result: &lambdafan.Result{Err: inFlight, Attempts: 1}}))
	if e := m["error"].(map[string]any); e["kind"] != KindCancelled || e["sent"] != true {
		t.Errorf("cancelled in flight: %v", m)
	}
	m = decodeRecord(t, AppendRecord(nil, Record{Line: 1, Result: &lambdafan.Result{Err: context.Canceled}}))
	if e := m["error"].(map[string]any); e["kind"] != KindCancelled || e["sent"] != false {
		t.Errorf("cancelled before sending: %v", m)
	}
}

func TestAppendRecord_ID(t *testing.T) {
	tests := []struct {
		name    string
		id      string
		numeric bool
		want    string // the record's "id" member as written, "" for none
	}{
		{"string", "1", false, `"id":"1"`},
		{"number", "1", true, `"id":1`},
		{"number kept as written", "-3.5e2", true, `"id":-3.5e2`},
		{"big number", "123456789012345678901234567890", true, `"id":123456789012345678901234567890`},
		{"not a number after all", "abc", true, `"id":"abc"`},
		{"number with space", "1 ", true, `"id":"1 "`},
		{"empty", "", true, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := AppendRecord(nil, Record{Line: 1, NumericID: tt.numeric, Result: &lambdafan.Result{ID: tt.id}})
			decodeRecord(t, line)
			if tt.want == "" {
				if strings.Contains(string(line), `"id"`) {
					t.Errorf("record %s has an id", line)
				}
			} else if !strings.Contains(string(line), `,`+tt.want+`,`) {
				t.Errorf("record %s, want %s", line, tt.want)
			}
		})
	}
}

// TestAppendRecord_IDRoundTrip checks that ids 1 and "1" come out as they
// went in.
func TestAppendRecord_IDRoundTrip(t *testing.T) {
	input := `{"function_name":"f","id":1}` + "\n" + `{"function_name":"f","id":"1"}` + "\n" + `{"function_name":"f","id":1.50}`
	seq, readErr := Decode(strings.NewReader(input), Options{})
	var out []byte
	for it := range seq {
		out = AppendRecord(out, Record{Line: it.Line, NumericID: it.NumericID, Result: &lambdafan.Result{ID: it.Request.ID}})
	}
	if err := readErr(); err != nil {
		t.Fatal(err)
	}
	want := `{"line":1,"id":1,"outcome":"ok","attempts":0}` + "\n" +
		`{"line":2,"id":"1","outcome":"ok","attempts":0}` + "\n" +
		`{"line":3,"id":1.50,"outcome":"ok","attempts":0}` + "\n"
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

// TestAppendRecord_Times: started_at and ended_at are the result's start
// and end in UTC with milliseconds, truncated; a zero time is left out.
func TestAppendRecord_Times(t *testing.T) {
	plus3 := time.FixedZone("UTC+3", 3*60*60)
	tests := []struct {
		name       string
		start, end time.Time
		want       string // the record's times as written
	}{
		{"both", time.Date(2026, 11, 30, 5, 59, 0, 123456789, time.UTC), time.Date(2026, 11, 30, 6, 0, 1, 999999999, time.UTC),
			`"latency_ms":1,"started_at":"2026-11-30T05:59:00.123Z","ended_at":"2026-11-30T06:00:01.999Z"}`},
		{"other zone", time.Date(2026, 1, 1, 2, 0, 0, 0, plus3), time.Date(2026, 1, 1, 2, 0, 0, 7e6, plus3),
			`"latency_ms":1,"started_at":"2025-12-31T23:00:00.000Z","ended_at":"2025-12-31T23:00:00.007Z"}`},
		{"never sent", time.Time{}, time.Date(2026, 11, 30, 5, 59, 0, 40e6, time.UTC),
			`"latency_ms":1,"ended_at":"2026-11-30T05:59:00.040Z"}`},
		{"neither", time.Time{}, time.Time{}, `"latency_ms":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &lambdafan.Result{Attempts: 1, Latency: time.Millisecond, Start: tt.start, End: tt.end}
			line := AppendRecord(nil, Record{Line: 1, Result: r})
			decodeRecord(t, line)
			if !strings.HasSuffix(string(line), tt.want+"\n") {
				t.Errorf("record %s, want it to end with %s", line, tt.want)
			}
		})
	}
}

// TestAppendTime compares appendTime with the layout it stands for, and
// checks that it appends without allocating.
func TestAppendTime(t *testing.T) {
	const layout = "2006-01-02T15:04:05.000Z07:00"
	zones := []*time.Location{time.UTC, time.FixedZone("", -7*3600-1800), time.FixedZone("", 14*3600)}
	for i := range 2000 {
		// Times spread over 1970–2320, with every sub-second digit.
		tm := time.Unix(int64(i)*5_555_555_557, int64(i)*987_654_321%1e9).In(zones[i%len(zones)])
		got, want := string(appendTime(nil, tm)), tm.UTC().Format(layout)
		if got != want {
			t.Fatalf("appendTime(%v) = %s, want %s", tm, got, want)
		}
	}
	buf := make([]byte, 0, 64)
	tm := time.Now()
	if n := testing.AllocsPerRun(100, func() { buf = appendTime(buf[:0], tm) }); n != 0 {
		t.Errorf("appendTime allocates %v times", n)
	}
}

// TestAppendRecord_SuccessDoesNotAllocate: the common record is encoded
// into a reused buffer without any allocation.
func TestAppendRecord_SuccessDoesNotAllocate(t *testing.T) {
	r := &lambdafan.Result{FunctionName: "f", Region: "us-east-1", StatusCode: 200, Payload: []byte(`{"a":1}`),
		Attempts: 1, Latency: time.Millisecond, Start: time.Now(), End: time.Now()}
	buf := AppendRecord(nil, Record{Line: 1, Result: r})
	if n := testing.AllocsPerRun(100, func() { buf = AppendRecord(buf[:0], Record{Line: 1, Result: r}) }); n != 0 {
		t.Errorf("AppendRecord allocates %v times per success", n)
	}
}

func TestAppendCompact_dropsEveryNewline(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"a":1}`, `{"a":1}`},
		{"{\n\"a\":1\n}", `{"a":1}`},
		{"{\r\n\"a\":1}", `{"a":1}`},
		{"{\"a\":1,\r\"b\":\n2}", `{"a":1,"b":2}`},
		{"[1,\n2,\r3]\r\n", `[1,2,3]`},
	} {
		if got := string(appendCompact(nil, []byte(tc.in))); got != tc.want {
			t.Errorf("appendCompact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
