package store

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// fileObject is a local file being written. Writes go straight to the
// file, as the CLI's own output does; Checkpoint is fsync.
type fileObject struct {
	f      *os.File
	closed bool
}

func (o *fileObject) Write(p []byte) (int, error) { return o.f.Write(p) }

func (o *fileObject) Checkpoint(ctx context.Context) error { return o.f.Sync() }

func (o *fileObject) Close() error {
	o.closed = true
	return o.f.Close()
}

func (o *fileObject) Abort(ctx context.Context) error {
	if o.closed {
		return nil
	}
	o.closed = true
	return errors.Join(o.f.Close(), os.Remove(o.f.Name()))
}

// stdoutObject writes to standard output, which it never closes.
type stdoutObject struct{ w io.Writer }

func (o stdoutObject) Write(p []byte) (int, error) { return o.w.Write(p) }

func (o stdoutObject) Checkpoint(ctx context.Context) error { return nil }

func (o stdoutObject) Close() error { return nil }

func (o stdoutObject) Abort(ctx context.Context) error { return nil }

// listLocal lists the regular files under a directory, at any depth, in
// lexical order. A file that is not a directory is listed alone.
func listLocal(ctx context.Context, dir Location) ([]Info, error) {
	var infos []Info
	err := filepath.WalkDir(dir.path, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return pathError("list", dir, err)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		infos = append(infos, Info{Location: Location{path: path}, Size: fi.Size(), ModTime: fi.ModTime()})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return infos, nil
}
