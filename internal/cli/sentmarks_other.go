//go:build !linux

package cli

import "errors"

// bootID cannot be told on this system: sent marks are not used, and a
// resumed run treats every journaled request as possibly sent.
func bootID() string { return "" }

type sentMarks struct{}

func createSentMarks(string, []int) (*sentMarks, error) {
	return nil, errors.New("sent marks are not supported on this system")
}

func readSentMarks(string) (*sentMarks, error) { return nil, nil }

func (*sentMarks) mark(int)        {}
func (*sentMarks) marked(int) bool { return false }
func (*sentMarks) covers(int) bool { return false }
func (*sentMarks) close() error    { return nil }
func (*sentMarks) path() string    { return "" }
