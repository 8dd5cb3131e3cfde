package emulator

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// TestAppendReport checks the REPORT line against the fmt format it
// replaced, and Lambda's layout.
func TestAppendReport(t *testing.T) {
	for _, tc := range []struct {
		d   time.Duration
		mem int
		out Output
	}{
		{1234567 * time.Nanosecond, 128, Output{}},
		{0, 256, Output{MaxMemoryUsedMB: 31}},
		{2 * time.Second, 10240, Output{InitDuration: 4567890 * time.Nanosecond, MaxMemoryUsedMB: 77}},
		{999999, 128, Output{InitDuration: time.Nanosecond}},
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
		want += "\n"
		if got := string(appendReport(nil, "id", tc.d, tc.mem, tc.out)); got != want {
			t.Errorf("got  %q\nwant %q", got, want)
		}
	}
}
