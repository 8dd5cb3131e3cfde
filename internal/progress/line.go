package progress

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// field is one part of the progress line. Its rank is its importance: 0
// is the most important, and the highest rank is dropped first when the
// line is too long.
type field struct {
	text string
	rank int
}

// The ranks of the progress line's fields.
const (
	rankDone = iota
	rankErrors
	rankETA
	rankRate
	rankExtra
	rankElapsed
)

// fieldSep separates the fields of the progress line.
const fieldSep = "  "

// fields returns the progress line's fields as of now, in the order they
// are shown.
func (m *Meter) fields(now time.Time) []field {
	done, failed := m.summary.Done()
	elapsed := now.Sub(m.start)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed.Seconds()
	}
	var fs []field
	total := m.total.Load()
	if total >= 0 {
		pct := 100.0
		if total > 0 {
			pct = 100 * float64(done) / float64(total)
		}
		fs = append(fs, field{fmt.Sprintf("%d/%d (%.0f%%)", done, total, pct), rankDone})
	} else {
		fs = append(fs, field{fmt.Sprintf("%d done", done), rankDone})
	}
	fs = append(fs, field{fmt.Sprintf("%.0f/s", rate), rankRate}, field{fmt.Sprintf("%d errors", failed), rankErrors})
	if total >= 0 && rate > 0 && done < total {
		eta := time.Duration(float64(total-done) / rate * float64(time.Second))
		fs = append(fs, field{"ETA " + eta.Round(time.Second).String(), rankETA})
	}
	fs = append(fs, field{"elapsed " + elapsed.Round(time.Second).String(), rankElapsed})
	if m.cfg.Extra != nil {
		if s := m.cfg.Extra(); s != "" {
			fs = append(fs, field{s, rankExtra})
		}
	}
	return fs
}

// Line renders the whole progress line as of now, e.g. "31/62 (50%)
// 3/s  1 errors  ETA 10s  elapsed 10s  limit 7".
func (m *Meter) Line(now time.Time) string { return joinFields(m.fields(now)) }

// FitLine renders the progress line as of now in at most width columns
// (0 or less: no limit): it drops the least important fields until the
// rest fit — elapsed time first, then the extra status, the rate, the ETA
// and the errors — and cuts the done count itself only when the width
// cannot even hold it.
func (m *Meter) FitLine(now time.Time, width int) string {
	fs := m.fields(now)
	if width <= 0 {
		return joinFields(fs)
	}
	for len(fs) > 1 && lineWidth(fs) > width {
		least := 0
		for i, f := range fs {
			if f.rank > fs[least].rank {
				least = i
			}
		}
		fs = slices.Delete(fs, least, least+1)
	}
	line := joinFields(fs)
	if utf8.RuneCountInString(line) > width {
		line = string([]rune(line)[:width])
	}
	return line
}

func joinFields(fs []field) string {
	texts := make([]string, len(fs))
	for i, f := range fs {
		texts[i] = f.text
	}
	return strings.Join(texts, fieldSep)
}

// lineWidth returns the columns the fields take once joined (a column per
// rune: the line is ASCII but for what Extra may add).
func lineWidth(fs []field) int {
	n := len(fieldSep) * (len(fs) - 1)
	for _, f := range fs {
		n += utf8.RuneCountInString(f.text)
	}
	return n
}
