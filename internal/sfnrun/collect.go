package sfnrun

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/internal/store"
)

// Opener opens the object at key in bucket for reading; the caller
// closes it.
type Opener func(ctx context.Context, bucket, key string) (io.ReadCloser, error)

// StoreOpener returns an Opener that reads S3 objects through st.
func StoreOpener(st store.Store) Opener {
	return func(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
		loc, err := store.Parse("s3://" + bucket + "/" + key)
		if err != nil {
			return nil, err
		}
		return st.Open(ctx, loc)
	}
}

// Collector turns a Map Run's ResultWriter output into lambdafan results,
// exactly one per item.
type Collector struct {
	// Open reads the work directory's objects and the result files.
	Open Opener
	// Converter converts each record.
	Converter Converter
}

// CollectStats counts what Collect met besides one record per item.
type CollectStats struct {
	// Records is the number of records read from the result files.
	Records int
	// Duplicates counts records of items already reported by an earlier
	// record (a redriven Map Run's files may list an item again); the
	// first one read wins, and SUCCEEDED files are read first.
	Duplicates int
	// Unidentified counts records that include neither their output nor
	// their input, so that their item cannot be told; Stray counts
	// records of lines that are not items. Neither gets a result of its
	// own: their items count as Missing.
	Unidentified, Stray int
	// Missing is the number of items no record reported; each got a
	// result with ErrNoResult.
	Missing int
}

// Collect calls emit with the result of every item of the items file
// at itemsKey in itemsBucket (JSON Lines of Item, as uploaded), each exactly once: from the records
// of the manifest's result files (its SUCCEEDED files first, then FAILED,
// then PENDING), and for the items no record reports, a result whose
// error says so (ErrNoResult, with missingReason appended when not
// empty). A nil manifest means the Map Run wrote no results: every item is
// missing.
//
// Results are emitted as they are read, so memory stays bounded by a bit
// per input line. An error reading the files, or returned by emit, ends
// Collect; the results emitted until then were emitted once each.
func (c *Collector) Collect(ctx context.Context, m *Manifest, itemsBucket, itemsKey string, missingReason string, emit func(ItemKey, lambdafan.Result) error) (CollectStats, error) {
	var st CollectStats
	var isItem, seen lineSet
	if err := c.readItems(ctx, itemsBucket, itemsKey, func(it *Item) error {
		isItem.add(it.Key.Line)
		return nil
	}); err != nil {
		return st, err
	}
	if m != nil {
		files := []struct {
			status string
			files  []ResultFile
		}{{StatusSucceeded, m.ResultFiles.Succeeded}, {StatusFailed, m.ResultFiles.Failed}, {StatusPending, m.ResultFiles.Pending}}
		for _, group := range files {
			for _, f := range group.files {
				err := c.readFile(ctx, m.DestinationBucket, f.Key, func(rec *Record) error {
					st.Records++
					key, r, err := c.Converter.Convert(rec, group.status)
					switch {
					case errors.Is(err, errUnidentified):
						st.Unidentified++
						return nil
					case err != nil:
						return err
					case !isItem.has(key.Line):
						st.Stray++
						return nil
					case seen.has(key.Line):
						st.Duplicates++
						return nil
					}
					seen.add(key.Line)
					return emit(key, r)
				})
				if err != nil {
					return st, err
				}
			}
		}
	}
	cause := ErrNoResult
	if missingReason != "" {
		cause = fmt.Errorf("%w: %s", ErrNoResult, missingReason)
	}
	err := c.readItems(ctx, itemsBucket, itemsKey, func(it *Item) error {
		if seen.has(it.Key.Line) {
			return nil
		}
		seen.add(it.Key.Line) // an items file lists a line once; this keeps it so
		st.Missing++
		return emit(it.Key, lambdafan.Result{
			Index:          -1,
			ID:             idString(it.Key.ID),
			FunctionName:   it.Key.FunctionName,
			Region:         c.Converter.Region,
			InvocationType: lambdafan.InvocationType(it.Key.InvocationType),
			Err:            &lambdafan.TransportError{Sent: true, Err: cause},
		})
	})
	return st, err
}

// readFile reads the result file at key in bucket.
func (c *Collector) readFile(ctx context.Context, bucket, key string, fn func(*Record) error) error {
	r, err := c.Open(ctx, bucket, key)
	if err != nil {
		return fmt.Errorf("result file: %w", err)
	}
	defer r.Close()
	if err := ReadRecords(r, fn); err != nil {
		return fmt.Errorf("s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// maxLine bounds the line numbers of items, so that a damaged items file
// cannot make the line sets allocate without bound (a bit per line).
const maxLine = 1 << 30

// readItems calls fn with each item of the items file.
func (c *Collector) readItems(ctx context.Context, bucket, key string, fn func(*Item) error) error {
	loc := "s3://" + bucket + "/" + key
	r, err := c.Open(ctx, bucket, key)
	if err != nil {
		return fmt.Errorf("items: %w", err)
	}
	defer r.Close()
	br := bufio.NewReaderSize(r, 64*1024)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			var it Item
			if jerr := json.Unmarshal(line, &it); jerr != nil || it.Key.Line <= 0 || it.Key.Line > maxLine {
				return fmt.Errorf("items %s: line %d is not an item", loc, n)
			}
			if ferr := fn(&it); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("items %s: %w", loc, err)
		}
	}
}

// lineSet is a set of input line numbers, a bit each.
type lineSet struct{ bits []uint64 }

func (s *lineSet) add(line int) {
	w := line / 64
	if w >= len(s.bits) {
		s.bits = append(s.bits, make([]uint64, w+1-len(s.bits))...)
	}
	s.bits[w] |= 1 << (line % 64)
}

func (s *lineSet) has(line int) bool {
	w := line / 64
	return line >= 0 && w < len(s.bits) && s.bits[w]&(1<<(line%64)) != 0
}
