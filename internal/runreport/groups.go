package runreport

import (
	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lambdafan/lambdafan/internal/lambdalog"
)

// maxGroups bounds the function and region pairs a report tells apart;
// the pairs past it are counted together, as otherGroup.
const maxGroups = 200

// otherGroup is the function name of the pairs past maxGroups.
const otherGroup = "(other functions)"

// groupKey is a function and region pair.
type groupKey struct{ function, region string }

// group is what a report keeps of one function and region.
type group struct {
	outcomes    [numOutcomes]int64
	invocations int64 // accepted by Lambda: HTTP 200 or 202
	reports     int64
	coldStarts  int64
	mbms        int64 // billed MB·ms
	latency     *hdrhistogram.Histogram
}

func (g *group) add(rec *Record, reached bool, rep *lambdalog.Report, hasReport bool) {
	g.outcomes[rec.Outcome]++
	if rec.Status == 200 || rec.Status == 202 {
		g.invocations++
	}
	if hasReport {
		g.reports++
		g.mbms += rep.MBMilliseconds()
		if rep.ColdStart() {
			g.coldStarts++
		}
	}
	if reached {
		if g.latency == nil {
			g.latency = newBucketHistogram()
		}
		_ = g.latency.RecordValue(max(1, rec.Latency.Microseconds()))
	}
}

// groupOf returns the group of rec, creating it while there are fewer
// than maxGroups.
func (a *Aggregator) groupOf(rec *Record) *group {
	k := groupKey{rec.FunctionName, rec.Region}
	if g, ok := a.groups[k]; ok {
		return g
	}
	if len(a.groups) >= maxGroups {
		k = groupKey{function: otherGroup}
		if g, ok := a.groups[k]; ok {
			return g
		}
	}
	g := &group{}
	a.groups[k] = g
	return g
}
