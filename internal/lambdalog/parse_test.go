package lambdalog

import (
	"strings"
	"testing"
)

// Log tails as Lambda writes them. The text lines follow the AWS Lambda
// Developer Guide's examples and captured logs (tab-separated fields, a
// tab after the last one unless it is a Status); the JSON records are
// platform.report records of the JSON log format.
const (
	textWarm = "START RequestId: 6d68ca91-49c9-448d-89b8-7ca3e6dc66aa Version: $LATEST\n" +
		"2026-11-30T05:59:00.100Z\t6d68ca91-49c9-448d-89b8-7ca3e6dc66aa\tINFO\thello\n" +
		"END RequestId: 6d68ca91-49c9-448d-89b8-7ca3e6dc66aa\n" +
		"REPORT RequestId: 6d68ca91-49c9-448d-89b8-7ca3e6dc66aa\tDuration: 693.92 ms\tBilled Duration: 694 ms\tMemory Size: 128 MB\tMax Memory Used: 84 MB\t\n"
	textCold = "INIT_START Runtime Version: nodejs:22.v35\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:0ab\n" +
		"START RequestId: bf5f58db-ef7d-4cb2-b3c6-266eba1bbedb Version: $LATEST\n" +
		"END RequestId: bf5f58db-ef7d-4cb2-b3c6-266eba1bbedb\n" +
		"REPORT RequestId: bf5f58db-ef7d-4cb2-b3c6-266eba1bbedb\tDuration: 395.99 ms\tBilled Duration: 662 ms\tMemory Size: 512 MB\tMax Memory Used: 301 MB\tInit Duration: 265.72 ms\t\n"
	textTimeout = "START RequestId: 0c7a6f5e-2c1f-4f7e-9a55-1f0e7d3b9c11 Version: $LATEST\n" +
		"2026-11-30T05:59:03.000Z 0c7a6f5e-2c1f-4f7e-9a55-1f0e7d3b9c11 Task timed out after 3.00 seconds\n\n" +
		"END RequestId: 0c7a6f5e-2c1f-4f7e-9a55-1f0e7d3b9c11\n" +
		"REPORT RequestId: 0c7a6f5e-2c1f-4f7e-9a55-1f0e7d3b9c11\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 1024 MB\tMax Memory Used: 1035 MB\tInit Duration: 476.75 ms\tStatus: timeout\n"
	textCrash = "START RequestId: 9a1b Version: $LATEST\n" +
		"END RequestId: 9a1b\n" +
		"REPORT RequestId: 9a1b\tDuration: 12.40 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tStatus: error\tError Type: Runtime.ExitError\n"
	textSnapStart = "RESTORE_START Runtime Version: java:21.v20\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:1cd\n" +
		"RESTORE_REPORT Restore Duration: 474.16 ms\n" +
		"START RequestId: 559e3a5b-0a7a-4a35-9c29-0d4d0a4d6e1a Version: 3\n" +
		"END RequestId: 559e3a5b-0a7a-4a35-9c29-0d4d0a4d6e1a\n" +
		"REPORT RequestId: 559e3a5b-0a7a-4a35-9c29-0d4d0a4d6e1a\tDuration: 1014.63 ms\tBilled Duration: 1015 ms\tMemory Size: 512 MB\tMax Memory Used: 183 MB\tRestore Duration: 474.16 ms\tBilled Restore Duration: 213 ms\t\n"
	textFailedInit = "INIT_REPORT Init Duration: 10.17 ms\tPhase: init\tStatus: error\tError Type: Runtime.ExitError\n"

	jsonCold = `{"time":"2026-10-08T07:30:27.768Z","type":"platform.initStart","record":{"initializationType":"on-demand","phase":"init","runtimeVersion":"nodejs:22.mainline.v122","functionName":"notifier","functionVersion":"$LATEST"}}` + "\n" +
		`{"time":"2026-10-08T07:30:28.235Z","type":"platform.start","record":{"requestId":"79b5e81f-9cdd-4145-b1f6-7c50ef8a2a36","version":"$LATEST"}}` + "\n" +
		`{"timestamp":"2026-10-08T07:30:29.443Z","level":"ERROR","requestId":"79b5e81f-9cdd-4145-b1f6-7c50ef8a2a36","message":"Widget update failed"}` + "\n" +
		`{"time":"2026-10-08T07:30:29.470Z","type":"platform.report","record":{"requestId":"79b5e81f-9cdd-4145-b1f6-7c50ef8a2a36","metrics":{"durationMs":1233.96,"billedDurationMs":1698,"memorySizeMB":256,"maxMemoryUsedMB":123,"initDurationMs":463.512},"status":"success"}}` + "\n"
	jsonTimeout = `{"time":"2026-11-30T05:59:03.001Z","type":"platform.report","record":{"requestId":"0c7a6f5e","metrics":{"durationMs":3000.0,"billedDurationMs":3000,"memorySizeMB":1024,"maxMemoryUsedMB":220},"status":"timeout"}}` + "\n"
	jsonCrash   = `{"time":"2026-11-30T05:59:03.001Z","type":"platform.report","record":{"requestId":"9a1b","metrics":{"durationMs":12.4,"billedDurationMs":13,"memorySizeMB":128,"maxMemoryUsedMB":40},"status":"error","errorType":"Runtime.ExitError"}}` + "\n"
)

