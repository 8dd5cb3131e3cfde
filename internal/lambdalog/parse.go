package lambdalog

import "strings"

// Parse finds the report of an invocation in its log tail: the last whole
// REPORT line or platform.report record whose request ID is requestID
// (any, when requestID is empty or the report names none), or, failing
// that, the report the tail begins inside of, when the tail was cut there
// (Partial then). ok is false when the tail holds no report.
func Parse(tail, requestID string) (r Report, ok bool) {
	if !strings.Contains(tail, "REPORT") && !strings.Contains(tail, "platform.report") && !strings.Contains(tail, "MB") {
		return Report{}, false // the common case without a report: one scan
	}
	lines := splitLines(tail)
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		var rep Report
		switch {
		case strings.HasPrefix(l.text, reportPrefix):
			rep, ok = parseTextLine(l)
		case strings.HasPrefix(l.text, "{"):
			rep, ok = parseJSONLine(l.text)
		default:
			continue
		}
		if ok && (requestID == "" || !rep.Has(FieldRequestID) || rep.RequestID == requestID) {
			return rep, true
		}
	}
	if len(lines) == 0 {
		return Report{}, false
	}
	// The tail may have been cut inside the report: its first line is then
	// the report's end.
	first := lines[0]
	if strings.HasPrefix(first.text, reportPrefix) || strings.HasPrefix(first.text, "{") {
		return Report{}, false // whole, and not a report of this request
	}
	if rep, ok := parseJSONFragment(first.text); ok {
		return rep, requestID == "" || !rep.Has(FieldRequestID) || rep.RequestID == requestID
	}
	return parseTextFragment(first)
}

// line is one line of a tail; terminated says a newline followed it (a
// line without one may have been cut at its end).
type line struct {
	text       string
	terminated bool
}

// splitLines splits s at newlines, dropping a carriage return before them.
func splitLines(s string) []line {
	var lines []line
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			lines = append(lines, line{text: s})
			break
		}
		lines = append(lines, line{text: strings.TrimSuffix(s[:i], "\r"), terminated: true})
		s = s[i+1:]
	}
	return lines
}
