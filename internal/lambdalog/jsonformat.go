package lambdalog

import (
	"encoding/json"
	"strconv"
	"strings"
)

// jsonEvent is a platform.report record of the JSON log format.
type jsonEvent struct {
	Type   string `json:"type"`
	Record struct {
		RequestID *string `json:"requestId"`
		// Status is a string in the records Lambda writes; the Telemetry
		// API reference calls it a Status object, so one is accepted too.
		Status    json.RawMessage `json:"status"`
		ErrorType *string         `json:"errorType"`
		Metrics   struct {
			DurationMs        *float64 `json:"durationMs"`
			BilledDurationMs  *float64 `json:"billedDurationMs"`
			MemorySizeMB      *float64 `json:"memorySizeMB"`
			MaxMemoryUsedMB   *float64 `json:"maxMemoryUsedMB"`
			InitDurationMs    *float64 `json:"initDurationMs"`
			RestoreDurationMs *float64 `json:"restoreDurationMs"`
		} `json:"metrics"`
	} `json:"record"`
}

// jsonKey is a quoted JSON member name and the field it holds.
type jsonKey struct {
	key   string
	field Field
}

// jsonMetricKeys returns the metrics' JSON names, in the order a fragment
// is searched.
func jsonMetricKeys() [6]jsonKey {
	return [...]jsonKey{
		{`"durationMs"`, FieldDuration},
		{`"billedDurationMs"`, FieldBilledDuration},
		{`"memorySizeMB"`, FieldMemorySize},
		{`"maxMemoryUsedMB"`, FieldMaxMemoryUsed},
		{`"initDurationMs"`, FieldInitDuration},
		{`"restoreDurationMs"`, FieldRestoreDuration},
	}
}

// parseJSONLine parses a whole platform.report record.
func parseJSONLine(s string) (Report, bool) {
	if !strings.Contains(s, `"platform.report"`) {
		return Report{}, false
	}
	var ev jsonEvent
	if json.Unmarshal([]byte(s), &ev) != nil || ev.Type != "platform.report" {
		return Report{}, false
	}
	r := Report{Format: FormatJSON}
	rec := &ev.Record
	if rec.RequestID != nil {
		r.setWord(FieldRequestID, *rec.RequestID)
	}
	m := &rec.Metrics
	for _, v := range [...]struct {
		p *float64
		f Field
	}{
		{m.DurationMs, FieldDuration}, {m.BilledDurationMs, FieldBilledDuration},
		{m.MemorySizeMB, FieldMemorySize}, {m.MaxMemoryUsedMB, FieldMaxMemoryUsed},
		{m.InitDurationMs, FieldInitDuration}, {m.RestoreDurationMs, FieldRestoreDuration},
	} {
		if v.p != nil && *v.p >= 0 {
			r.setNumber(v.f, *v.p)
		}
	}
	var status struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
	}
	switch {
	case json.Unmarshal(rec.Status, &status.Status) == nil:
	case json.Unmarshal(rec.Status, &status) == nil:
	}
	if status.Status != "" {
		r.setWord(FieldStatus, status.Status)
	}
	if rec.ErrorType != nil && *rec.ErrorType != "" {
		r.setWord(FieldErrorType, *rec.ErrorType)
	} else if status.ErrorType != "" {
		r.setWord(FieldErrorType, status.ErrorType)
	}
	return r, r.Fields&reportOnly != 0
}

// parseJSONFragment parses the end of a platform.report record that the
// tail begins inside. Its metrics are read from the "metrics" object when
// the fragment has its start, else from the text up to the first '}' (the
// end of the object the cut fell in), and only when that text has a
// metric only reports have; the status, error type and request ID from
// whole string values after it.
func parseJSONFragment(s string) (Report, bool) {
	metrics, after := s, ""
	if i := strings.Index(s, `"metrics"`); i >= 0 {
		metrics = s[i+len(`"metrics"`):]
	}
	if end := strings.IndexByte(metrics, '}'); end >= 0 {
		metrics, after = metrics[:end+1], metrics[end+1:]
	}
	r := Report{Format: FormatJSON, Partial: true}
	for _, k := range jsonMetricKeys() {
		if v, ok := jsonNumber(metrics, k.key); ok && v >= 0 {
			r.setNumber(k.field, v)
		}
	}
	if r.Fields&reportOnly == 0 {
		return Report{}, false
	}
	for _, k := range [...]struct {
		key   string
		field Field
		in    string
	}{{`"status"`, FieldStatus, after}, {`"errorType"`, FieldErrorType, after}, {`"requestId"`, FieldRequestID, s}} {
		if v, ok := jsonString(k.in, k.key); ok && v != "" {
			r.setWord(k.field, v)
		}
	}
	return r, true
}

// jsonValueAt returns the text after `key:` in s, or false.
func jsonValueAt(s, key string) (string, bool) {
	i := strings.Index(s, key)
	if i < 0 {
		return "", false
	}
	rest := strings.TrimLeft(s[i+len(key):], " \t")
	rest, ok := strings.CutPrefix(rest, ":")
	return strings.TrimLeft(rest, " \t"), ok
}

// jsonNumber returns the number after `key:` in s when it is whole: a
// delimiter follows it.
func jsonNumber(s, key string) (float64, bool) {
	v, ok := jsonValueAt(s, key)
	if !ok {
		return 0, false
	}
	end := strings.IndexAny(v, ",} \t")
	if end <= 0 {
		return 0, false
	}
	f, err := strconv.ParseFloat(v[:end], 64)
	return f, err == nil
}

// jsonString returns the string after `key:` in s when it is whole: its
// closing quote is there.
func jsonString(s, key string) (string, bool) {
	v, ok := jsonValueAt(s, key)
	if !ok || !strings.HasPrefix(v, `"`) {
		return "", false
	}
	for i := 1; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++
		case '"':
			var out string
			if json.Unmarshal([]byte(v[:i+1]), &out) != nil {
				return "", false
			}
			return out, true
		}
	}
	return "", false
}
