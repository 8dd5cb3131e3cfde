package jsonl

import (
	"encoding/json"
	"strings"
	"testing"
)

var jsonSeeds = []string{
	`{}`, `[]`, `""`, `0`, `-0.5e+10`, `1E3`, `true`, `false`, `null`, ` {"a" : [1, 2.5, "x\"y\\u00e9"], "b": {"c": null}} `,
	"{\n\"a\":\r\n1}", `{"a":1,}`, `[1,]`, `01`, `1.`, `.5`, `-`, `"\x"`, `"\u12g4"`, "\"\x01\"", `"abc`, `{"a"}`, `{"a":}`,
	`[1 2]`, `tru`, `nulls`, `{"a":1}{}`, "\"\xff\"", `1e`, `--1`, strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
}

func TestValidJSON(t *testing.T) {
	for _, s := range jsonSeeds {
		if got, want := validJSON([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("validJSON(%.40q) = %v, json.Valid says %v", s, got, want)
		}
	}
}

// FuzzValidJSON checks that the fast scanner accepts exactly what
// encoding/json accepts.
func FuzzValidJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := validJSON(data), json.Valid(data); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid says %v", data, got, want)
		}
	})
}

// TestSkipString_everyOffset puts each byte that ends or escapes plain
// string content at every position of a long string, so that the
// eight-bytes-at-a-time scan meets it in every lane and at every tail.
func TestSkipString_everyOffset(t *testing.T) {
	specials := []string{`"`, `\\`, `\"`, `\"\"`, `\\"`, `\\\"`, `\u00e9`, `\u00e`, `\n\"\t`, "\x00", "\x1f", "\n", `\x`, "\x7f", "\x80", "\xff", " ", "!", "#", "[", "]"}
	for n := 0; n <= 20; n++ {
		for at := 0; at <= n; at++ {
			for _, sp := range specials {
				s := `"` + strings.Repeat("a", at) + sp + strings.Repeat("b", n-at) + `"`
				if got, want := validJSON([]byte(s)), json.Valid([]byte(s)); got != want {
					t.Errorf("validJSON(%q) = %v, json.Valid says %v", s, got, want)
				}
			}
		}
	}
}
