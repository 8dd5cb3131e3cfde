package cli

import (
	"io"
	"slices"
	"testing"
)

func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		args, rest []string
		out        string
	}{
		{[]string{"a.jsonl", "-o", "r.html"}, []string{"a.jsonl"}, "r.html"},
		{[]string{"-o", "r.html", "a.jsonl", "b.jsonl"}, []string{"a.jsonl", "b.jsonl"}, "r.html"},
		{[]string{"a.jsonl", "-o", "r.html", "b.jsonl"}, []string{"a.jsonl", "b.jsonl"}, "r.html"},
		{[]string{"-o", "r.html", "--", "-o", "x"}, []string{"-o", "x"}, "r.html"},
		{[]string{"a.jsonl", "--", "-o"}, []string{"a.jsonl", "-o"}, ""},
	}
	for _, tt := range tests {
		fs := newFlagSet("report", "", io.Discard)
		out := fs.String("o", "", "")
		rest, err := parseInterspersed(fs, tt.args)
		if err != nil || !slices.Equal(rest, tt.rest) || *out != tt.out {
			t.Errorf("parseInterspersed(%q) = %q, -o %q, %v; want %q, -o %q", tt.args, rest, *out, err, tt.rest, tt.out)
		}
	}
}
