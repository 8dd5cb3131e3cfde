package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/internal/store"
)

// motoRig is Step Functions and S3 on loopback: moto_server, started
// through testdata/moto_shim.py (which completes moto's ResultWriter and
// JSONL item reader), whose lambda:invoke tasks reach a lambdafan emulator
// through a proxy. moto sends its tasks' Lambda calls, and its ItemReader's
// and ResultWriter's S3 calls, to localhost:$MOTO_PORT; the rig sets
// MOTO_PORT to the proxy, which passes Invoke calls to the emulator and
// everything else back to moto.
type motoRig struct {
	url string // moto's endpoint, for Step Functions and S3
	emu *emulator.Server
	log string // moto's log file
}

// motoCredentials are what the rig's clients sign with: moto accepts any,
// and signs its own Lambda calls with "ak"/"sk", which the emulator, with
// NoAuth, does not check.
const motoAccessKey, motoSecretKey = "AKIDMOTO", "motosecret"

// startMoto starts the rig, or skips the test when moto cannot run here.
func startMoto(t *testing.T, cfg emulator.Config) *motoRig {
	t.Helper()
	if _, err := exec.LookPath("moto_server"); err != nil {
		t.Skip("moto_server is not installed (pip install 'moto[server]==5.2.1'): the Step Functions end-to-end tests need it")
	}
	python := findMotoPython(t)
	cfg.NoAuth = true
	emu, err := emulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lambdaSrv := httptest.NewServer(emu)
	t.Cleanup(func() { emu.Close(); lambdaSrv.Close() })

	motoPort := freePort(t)
	motoURL := fmt.Sprintf("http://127.0.0.1:%d", motoPort)
	toMoto := httputil.NewSingleHostReverseProxy(mustURL(t, motoURL))
	toLambda := httputil.NewSingleHostReverseProxy(mustURL(t, lambdaSrv.URL))
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/2015-03-31/functions/") {
			toLambda.ServeHTTP(w, r)
			return
		}
		toMoto.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	_, proxyPort, _ := net.SplitHostPort(proxy.Listener.Addr().String())

	logPath := filepath.Join(t.TempDir(), "moto.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, filepath.Join("testdata", "moto_shim.py"), "-H", "127.0.0.1", "-p", fmt.Sprint(motoPort))
	cmd.Env = append(os.Environ(), "MOTO_PORT="+proxyPort, "SHIM_RESULTS_PER_FILE=400")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		logFile.Close()
		if t.Failed() {
			t.Logf("moto log (last 3000 bytes):\n%s", tail(logPath, 3000))
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Post(motoURL+"/moto-api/config", "application/json", strings.NewReader(`{"stepfunctions": {"execute_state_machine": true}}`))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusCreated {
				break
			}
		}
		select {
		case err := <-exited:
			if log := tail(logPath, 2000); strings.Contains(log, "moto shim:") {
				t.Skipf("moto cannot run the Step Functions tests: %s", log)
			}
			t.Fatalf("moto exited: %v\n%s", err, tail(logPath, 2000))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto did not start in 30 s:\n%s", tail(logPath, 2000))
		}
	}
	return &motoRig{url: motoURL, emu: emu, log: logPath}
}

// findMotoPython returns a Python that imports moto, or skips.
func findMotoPython(t *testing.T) string {
	t.Helper()
	candidates := []string{"python3", "python"}
	if p := os.Getenv("LAMBDAFAN_TEST_PYTHON"); p != "" {
		candidates = []string{p}
	}
	for _, c := range candidates {
		if out, err := exec.Command(c, "-c", "import moto.server, moto.stepfunctions.parser; print(moto.__version__)").Output(); err == nil {
			t.Logf("moto %s (%s)", strings.TrimSpace(string(out)), c)
			return c
		}
	}
	t.Skip("no Python here imports moto with its server and Step Functions parser (set LAMBDAFAN_TEST_PYTHON to one that does)")
	return ""
}

// env returns the environment that points the real binary at the rig,
// in region.
func (m *motoRig) env(t *testing.T, region string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"AWS_ACCESS_KEY_ID=" + motoAccessKey, "AWS_SECRET_ACCESS_KEY=" + motoSecretKey, "AWS_REGION=" + region,
		"AWS_ENDPOINT_URL_SFN=" + m.url, "AWS_ENDPOINT_URL_S3=" + m.url,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(t.TempDir(), "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(t.TempDir(), "none"),
	}
}

// bucket creates a bucket in region and returns a store that reaches it.
func (m *motoRig) bucket(t *testing.T, region, name string) store.Store {
	t.Helper()
	cfg := aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(motoAccessKey, motoSecretKey, ""),
		BaseEndpoint: aws.String(m.url),
	}
	c := store.NewS3Client(cfg)
	in := &s3.CreateBucketInput{Bucket: aws.String(name)}
	if region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
	}
	if _, err := c.CreateBucket(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	return store.Store{S3: c}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// tail returns the last n bytes of the file at path.
func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(bytes.ToValidUTF8(b, nil))
}
