package emulator

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// TestAppendReport checks the REPORT line against the fmt format it
// replaced, and Lambda's layout: the Status fields last, without a
// trailing tab.
func TestAppendReport(t *testing.T) {
	for _, tc := range []struct {
		d         time.Duration
		mem       int
		out       Output
		timedOut  bool
		errorType string
		status    string
	}{
		{d: 1234567 * time.Nanosecond, mem: 128},
		{d: 0, mem: 256, out: Output{MaxMemoryUsedMB: 31}},
		{d: 2 * time.Second, mem: 10240, out: Output{InitDuration: 4567890 * time.Nanosecond, MaxMemoryUsedMB: 77}},
		{d: 999999, mem: 128, out: Output{InitDuration: time.Nanosecond}},
		{d: 3 * time.Second, mem: 128, out: Output{MaxMemoryUsedMB: 64}, timedOut: true, status: "Status: timeout"},
		{d: 133610 * time.Microsecond, mem: 128, out: Output{InitDuration: 80 * time.Millisecond, MaxMemoryUsedMB: 31},
			errorType: "Runtime.ExitError", status: "Status: error\tError Type: Runtime.ExitError"},
	} {
		ms := float64(tc.d) / float64(time.Millisecond)
		used := tc.out.MaxMemoryUsedMB
		if used <= 0 {
			used = tc.mem
		}
		want := fmt.Sprintf("REPORT RequestId: id\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB\t",
			ms, int64(math.Ceil(ms)), tc.mem, used)
		if tc.out.InitDuration > 0 {
			want += fmt.Sprintf("Init Duration: %.2f ms\t", float64(tc.out.InitDuration)/float64(time.Millisecond))
		}
		want += tc.status + "\n"
		if got := string(appendReport(nil, "id", tc.d, tc.mem, tc.out, tc.timedOut, tc.errorType)); got != want {
			t.Errorf("got  %q\nwant %q", got, want)
		}
	}
}
