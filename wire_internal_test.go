package lambdafan

import (
	"testing"

	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// The exported enum values spell their literals out for godoc's readers;
// they must be the wire's.
func TestEnumValuesAreTheWire(t *testing.T) {
	for got, want := range map[string]string{
		string(RequestResponse): lambdaapi.InvocationRequestResponse,
		string(Event):           lambdaapi.InvocationEvent,
		string(DryRun):          lambdaapi.InvocationDryRun,
		string(LogNone):         lambdaapi.LogTypeNone,
		string(LogTail):         lambdaapi.LogTypeTail,
	} {
		if got != want {
			t.Errorf("%q, want %q", got, want)
		}
	}
}
