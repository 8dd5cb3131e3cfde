package lambdalog

import "math"

// Field names one of the values a report can carry.
type Field uint16

// The fields of a [Report].
const (
	FieldRequestID Field = 1 << iota
	FieldDuration
	FieldBilledDuration
	FieldMemorySize
	FieldMaxMemoryUsed
	FieldInitDuration
	FieldRestoreDuration
	FieldBilledRestoreDuration
	FieldStatus
	FieldErrorType
)

// Format is the log format a report was read from.
type Format uint8

// The log formats.
const (
	// FormatText is Lambda's plain text format: a REPORT line.
	FormatText Format = iota + 1
	// FormatJSON is the JSON log format: a platform.report record.
	FormatJSON
)

// Report is what Lambda reported about one invocation. Durations are in
// milliseconds, memory in megabytes (MB as Lambda counts them: 1 GB is
// 1024 MB). A value is meaningful only when [Report.Has] says its field
// was present; the others are zero.
type Report struct {
	RequestID             string
	Duration              float64
	BilledDuration        float64
	MemorySizeMB          int
	MaxMemoryUsedMB       int
	InitDuration          float64
	RestoreDuration       float64
	BilledRestoreDuration float64
	// Status is "timeout" or "error" in the text format (absent on
	// success), and success, failure, error or timeout in the JSON one.
	Status    string
	ErrorType string

	// Fields says which values were present.
	Fields Field
	// Format is the log format the report was read from.
	Format Format
	// Partial says the tail began inside the report: the fields before the
	// cut are missing.
	Partial bool
}

// Has reports whether f was present.
func (r *Report) Has(f Field) bool { return r.Fields&f != 0 }

// ColdStart reports whether the invocation started a new execution
// environment: its report has an Init Duration. (A SnapStart function's
// new environment is a restore, see [Report.Restored].)
func (r *Report) ColdStart() bool { return r.Has(FieldInitDuration) }

// Restored reports whether the invocation ran in an environment restored
// from a SnapStart snapshot.
func (r *Report) Restored() bool { return r.Has(FieldRestoreDuration) }

// Billable reports whether the report says what the invocation cost: it
// has the billed duration and the memory size.
func (r *Report) Billable() bool { return r.Has(FieldBilledDuration) && r.Has(FieldMemorySize) }

// MBMilliseconds is the billed compute in MB·ms: the billed duration (plus
// a SnapStart billed restore duration) times the memory size, or 0 when
// the report is not [Report.Billable]. Since 2025-08-01 the init phase of
// on-demand functions is billed too, and Lambda includes it in Billed
// Duration (a captured report: Duration 1233.96 ms, Init Duration 463.512
// ms, Billed Duration 1698 ms), so it is not added again here.
func (r *Report) MBMilliseconds() int64 {
	if !r.Billable() {
		return 0
	}
	ms := int64(math.Ceil(r.BilledDuration))
	if r.Has(FieldBilledRestoreDuration) {
		ms += int64(math.Ceil(r.BilledRestoreDuration))
	}
	return ms * int64(r.MemorySizeMB)
}
