package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestMain lets the test binary act as the server and client children that
// the harness starts by re-executing itself.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestSmoke runs every scenario and client with tiny N on loopback, so
// that the harness keeps working: every invocation must succeed and the
// table must name every scenario.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the lambdafan binary and runs child processes")
	}
	var stdout, stderr bytes.Buffer
	out := t.TempDir() + "/table.md"
	if code := run([]string{"-smoke", "-o", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("bench -smoke exited %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	for _, s := range scenarios() {
		if !strings.Contains(stdout.String(), "| "+s.name+" | ") {
			t.Errorf("table has no row for %s:\n%s", s.name, stdout.String())
		}
	}
	written, err := os.ReadFile(out)
	if err != nil || !bytes.Equal(written, stdout.Bytes()) {
		t.Errorf("-o wrote %q (%v), want the table printed", written, err)
	}
}

func TestMakePayload(t *testing.T) {
	for _, size := range []int{12, 100, 256 << 10} {
		p := makePayload(size)
		if len(p) != size || !json.Valid(p) {
			t.Errorf("makePayload(%d): %d bytes, valid JSON %v", size, len(p), json.Valid(p))
		}
	}
}

func TestSelectScenarios(t *testing.T) {
	got, err := selectScenarios("cpu,memory-1m", "raw,cli", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range got {
		names = append(names, s.name+":"+strings.Join(s.variants, "+"))
	}
	want := "cpu-http:cli+raw cpu-tls-h2:cli+raw cpu-tls-h1:cli+raw memory-1m:cli"
	if strings.Join(names, " ") != want {
		t.Errorf("selected %v, want %s", names, want)
	}
	if _, err := selectScenarios("nope", "", 0, false); err == nil {
		t.Error("no error for an unknown scenario")
	}
}
