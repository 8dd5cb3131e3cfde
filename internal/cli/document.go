package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/lambdafan/lambdafan/internal/lambdalog"
	"github.com/lambdafan/lambdafan/internal/progress"
	"github.com/lambdafan/lambdafan/internal/store"
)

// writeDocument writes a whole document (a summary, a report) to path: an
// S3 object, through the store st returns (called only then), or a local
// file, replaced atomically so that a reader never sees half of it and an
// earlier one stays whole if writing fails.
func writeDocument(ctx context.Context, st func() store.Store, path string, write func(io.Writer) error) error {
	loc, err := store.Parse(path)
	if err != nil || !loc.IsS3() {
		return writeFileAtomically(path, write)
	}
	ctx = context.WithoutCancel(ctx) // a document is written even after an interrupt
	obj, err := st().Create(ctx, loc)
	if err != nil {
		return err
	}
	if err := write(obj); err != nil {
		obj.Abort(ctx)
		return err
	}
	return obj.Close()
}

// summaryDocument is what --summary-json holds: the summary and, when the
// results had a REPORT in their log tails, their cold starts and cost
// under "lambda".
type summaryDocument struct {
	*progress.Report
	Lambda *lambdalog.Summary `json:"lambda,omitempty"`
}

// newSummaryDocument returns the document of r and l, leaving l out when
// no result had a REPORT.
func newSummaryDocument(r *progress.Report, l lambdalog.Summary) summaryDocument {
	d := summaryDocument{Report: r}
	if l.Reports > 0 {
		d.Lambda = &l
	}
	return d
}

// write writes the document as indented JSON.
func (d summaryDocument) write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return fmt.Errorf("encode summary: %w", err)
	}
	return nil
}
