package runreport

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// syntheticRun produces the result lines of a made-up run of n requests,
// the same for the same n and seed: about 2,000 results a second against
// three functions in two regions, warm and cold starts with text and JSON
// REPORTs, a throttling episode a third of the way in (throttled attempts,
// retries, slower latency), function errors, other errors, unknowns, bad
// input lines without times, and Event invocations without a log. Each
// line is passed to yield, which must not keep it.
func syntheticRun(n int, seed uint64, yield func(line []byte)) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	t0 := time.Date(2026, 11, 30, 5, 0, 0, 0, time.UTC)
	functions := [...]struct{ name, region string }{
		{"resize-image", "us-east-1"}, {"resize-image", "eu-west-1"}, {"score", "us-east-1"},
		{"score", "eu-west-1"}, {"arn:aws:lambda:us-west-2:123456789012:function:ingest", "us-west-2"}, {"ingest", "us-east-1"},
	}
	const rate = 2000.0 // results per second
	var b []byte
	for i := range n {
		line := i + 1
		f := functions[rng.IntN(len(functions))]
		start := t0.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		phase := float64(i) / float64(max(n, 1))
		throttling := phase > 0.33 && phase < 0.40
		median := 80.0
		if throttling {
			median = 140
		}
		latency := median * math.Exp(0.5*rng.NormFloat64())
		cold := i < 300 || rng.Float64() < 0.005
		if cold {
			latency += 150 + 200*rng.Float64()
		}
		attempts, throttles := 1, 0
		if throttling && rng.Float64() < 0.6 {
			throttles = 1 + rng.IntN(3)
			attempts += throttles
			latency += float64(throttles) * 120
		}
		b = append(b[:0], `{"line":`...)
		b = strconv.AppendInt(b, int64(line), 10)
		b = append(b, `,"id":"req-`...)
		b = strconv.AppendInt(b, int64(line), 10)
		b = append(b, `","function_name":"`...)
		b = append(b, f.name...)
		b = append(b, `","region":"`...)
		b = append(b, f.region...)
		reqID := fmt.Sprintf("%08x-7c1f-4f7e-9a55-%012x", rng.Uint32(), line)
		u := rng.Float64()
		switch {
		case u < 0.001: // a bad input line: no times
			b = append(b[:0], `{"line":`...)
			b = strconv.AppendInt(b, int64(line), 10)
			b = append(b, `,"outcome":"invalid","attempts":0,"error":{"kind":"invalid","field":"payload","message":"line `...)
			b = strconv.AppendInt(b, int64(line), 10)
			b = append(b, `: payload: invalid JSON"}}`...)
			yield(append(b, '\n'))
			continue
		case u < 0.05: // asynchronous
			b = append(b, `","invocation_type":"Event","status":202,"outcome":"ok"`...)
			latency = 15 * math.Exp(0.3*rng.NormFloat64())
		case throttling && throttles == 3 && rng.Float64() < 0.5:
			b = append(b, `","invocation_type":"RequestResponse","status":429,"outcome":"throttled"`...)
		case u < 0.052:
			b = append(b, `","invocation_type":"RequestResponse","status":500,"outcome":"error"`...)
		case u < 0.053:
			b = append(b, `","invocation_type":"RequestResponse","outcome":"unknown"`...)
			latency = 30000
		case u < 0.068:
			b = append(b, `","invocation_type":"RequestResponse","status":200,"outcome":"function_error","payload":{"errorMessage":"no such key","errorType":"KeyError"},"function_error":"Unhandled"`...)
			b = appendLog(b, reqID, latency, cold, f.region == "eu-west-1")
		default:
			b = append(b, `","invocation_type":"RequestResponse","status":200,"outcome":"ok","payload":{"n":`...)
			b = strconv.AppendInt(b, int64(line), 10)
			b = append(b, `,"thumb":"s3://bucket/out/`...)
			b = strconv.AppendInt(b, int64(line), 10)
			b = append(b, `.jpg"}`...)
			b = appendLog(b, reqID, latency, cold, f.region == "eu-west-1")
			b = append(b, `,"executed_version":"$LATEST"`...)
		}
		b = append(b, `,"request_id":"`...)
		b = append(b, reqID...)
		b = append(b, `","attempts":`...)
		b = strconv.AppendInt(b, int64(attempts), 10)
		if throttles > 0 {
			b = append(b, `,"throttles":`...)
			b = strconv.AppendInt(b, int64(throttles), 10)
		}
		lat := time.Duration(latency * float64(time.Millisecond)).Truncate(time.Microsecond)
		b = append(b, `,"latency_ms":`...)
		b = strconv.AppendFloat(b, float64(lat.Microseconds())/1000, 'f', -1, 64)
		b = append(b, `,"started_at":"`...)
		b = start.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
		b = append(b, `","ended_at":"`...)
		b = start.Add(lat).AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
		b = append(b, '"')
		switch {
		case u < 0.052 && u >= 0.05:
			b = append(b, `,"error":{"kind":"invoke","type":"ServiceException","status":500,"message":"invoke: HTTP 500 ServiceException: internal error"}`...)
		case u < 0.053 && u >= 0.052:
			b = append(b, `,"error":{"kind":"transport","sent":true,"message":"invoke: read: connection reset by peer"}`...)
		case u < 0.068 && u >= 0.053:
			b = append(b, `,"error":{"kind":"function","type":"KeyError","message":"function error (Unhandled): KeyError: no such key"}`...)
		}
		if bytes.Contains(b, []byte(`"outcome":"throttled"`)) {
			b = append(b, `,"error":{"kind":"invoke","type":"TooManyRequestsException","status":429,"reason":"ConcurrentInvocationLimitExceeded","message":"invoke: HTTP 429 TooManyRequestsException: Rate Exceeded."}`...)
		}
		yield(append(b, '}', '\n'))
	}
}

// appendLog appends the "log" field: a text REPORT, or a JSON
// platform.report record when jsonFormat.
func appendLog(b []byte, reqID string, latency float64, cold, jsonFormat bool) []byte {
	d := math.Max(1, latency-3)
	billed := math.Ceil(d)
	var log string
	switch {
	case jsonFormat && cold:
		init := latency * 0.6
		log = fmt.Sprintf(`{"time":"2026-11-30T05:00:00.000Z","type":"platform.report","record":{"requestId":"%s","metrics":{"durationMs":%.3f,"billedDurationMs":%.0f,"memorySizeMB":512,"maxMemoryUsedMB":140,"initDurationMs":%.3f},"status":"success"}}`+"\n",
			reqID, d-init, billed, init)
	case jsonFormat:
		log = fmt.Sprintf(`{"time":"2026-11-30T05:00:00.000Z","type":"platform.report","record":{"requestId":"%s","metrics":{"durationMs":%.3f,"billedDurationMs":%.0f,"memorySizeMB":512,"maxMemoryUsedMB":138},"status":"success"}}`+"\n",
			reqID, d, billed)
	case cold:
		init := latency * 0.6
		log = fmt.Sprintf("START RequestId: %s Version: $LATEST\nEND RequestId: %s\nREPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %.0f ms\tMemory Size: 256 MB\tMax Memory Used: 90 MB\tInit Duration: %.2f ms\t\n",
			reqID, reqID, reqID, d-init, billed, init)
	default:
		log = fmt.Sprintf("START RequestId: %s Version: $LATEST\nEND RequestId: %s\nREPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %.0f ms\tMemory Size: 256 MB\tMax Memory Used: 88 MB\t\n",
			reqID, reqID, reqID, d, billed)
	}
	b = append(b, `,"log":`...)
	return strconv.AppendQuote(b, log)
}
