package sfnrun_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/internal/sfnrun"
)

func TestNewItem(t *testing.T) {
	tests := []struct {
		name      string
		id        string
		numericID bool
		r         lambdafan.Resolved
		want      string
	}{
		{"defaults", "", false,
			lambdafan.Resolved{FunctionName: "f", InvocationType: lambdafan.RequestResponse},
			`{"key":{"line":3,"function_name":"f","invocation_type":"RequestResponse"},"invoke":{"FunctionName":"f","Payload":{},"InvocationType":"RequestResponse","LogType":"None"}}`},
		{"qualifier folded into the name, payload kept as written", "a<b", false,
			lambdafan.Resolved{FunctionName: "arn:aws:lambda:us-east-1:123456789012:function:f", Qualifier: "live", InvocationType: lambdafan.Event,
				LogType: lambdafan.LogTail, Payload: []byte(`{"html":"<b>"}`), ClientContext: "e30="},
			`{"key":{"line":3,"id":"a<b","function_name":"arn:aws:lambda:us-east-1:123456789012:function:f","invocation_type":"Event"},"invoke":{"FunctionName":"arn:aws:lambda:us-east-1:123456789012:function:f:live","Payload":{"html":"<b>"},"InvocationType":"Event","LogType":"Tail","ClientContext":"e30="}}`},
		{"numeric id stays a number", "-1.5e3", true,
			lambdafan.Resolved{FunctionName: "f", InvocationType: lambdafan.DryRun, Payload: []byte(`[1,2]`)},
			`{"key":{"line":3,"id":-1.5e3,"function_name":"f","invocation_type":"DryRun"},"invoke":{"FunctionName":"f","Payload":[1,2],"InvocationType":"DryRun","LogType":"None"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sfnrun.NewItem(3, tt.id, tt.numericID, tt.r)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("item\n got %s\nwant %s", got, tt.want)
			}
			var it sfnrun.Item
			if err := json.Unmarshal(got, &it); err != nil || it.Key.Line != 3 {
				t.Errorf("item does not decode: %v", err)
			}
		})
	}
}

func TestNewItem_Refused(t *testing.T) {
	for name, r := range map[string]lambdafan.Resolved{
		"payload not JSON": {FunctionName: "f", InvocationType: lambdafan.RequestResponse, Payload: []byte("not json")},
		"too large":        {FunctionName: "f", InvocationType: lambdafan.RequestResponse, Payload: []byte(`"` + strings.Repeat("x", sfnrun.MaxPayloadBytes) + `"`)},
	} {
		_, err := sfnrun.NewItem(1, "", false, r)
		var re *lambdafan.RequestError
		if !errors.As(err, &re) || re.Field != "payload" {
			t.Errorf("%s: error %v, want a RequestError for payload", name, err)
		}
	}
}