func TestParse(t *testing.T) {
	const (
		id     = "6d68ca91-49c9-448d-89b8-7ca3e6dc66aa"
		all    = FieldRequestID | FieldDuration | FieldBilledDuration | FieldMemorySize | FieldMaxMemoryUsed
		jsonID = "79b5e81f-9cdd-4145-b1f6-7c50ef8a2a36"
	)
	tests := []struct {
		name     string
		tail, id string
		ok       bool
		want     Report
		cold     bool
		mbms     int64
	}{
		{name: "text warm", tail: textWarm, id: id, ok: true, mbms: 694 * 128,
			want: Report{RequestID: id, Duration: 693.92, BilledDuration: 694, MemorySizeMB: 128, MaxMemoryUsedMB: 84, Fields: all, Format: FormatText}},
		{name: "text cold", tail: textCold, ok: true, cold: true, mbms: 662 * 512,
			want: Report{RequestID: "bf5f58db-ef7d-4cb2-b3c6-266eba1bbedb", Duration: 395.99, BilledDuration: 662, MemorySizeMB: 512, MaxMemoryUsedMB: 301,
				InitDuration: 265.72, Fields: all | FieldInitDuration, Format: FormatText}},
		{name: "text timeout", tail: textTimeout, ok: true, cold: true, mbms: 3000 * 1024,
			want: Report{RequestID: "0c7a6f5e-2c1f-4f7e-9a55-1f0e7d3b9c11", Duration: 3000, BilledDuration: 3000, MemorySizeMB: 1024, MaxMemoryUsedMB: 1035,
				InitDuration: 476.75, Status: "timeout", Fields: all | FieldInitDuration | FieldStatus, Format: FormatText}},
		{name: "text runtime crash", tail: textCrash, ok: true, mbms: 13 * 128,
			want: Report{RequestID: "9a1b", Duration: 12.4, BilledDuration: 13, MemorySizeMB: 128, MaxMemoryUsedMB: 40,
				Status: "error", ErrorType: "Runtime.ExitError", Fields: all | FieldStatus | FieldErrorType, Format: FormatText}},
		{name: "text SnapStart restore", tail: textSnapStart, ok: true, mbms: (1015 + 213) * 512,
			want: Report{RequestID: "559e3a5b-0a7a-4a35-9c29-0d4d0a4d6e1a", Duration: 1014.63, BilledDuration: 1015, MemorySizeMB: 512, MaxMemoryUsedMB: 183,
				RestoreDuration: 474.16, BilledRestoreDuration: 213, Fields: all | FieldRestoreDuration | FieldBilledRestoreDuration, Format: FormatText}},
		{name: "INIT_REPORT is not a REPORT", tail: textFailedInit},
		{name: "no report", tail: "START RequestId: x Version: $LATEST\nhello\n"},
		{name: "empty", tail: ""},
		{name: "another request's report", tail: textWarm, id: "someone-else"},
		{name: "text cut at the start, in Duration", tail: textWarm[strings.Index(textWarm, "ation: 693"):], ok: true, mbms: 694 * 128,
			want: Report{BilledDuration: 694, MemorySizeMB: 128, MaxMemoryUsedMB: 84,
				Fields: FieldBilledDuration | FieldMemorySize | FieldMaxMemoryUsed, Format: FormatText, Partial: true}},
		{name: "text cut at the start, a whole-looking Duration dropped", tail: textCold[strings.Index(textCold, "Duration: 265.72"):]},
		{name: "text cut at the start, the words after a cut number", tail: textCrash[strings.Index(textCrash, "ed: 40 MB"):]},
		{name: "text cut at the end, in a number", tail: textWarm[:strings.Index(textWarm, "Memory Size: 128")+len("Memory Size: 12")], ok: true,
			want: Report{RequestID: id, Duration: 693.92, BilledDuration: 694, Fields: FieldRequestID | FieldDuration | FieldBilledDuration, Format: FormatText}},
		{name: "text cut at the end, in a word", tail: textTimeout[:len(textTimeout)-3], ok: true, cold: true, mbms: 3000 * 1024,
			want: Report{RequestID: "0c7a6f5e-2c1f-4f7e-9a55-1f0e7d3b9c11", Duration: 3000, BilledDuration: 3000, MemorySizeMB: 1024, MaxMemoryUsedMB: 1035,
				InitDuration: 476.75, Fields: all | FieldInitDuration, Format: FormatText}},
		{name: "json cold", tail: jsonCold, id: jsonID, ok: true, cold: true, mbms: 1698 * 256,
			want: Report{RequestID: jsonID, Duration: 1233.96, BilledDuration: 1698, MemorySizeMB: 256, MaxMemoryUsedMB: 123,
				InitDuration: 463.512, Status: "success", Fields: all | FieldInitDuration | FieldStatus, Format: FormatJSON}},
		{name: "json timeout", tail: jsonTimeout, ok: true, mbms: 3000 * 1024,
			want: Report{RequestID: "0c7a6f5e", Duration: 3000, BilledDuration: 3000, MemorySizeMB: 1024, MaxMemoryUsedMB: 220,
				Status: "timeout", Fields: all | FieldStatus, Format: FormatJSON}},
		{name: "json runtime crash", tail: jsonCrash, ok: true, mbms: 13 * 128,
			want: Report{RequestID: "9a1b", Duration: 12.4, BilledDuration: 13, MemorySizeMB: 128, MaxMemoryUsedMB: 40,
				Status: "error", ErrorType: "Runtime.ExitError", Fields: all | FieldStatus | FieldErrorType, Format: FormatJSON}},
		{name: "json cut in the metrics", tail: jsonCold[strings.Index(jsonCold, `ationMs":1233`):], ok: true, cold: true, mbms: 1698 * 256,
			want: Report{BilledDuration: 1698, MemorySizeMB: 256, MaxMemoryUsedMB: 123, InitDuration: 463.512, Status: "success",
				Fields: FieldBilledDuration | FieldMemorySize | FieldMaxMemoryUsed | FieldInitDuration | FieldStatus, Format: FormatJSON, Partial: true}},
		{name: "json cut before the metrics", tail: jsonCold[strings.Index(jsonCold, `ype":"platform.report"`):], id: jsonID, ok: true, cold: true, mbms: 1698 * 256,
			want: Report{RequestID: jsonID, Duration: 1233.96, BilledDuration: 1698, MemorySizeMB: 256, MaxMemoryUsedMB: 123,
				InitDuration: 463.512, Status: "success", Fields: all | FieldInitDuration | FieldStatus, Format: FormatJSON, Partial: true}},
		{name: "json cut at the end", tail: jsonCold[:strings.Index(jsonCold, `"maxMemoryUsedMB"`)]},
		{name: "the emulator's REPORT", tail: "START RequestId: bf7c Version: $LATEST\nEND RequestId: bf7c\n" +
			"REPORT RequestId: bf7c\tDuration: 250.83 ms\tBilled Duration: 251 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\t\n", ok: true, mbms: 251 * 128,
			want: Report{RequestID: "bf7c", Duration: 250.83, BilledDuration: 251, MemorySizeMB: 128, MaxMemoryUsedMB: 128, Fields: all, Format: FormatText}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Parse(tt.tail, tt.id)
			if ok != tt.ok {
				t.Fatalf("Parse ok = %v, want %v (report %+v)", ok, tt.ok, got)
			}
			if !ok {
				return
			}
			if got != tt.want {
				t.Errorf("Parse =\n%+v\nwant\n%+v", got, tt.want)
			}
			if got.ColdStart() != tt.cold {
				t.Errorf("ColdStart = %v, want %v", got.ColdStart(), tt.cold)
			}
			if m := got.MBMilliseconds(); m != tt.mbms {
				t.Errorf("MBMilliseconds = %d, want %d", m, tt.mbms)
			}
		})
	}
}

