package lambdafan_test

import (
	"encoding/base64"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/lambdafan/lambdafan"
)

func TestClient_Resolve(t *testing.T) {
	c, err := lambdafan.New(lambdafan.Config{
		AWS: aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("defaults", func(t *testing.T) {
		got, err := c.Resolve(t.Context(), lambdafan.Request{FunctionName: "f", Payload: map[string]int{"a": 1}})
		if err != nil {
			t.Fatal(err)
		}
		want := lambdafan.Resolved{Region: "eu-west-1", FunctionName: "f", InvocationType: lambdafan.RequestResponse, Payload: []byte(`{"a":1}`)}
		if got.Region != want.Region || got.FunctionName != want.FunctionName || got.Qualifier != "" ||
			got.InvocationType != want.InvocationType || got.LogType != "" || string(got.Payload) != string(want.Payload) || got.ClientContext != "" {
			t.Errorf("Resolve = %+v, want %+v", got, want)
		}
	})
	t.Run("everything set", func(t *testing.T) {
		got, err := c.Resolve(t.Context(), lambdafan.Request{
			FunctionName: "arn:aws:lambda:ap-south-1:123456789012:function:f", Qualifier: "live",
			InvocationType: lambdafan.Event, LogType: lambdafan.LogTail, ClientContext: []byte(`{"custom":{"a":1}}`),
		})
		if err != nil {
			t.Fatal(err)
		}
		cc, _ := base64.StdEncoding.DecodeString(got.ClientContext)
		if got.Region != "ap-south-1" || got.Qualifier != "live" || got.InvocationType != lambdafan.Event ||
			got.LogType != lambdafan.LogTail || string(cc) != `{"custom":{"a":1}}` || got.Payload != nil {
			t.Errorf("Resolve = %+v (client context %s)", got, cc)
		}
	})
	t.Run("qualifier already in the name", func(t *testing.T) {
		got, err := c.Resolve(t.Context(), lambdafan.Request{FunctionName: "f:live", Qualifier: "live"})
		if err != nil || got.Qualifier != "" {
			t.Errorf("Resolve = %+v, %v; want no separate qualifier", got, err)
		}
	})
	t.Run("refused as an invocation would be", func(t *testing.T) {
		_, err := c.Resolve(t.Context(), lambdafan.Request{FunctionName: "f:live", Qualifier: "beta"})
		var re *lambdafan.RequestError
		if !errors.As(err, &re) || re.Field != "qualifier" {
			t.Errorf("Resolve error = %v, want a RequestError for qualifier", err)
		}
	})
}
