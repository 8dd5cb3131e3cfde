package lambdalog

import (
	"strconv"
	"strings"
)

// reportPrefix starts a whole REPORT line. INIT_REPORT lines (a failed or
// SnapStart init) have no request ID, so a tail cut inside "INIT_REPORT"
// cannot pass for one.
const reportPrefix = "REPORT RequestId: "

// textField describes a field of the REPORT line.
type textField struct {
	field Field
	unit  string // " ms" or " MB" for numbers; "" for words
}

// textFields maps the labels of the REPORT line's fields to what they are.
// Labels not listed (fields Lambda may add) are skipped.
func textFields(label string) (textField, bool) {
	switch label {
	case "RequestId":
		return textField{FieldRequestID, ""}, true
	case "Duration":
		return textField{FieldDuration, " ms"}, true
	case "Billed Duration":
		return textField{FieldBilledDuration, " ms"}, true
	case "Memory Size":
		return textField{FieldMemorySize, " MB"}, true
	case "Max Memory Used":
		return textField{FieldMaxMemoryUsed, " MB"}, true
	case "Init Duration":
		return textField{FieldInitDuration, " ms"}, true
	case "Restore Duration":
		return textField{FieldRestoreDuration, " ms"}, true
	case "Billed Restore Duration":
		return textField{FieldBilledRestoreDuration, " ms"}, true
	case "Status":
		return textField{FieldStatus, ""}, true
	case "Error Type":
		return textField{FieldErrorType, ""}, true
	}
	return textField{}, false
}

// reportOnly are the fields only a REPORT line has (INIT_REPORT and
// RESTORE_REPORT lines have durations and a status too): a cut line is
// taken for a REPORT only with one of them.
const reportOnly = FieldBilledDuration | FieldMemorySize | FieldMaxMemoryUsed

// parseTextLine parses a whole REPORT line.
func parseTextLine(l line) (Report, bool) {
	r := Report{Format: FormatText}
	r.setTextFields(strings.TrimPrefix(l.text, "REPORT "), l.terminated)
	return r, r.Fields&reportOnly != 0
}

// parseTextFragment parses the end of a REPORT line that the tail begins
// inside: the fields after the first tab, the first one being possibly
// cut.
func parseTextFragment(l line) (Report, bool) {
	_, rest, found := strings.Cut(l.text, "\t")
	if !found {
		return Report{}, false
	}
	r := Report{Format: FormatText, Partial: true}
	r.setTextFields(rest, l.terminated)
	return r, r.Fields&reportOnly != 0
}

// setTextFields sets the whole fields of s, tab-separated fields of the
// form "Label: value". terminated says a newline followed s. A number is
// whole when its unit follows it; a word when a tab or the newline does.
func (r *Report) setTextFields(s string, terminated bool) {
	for s != "" {
		f, rest, more := strings.Cut(s, "\t")
		s = rest
		label, value, ok := strings.Cut(strings.TrimSpace(f), ": ")
		if !ok {
			continue
		}
		tf, known := textFields(label)
		if !known || r.Has(tf.field) {
			continue
		}
		if tf.unit == "" {
			if (more || terminated) && value != "" {
				r.setWord(tf.field, value)
			}
			continue
		}
		num, ok := strings.CutSuffix(value, tf.unit)
		if !ok {
			continue
		}
		if v, err := strconv.ParseFloat(num, 64); err == nil && v >= 0 {
			r.setNumber(tf.field, v)
		}
	}
}

func (r *Report) setWord(f Field, v string) {
	switch f {
	case FieldRequestID:
		r.RequestID = v
	case FieldStatus:
		r.Status = v
	case FieldErrorType:
		r.ErrorType = v
	default:
		return
	}
	r.Fields |= f
}

func (r *Report) setNumber(f Field, v float64) {
	switch f {
	case FieldDuration:
		r.Duration = v
	case FieldBilledDuration:
		r.BilledDuration = v
	case FieldMemorySize:
		r.MemorySizeMB = int(v)
	case FieldMaxMemoryUsed:
		r.MaxMemoryUsedMB = int(v)
	case FieldInitDuration:
		r.InitDuration = v
	case FieldRestoreDuration:
		r.RestoreDuration = v
	case FieldBilledRestoreDuration:
		r.BilledRestoreDuration = v
	default:
		return
	}
	r.Fields |= f
}