// TestParse_neverGuesses cuts each sample tail at every byte, at the start
// (as the 4 KB limit does) and at the end, and checks that what Parse reads
// from the cut tail is a part of the whole report, with the same values:
// a cut loses fields, it never changes one.
func TestParse_neverGuesses(t *testing.T) {
	for _, tail := range []string{textWarm, textCold, textTimeout, textCrash, textSnapStart, jsonCold, jsonTimeout, jsonCrash} {
		whole, ok := Parse(tail, "")
		if !ok {
			t.Fatalf("no report in %q", tail)
		}
		for i := range len(tail) {
			for _, cut := range []string{tail[i:], tail[:i]} {
				got, ok := Parse(cut, "")
				if !ok {
					continue
				}
				if got.Fields&^whole.Fields != 0 {
					t.Fatalf("Parse(%q) has fields %b the whole report has not (%b)", cut, got.Fields, whole.Fields)
				}
				if d := sameValues(got, whole); d != "" {
					t.Fatalf("Parse(%q): %s differs from the whole report's", cut, d)
				}
			}
		}
	}
}

// sameValues names the first field of got whose value differs from
// whole's.
func sameValues(got, whole Report) string {
	checks := []struct {
		f    Field
		name string
		eq   bool
	}{
		{FieldRequestID, "RequestID", got.RequestID == whole.RequestID},
		{FieldDuration, "Duration", got.Duration == whole.Duration},
		{FieldBilledDuration, "BilledDuration", got.BilledDuration == whole.BilledDuration},
		{FieldMemorySize, "MemorySizeMB", got.MemorySizeMB == whole.MemorySizeMB},
		{FieldMaxMemoryUsed, "MaxMemoryUsedMB", got.MaxMemoryUsedMB == whole.MaxMemoryUsedMB},
		{FieldInitDuration, "InitDuration", got.InitDuration == whole.InitDuration},
		{FieldRestoreDuration, "RestoreDuration", got.RestoreDuration == whole.RestoreDuration},
		{FieldBilledRestoreDuration, "BilledRestoreDuration", got.BilledRestoreDuration == whole.BilledRestoreDuration},
		{FieldStatus, "Status", got.Status == whole.Status},
		{FieldErrorType, "ErrorType", got.ErrorType == whole.ErrorType},
	}
	for _, c := range checks {
		if got.Has(c.f) && !c.eq {
			return c.name
		}
	}
	return ""
}
