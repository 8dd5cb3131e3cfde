// Package lambdalog reads what Lambda reports about an invocation from its
// log tail — the REPORT line of the text log format, or the platform.report
// record of the JSON log format — and turns those reports into cold-start
// statistics, billed GB-seconds and a cost estimate.
//
// The formats, as parsed here:
//
// Text (the default log format), one line, fields separated by tabs:
//
//	REPORT RequestId: 6d68ca91-…\tDuration: 693.92 ms\tBilled Duration: 694 ms\tMemory Size: 128 MB\tMax Memory Used: 84 MB\tInit Duration: 397.68 ms\t
//
// "Init Duration" appears only on an invocation that started a new
// execution environment (a cold start); a SnapStart function shows
// "Restore Duration" and "Billed Restore Duration" instead (AWS Lambda
// Developer Guide, snapstart-monitoring.html: "When a new execution
// environment is created, the REPORT includes the Restore Duration and
// Billed Restore Duration fields"). Since Lambda's 2024 log format the line
// may end with "Status: timeout", or "Status: error\tError Type:
// Runtime.ExitError" after a runtime or extension crash (Developer Guide,
// lambda-runtime-environment.html: "The new format for CloudWatch logs
// includes an additional status field in the REPORT line. In the case of a
// runtime or extension crash, the REPORT line also includes a field
// ErrorType"; this repository's emulator writes the same line, see
// emulator/execute.go).
//
// JSON (LoggingConfig LogFormat JSON), one JSON object per line:
//
//	{"time":"2026-10-08T07:30:29.470Z","type":"platform.report","record":{"requestId":"79b5e81f-…",
//	 "metrics":{"durationMs":1233.96,"billedDurationMs":1698,"memorySizeMB":256,"maxMemoryUsedMB":123,"initDurationMs":463.512},
//	 "status":"success"}}
//
// The record's metrics are the Telemetry API's ReportMetrics (Developer
// Guide, telemetry-schema-reference.html: billedDurationMs, durationMs,
// initDurationMs?, maxMemoryUsedMB, memorySizeMB, restoreDurationMs?), its
// status one of success, failure, error or timeout, with an errorType when
// it is failure or error.
//
// A log tail (Invoke with LogType Tail) holds only the last 4 KB of the
// log, so a report can be missing, or cut: the tail then begins in the
// middle of it. [Parse] reads what is there and never guesses: a field is
// taken only when it is whole (a number with its unit or closing delimiter
// after it, a word followed by a tab, newline or quote), and the first,
// possibly cut, field of a cut line is dropped, since "Duration: 5 ms" may
// be the end of "Init Duration: 5 ms".
package lambdalog
