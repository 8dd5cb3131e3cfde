package jsonl

import (
	"errors"
	"strings"
	"testing"

	"github.com/lambdafan/lambdafan"
)

// A bad line's Result needs no special case: the library classifies it.
func TestLineError_IsARequestError(t *testing.T) {
	cause := errors.New("must be a string")
	for _, tt := range []struct {
		name string
		le   *LineError
	}{
		{"field", &LineError{Line: 3, Field: "function_name", Err: cause}},
		{"whole line", &LineError{Line: 4, Err: cause}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := lambdafan.Result{Index: -1, Err: tt.le}
			if o := r.Outcome(); o != lambdafan.OutcomeInvalid {
				t.Errorf("Outcome() = %v, want invalid", o)
			}
			var re *lambdafan.RequestError
			if !errors.As(r.Err, &re) || re.Field != tt.le.Field {
				t.Errorf("errors.As RequestError = %v (%+v), want field %q", re != nil, re, tt.le.Field)
			}
			if !errors.Is(r.Err, cause) {
				t.Error("the cause is not reachable with errors.Is")
			}
			var le *LineError
			if !errors.As(r.Err, &le) || le != tt.le {
				t.Error("the LineError itself is not reachable with errors.As")
			}
		})
	}
}

// Decoding a bad line yields an Item whose error the library calls
// invalid.
func TestDecode_BadLineOutcome(t *testing.T) {
	items, readErr := Decode(strings.NewReader(`{"function_name": 1}`+"\n"), Options{})
	n := 0
	for it := range items {
		n++
		r := lambdafan.Result{Index: -1, Err: it.Err}
		if it.Err == nil || r.Outcome() != lambdafan.OutcomeInvalid {
			t.Errorf("item error %v, outcome %v; want an invalid line", it.Err, r.Outcome())
		}
	}
	if err := readErr(); err != nil || n != 1 {
		t.Fatalf("%d items, error %v; want 1 item", n, err)
	}
}
