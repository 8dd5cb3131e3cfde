package execenv

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRuntimeEnv(t *testing.T) {
	env := runtimeEnv(Config{
		Function:        "fn",
		Command:         []string{"/opt/fn/bootstrap", "--flag"},
		MemorySize:      256,
		Environment:     map[string]string{"ZED": "z", "AWS_REGION": "eu-west-1", "AWS_LAMBDA_RUNTIME_API": "x", "_LAMBDA_SERVER_PORT": "1", "AWS_LAMBDA_MAX_CONCURRENCY": "9", "ALPHA": "a"},
		MaxConcurrency:  4,
		Region:          "us-east-1",
		AccessKeyID:     "AKID",
		SecretAccessKey: "SECRET",
	}, filepath.FromSlash("/opt/fn"))
	got := map[string][]string{}
	var names []string
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		got[k] = append(got[k], v)
		names = append(names, k)
	}
	for k, v := range map[string]string{
		"_HANDLER":                        "bootstrap",
		"AWS_LAMBDA_FUNCTION_NAME":        "fn",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/fn",
		"AWS_DEFAULT_REGION":              "us-east-1",
		"LAMBDA_TASK_ROOT":                filepath.FromSlash("/opt/fn"),
		"LAMBDA_RUNTIME_DIR":              filepath.FromSlash("/opt/fn"),
		"PATH":                            os.Getenv("PATH"),
		"AWS_ACCESS_KEY_ID":               "AKID",
		"AWS_SECRET_ACCESS_KEY":           "SECRET",
		"AWS_LAMBDA_MAX_CONCURRENCY":      "4",
		"ALPHA":                           "a",
		"ZED":                             "z",
	} {
		if len(got[k]) != 1 || got[k][0] != v {
			t.Errorf("$%s = %q, want %q once", k, got[k], v)
		}
	}
	// The function's variables come last, sorted, so that they override
	// Lambda's (AWS_REGION) but never the reserved ones.
	if !slices.Equal(got["AWS_REGION"], []string{"us-east-1", "eu-west-1"}) {
		t.Errorf("$AWS_REGION = %q, want Lambda's then the function's", got["AWS_REGION"])
	}
	if tail := names[len(names)-3:]; !slices.Equal(tail, []string{"ALPHA", "AWS_REGION", "ZED"}) {
		t.Errorf("the environment ends with %q, want the function's variables sorted", tail)
	}
	for _, k := range []string{"AWS_LAMBDA_RUNTIME_API", "_LAMBDA_SERVER_PORT"} {
		if v, ok := got[k]; ok {
			t.Errorf("$%s = %q; the function may not set it", k, v)
		}
	}
	// Each environment names its own log stream.
	if s, ok := got["AWS_LAMBDA_LOG_STREAM_NAME"]; ok {
		t.Errorf("$AWS_LAMBDA_LOG_STREAM_NAME = %q, want it per environment", s)
	}
	// A handler setting names _HANDLER.
	for _, kv := range runtimeEnv(Config{Function: "fn", Command: []string{"node", "index.mjs"}, Handler: "index.handler"}, "/code") {
		if strings.HasPrefix(kv, "_HANDLER=") && kv != "_HANDLER=index.handler" {
			t.Errorf("%s, want _HANDLER=index.handler", kv)
		}
	}

	// One invocation at a time: no AWS_LAMBDA_MAX_CONCURRENCY.
	for _, kv := range runtimeEnv(Config{Function: "fn", Command: []string{"bootstrap"}, MaxConcurrency: 1}, "/code") {
		if strings.HasPrefix(kv, "AWS_LAMBDA_MAX_CONCURRENCY=") {
			t.Errorf("%s with MaxConcurrency 1", kv)
		}
	}
}

// TestLogStreamName checks the stream name is dated in UTC, like Lambda's.
func TestLogStreamName(t *testing.T) {
	s := logStreamName(time.Date(2026, 3, 4, 23, 30, 0, 0, time.FixedZone("", -2*3600)))
	if !strings.HasPrefix(s, "2026/03/05/[$LATEST]") || len(s) != len("2026/03/05/[$LATEST]")+32 {
		t.Errorf("log stream name %q, want 2026/03/05/[$LATEST] and 32 hex digits", s)
	}
	if s == logStreamName(time.Date(2026, 3, 4, 23, 30, 0, 0, time.UTC)) {
		t.Errorf("two environments share the log stream %q", s)
	}
}
