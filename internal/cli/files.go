package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// The files of a run are checked before any of them is touched: a
// mistake on the command line (an output that is the input, arguments
// swapped, a missing directory) must end the run with exit status 2 and
// every file as it was.

// checkInputFile checks that path can be read as an input: it exists and
// is not a directory.
func checkInputFile(path string) (os.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, usagef("cannot read input: %v", pathErr(err))
	}
	if fi.IsDir() {
		return nil, usagef("input %s is a directory: name a file of requests (JSON Lines), or - for standard input", path)
	}
	return fi, nil
}

// checkNotInput refuses a file the run would write (what says which) when
// it is the input file itself, also through a link.
func checkNotInput(input os.FileInfo, path, what string) error {
	if input == nil || path == "" || path == "-" {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil // does not exist yet: it cannot be the input
	}
	if os.SameFile(input, fi) {
		return usagef("%s %s is the input file: the run would overwrite its own requests; write the results to another file", what, path)
	}
	return nil
}

// checkWritableDir checks that the directory that would hold path exists
// and takes new files, by creating and removing a temporary file there.
func checkWritableDir(path, what string) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return usagef("cannot write %s %s: %v", what, path, pathErr(err))
	}
	if !fi.IsDir() {
		return usagef("cannot write %s %s: %s is not a directory", what, path, dir)
	}
	f, err := os.CreateTemp(dir, ".lambdafan-check-*")
	if err != nil {
		return usagef("cannot write %s %s: %v", what, path, pathErr(err))
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// isDevice reports whether path exists and is not a regular file or a
// directory: a device such as /dev/null, or a named pipe.
func isDevice(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.Mode().IsRegular() && !fi.IsDir()
}

// checkOverwritable checks that an existing file at path may be replaced
// by a run's results: it must be empty or hold lambdafan results (of an
// earlier run), never anything else, and must not be a directory.
func checkOverwritable(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return usagef("cannot write output: %v", pathErr(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return usagef("cannot write output: %v", pathErr(err))
	}
	if fi.IsDir() {
		return usagef("output %s is a directory", path)
	}
	if !fi.Mode().IsRegular() {
		return nil // a device or a pipe: writing to it is what the user asked
	}
	line, err := bufio.NewReaderSize(f, 64*1024).ReadSlice('\n')
	if len(line) == 0 && errors.Is(err, io.EOF) {
		return nil
	}
	if _, perr := parseRecord(line); perr != nil {
		return usagef("output %s exists and does not hold lambdafan results (line 1: %v); refusing to overwrite it: remove it or choose another file", path, perr)
	}
	return nil
}

// writeFileAtomically writes path through a temporary file in the same
// directory, synced and then renamed over it, so that path holds either
// its old content or the whole new content, never a part.
func writeFileAtomically(path string, write func(w io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err := errors.Join(write(bw), bw.Flush(), tmp.Sync(), tmp.Close()); err != nil {
		tmp.Close()
		return err
	}
	if fi, err := os.Stat(path); err == nil {
		os.Chmod(tmp.Name(), fi.Mode().Perm()) // keep the permissions of the file it replaces
	} else {
		os.Chmod(tmp.Name(), 0o644)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes a directory's entries (a file created or renamed in it)
// durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// pathErr drops the operation from a *fs.PathError ("open x: no such
// file" → "x: no such file").
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}
