// Package runreport builds the HTML report of a run — `lambdafan report`
// and `lambdafan invoke --report` — from its results, streamed one at a
// time: an [Aggregator] folds each result into time buckets, histograms
// and bounded tables, so that its memory, and the report's size, do not
// grow with the number of results; [Report.WriteHTML] renders one
// self-contained HTML file (inline CSS, server-side SVG charts, no script
// and no external reference) that a browser shows without network access.
package runreport
