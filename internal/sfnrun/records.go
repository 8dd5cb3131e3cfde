package sfnrun

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// The statuses of a child execution in the ResultWriter's files: the
// SUCCEEDED_n files hold SUCCEEDED children, the FAILED_n files FAILED,
// TIMED_OUT and ABORTED ones, the PENDING_n files those never started
// (docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html).
const (
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
	StatusTimedOut  = "TIMED_OUT"
	StatusAborted   = "ABORTED"
	StatusPending   = "PENDING"
)

// Manifest is a Map Run's manifest.json: where its result files are.
type Manifest struct {
	DestinationBucket string      `json:"DestinationBucket"`
	MapRunArn         string      `json:"MapRunArn"`
	ResultFiles       ResultFiles `json:"ResultFiles"`
}

// ResultFiles lists a Map Run's result files by the status of the
// children they hold. A file's Key is in the manifest's DestinationBucket.
type ResultFiles struct {
	Failed    []ResultFile `json:"FAILED"`
	Pending   []ResultFile `json:"PENDING"`
	Succeeded []ResultFile `json:"SUCCEEDED"`
}

// ResultFile is one result file: its key and size in bytes.
type ResultFile struct {
	Key  string `json:"Key"`
	Size int64  `json:"Size"`
}

// ParseManifest reads a manifest.json.
func ParseManifest(r io.Reader) (*Manifest, error) {
	var m Manifest
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if m.DestinationBucket == "" {
		return nil, errors.New("manifest: no DestinationBucket")
	}
	return &m, nil
}

// Record is one child execution in a result file, with the fields the
// ResultWriter writes (Transformation NONE, its default when exporting to
// S3). Input and Output are the execution's input and output as JSON
// text; the ResultWriter leaves them empty, with Included false in
// InputDetails or OutputDetails, when it does not include them.
type Record struct {
	ExecutionArn  string  `json:"ExecutionArn"`
	Name          string  `json:"Name"`
	Status        string  `json:"Status"`
	Input         string  `json:"Input"`
	InputDetails  details `json:"InputDetails"`
	Output        string  `json:"Output"`
	OutputDetails details `json:"OutputDetails"`
	Error         string  `json:"Error"`
	Cause         string  `json:"Cause"`
	StartDate     string  `json:"StartDate"`
	StopDate      string  `json:"StopDate"`
	RedriveCount  int     `json:"RedriveCount"`
}

type details struct {
	Included bool `json:"Included"`
}

// ReadRecords calls fn with each record of the result file r, in order,
// reading one record at a time: r is a JSON array of records (OutputType
// JSON, the default) or JSON Lines (OutputType JSONL). The *Record is
// reused between calls. It stops at the first error fn returns.
func ReadRecords(r io.Reader, fn func(*Record) error) error {
	br := bufio.NewReaderSize(r, 64*1024)
	first, err := firstByte(br)
	if errors.Is(err, io.EOF) {
		return nil // an empty file holds no records
	}
	if err != nil {
		return err
	}
	dec := json.NewDecoder(br)
	if first == '[' {
		if _, err := dec.Token(); err != nil {
			return fmt.Errorf("result file: %w", err)
		}
	}
	var rec Record
	for n := 1; ; n++ {
		if first == '[' && !dec.More() {
			break
		}
		rec = Record{}
		if err := dec.Decode(&rec); errors.Is(err, io.EOF) && first != '[' {
			return nil
		} else if err != nil {
			return fmt.Errorf("result file: record %d: %w", n, err)
		}
		if err := fn(&rec); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("result file: %w", err)
	}
	return nil
}

// firstByte returns the first byte of br that is not JSON whitespace,
// leaving it unread.
func firstByte(br *bufio.Reader) (byte, error) {
	for {
		c, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c, br.UnreadByte()
	}
}
