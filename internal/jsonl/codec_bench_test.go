package jsonl

import (
	"strings"
	"testing"
	"time"

	"github.com/lambdafan/lambdafan"
)

// benchLine is a typical input line, as in the bench harness.
const benchLine = `{"function_name":"bench","payload":{"data":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}`

func benchmarkDecode(b *testing.B, line string) {
	benchmarkDecodeInput(b, strings.Repeat(line+"\n", 1000))
}

// benchmarkDecodeInput decodes input, which must hold 1000 requests.
func benchmarkDecodeInput(b *testing.B, input string) {
	b.ReportAllocs()
	b.SetBytes(int64(len(input)))
	for b.Loop() {
		items, _ := Decode(strings.NewReader(input), Options{})
		for it := range items {
			if it.Err != nil {
				b.Fatal(it.Err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/line")
}

// BenchmarkDecode parses request lines: the CLI's input side.
func BenchmarkDecode(b *testing.B) { benchmarkDecode(b, benchLine) }

// BenchmarkDecode_Large parses lines with a 256 KB payload.
func BenchmarkDecode_Large(b *testing.B) {
	benchmarkDecode(b, `{"function_name":"bench","payload":{"data":"`+strings.Repeat("x", 256<<10)+`"}}`)
}

// BenchmarkDecode_Array parses the same requests as BenchmarkDecode in a
// JSON array.
func BenchmarkDecode_Array(b *testing.B) {
	benchmarkDecodeInput(b, "[\n"+strings.Repeat(benchLine+",\n", 999)+benchLine+"\n]\n")
}

// BenchmarkDecode_ArrayLarge parses a JSON array of requests with a 256 KB
// payload.
func BenchmarkDecode_ArrayLarge(b *testing.B) {
	line := `{"function_name":"bench","payload":{"data":"` + strings.Repeat("x", 256<<10) + `"}}`
	benchmarkDecodeInput(b, "["+strings.Repeat(line+",", 999)+line+"]")
}

func benchmarkAppendRecord(b *testing.B, payload []byte) {
	r := &lambdafan.Result{
		FunctionName: "bench", Region: "us-east-1", InvocationType: lambdafan.RequestResponse,
		StatusCode: 200, Payload: payload, ExecutedVersion: "$LATEST",
		RequestID: "00000000-0000-4000-8000-000000000001", Attempts: 1, Latency: 1234 * time.Microsecond,
		Start: time.Date(2026, 11, 30, 5, 59, 0, 123456789, time.UTC),
		End:   time.Date(2026, 11, 30, 5, 59, 0, 124690789, time.UTC),
	}
	var buf []byte
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		buf = AppendRecord(buf[:0], Record{Line: 17, Result: r})
	}
}

// BenchmarkAppendRecord encodes a successful result: the CLI's output side.
func BenchmarkAppendRecord(b *testing.B) {
	benchmarkAppendRecord(b, []byte(`{"data":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`))
}

// BenchmarkAppendRecord_Large encodes a result with a 256 KB payload.
func BenchmarkAppendRecord_Large(b *testing.B) {
	benchmarkAppendRecord(b, []byte(`{"data":"`+strings.Repeat("x", 256<<10)+`"}`))
}

// BenchmarkValidJSON_Escapes scans a 256 KB string that is all escapes:
// the scan must stay linear when backslashes are dense.
func BenchmarkValidJSON_Escapes(b *testing.B) {
	p := []byte(`"` + strings.Repeat(`\"\n`, 64<<10) + `"`)
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		if !validJSON(p) {
			b.Fatal("invalid")
		}
	}
}
