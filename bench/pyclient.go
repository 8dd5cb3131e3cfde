package main

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// pythonVariant is the original approach that motivated lambdafan: an
// asyncio loop of aiohttp POSTs signed with botocore's SigV4Auth (see
// aiohttp_client.py). It runs when a Python 3 that can import aiohttp and
// botocore is found, and is skipped, saying why, otherwise.
const pythonVariant = "python-aiohttp"

// pythonEnv names an interpreter to try before python3 on PATH and
// /usr/bin/python3.
const pythonEnv = "LAMBDAFAN_BENCH_PYTHON"

//go:embed aiohttp_client.py
var aiohttpClient []byte

// findPython returns a Python interpreter that imports aiohttp and
// botocore, or an error saying why there is none.
func findPython() (string, error) {
	var candidates []string
	if p := os.Getenv(pythonEnv); p != "" {
		candidates = append(candidates, p)
	}
	candidates = append(candidates, "python3", "/usr/bin/python3")
	var tried, reasons []string
	for _, c := range candidates {
		path, err := exec.LookPath(c)
		if err != nil {
			reasons = append(reasons, fmt.Sprintf("%s: not found", c))
			continue
		}
		if real, err := filepath.EvalSymlinks(path); err == nil && slices.Contains(tried, real) {
			continue
		} else if err == nil {
			tried = append(tried, real)
		}
		out, err := exec.Command(path, "-c", "import aiohttp, botocore").CombinedOutput()
		if err == nil {
			return path, nil
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		reasons = append(reasons, fmt.Sprintf("%s: %s", path, lines[len(lines)-1]))
	}
	return "", fmt.Errorf("no Python 3 that imports aiohttp and botocore (%s); on Debian: apt-get install python3-aiohttp python3-botocore, or set %s",
		strings.Join(reasons, "; "), pythonEnv)
}

// runPython runs the aiohttp client against url and measures it as a
// client child: CPU and peak RSS from its rusage (interpreter start-up and
// imports included), wall time from the script, allocations unknown.
func (r *runner) runPython(s scenario, url string) (measurement, error) {
	script := filepath.Join(r.dir, "aiohttp_client.py")
	if _, err := os.Stat(script); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(script, aiohttpClient, 0o644); err != nil {
			return measurement{}, err
		}
	}
	cmd := exec.Command(r.python, script, url, strconv.Itoa(s.n), strconv.Itoa(s.c), strconv.Itoa(s.payload))
	cmd.Env = r.clientEnv(s)
	cmd.Stderr = r.log
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Run(); err != nil {
		return measurement{}, fmt.Errorf("client %s: %w", pythonVariant, err)
	}
	var res childResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return measurement{}, fmt.Errorf("client %s: bad report %q: %w", pythonVariant, stdout.Bytes(), err)
	}
	m := fromRusage(cmd.ProcessState)
	m.wall, m.allocs, m.allocBytes, m.failed = res.Wall, -1, -1, res.Failed
	return m, nil
}
