package lambdaapi

// Size limits of the Invoke API, in bytes. "MB" in Lambda's quotas is
// MiB: 6 MB is 6,291,456 bytes.
const (
	// MaxSyncPayloadBytes is the largest payload of a synchronous
	// invocation, request or buffered response: "For synchronous
	// invocations, the maximum payload size is 6 MB." (Invoke API
	// reference). A larger request is answered 413.
	MaxSyncPayloadBytes = 6 << 20
	// MaxAsyncPayloadBytes is the largest request payload of an Event
	// invocation: "For asynchronous invocations, the maximum payload
	// size is 1 MB." (Invoke API reference; 256 KB before October 2025).
	MaxAsyncPayloadBytes = 1 << 20
	// MaxClientContextBytes is the largest HeaderClientContext: "Up to
	// 3,583 bytes of base64-encoded data" (the API model).
	MaxClientContextBytes = 3583
	// MaxStreamedResponseBytes is the largest response
	// InvokeWithResponseStream carries: "response streaming functions
	// can return payloads up to 200 MB" (Lambda developer guide,
	// configuration-response-streaming).
	MaxStreamedResponseBytes = 200 << 20
	// LogTailBytes is how much of the execution log LogTypeTail returns:
	// "The last 4 KB of the execution log" (the API model's LogResult).
	LogTailBytes = 4 << 10
)
