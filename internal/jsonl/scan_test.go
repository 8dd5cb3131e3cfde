package jsonl

import (
	"bytes"
	"encoding/json"
	"reflect"
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

// FuzzFastDecodeLine checks that whenever the fast line decoder accepts a
// line, json.Decoder (the general path) decodes it identically.
func FuzzFastDecodeLine(f *testing.F) {
	for _, s := range []string{
		benchLine,
		`{"function_name":"f","payload":{"a":[1,2]},"invocation_type":"Event","region":"eu-west-1","qualifier":"live","log_type":"Tail","client_context":{"x":1},"id":12}`,
		`{"function_name":"f","function_name":"g"}`, `{"Function_Name":"f"}`, `{"function_name":null}`, `{"function_name":"f\u00e9"}`,
		`{"function_name":"f","payload":null,"id":"a\"b"}`, `{ "payload" : "x" , "function_name" : "f" }`, `{}`, `{"fn":1}`,
		`{"function_name":"f"} x`, "{\"function_name\":\"\xff\"}", `{"function_name":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		data = bytes.TrimSpace(data)
		fast, ok := fastDecodeLine(data)
		if !ok {
			return
		}
		var slow inputLine
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&slow); err != nil || dec.More() {
			t.Fatalf("fast path accepted %q, json.Decoder: %v (more: %v)", data, err, dec.More())
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: fast path %+v, json.Decoder %+v", data, fast, slow)
		}
	})
}
