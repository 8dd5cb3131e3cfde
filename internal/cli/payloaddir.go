package cli

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/internal/jsonl"
)

// --payload-dir writes each response payload to a file of its own instead
// of embedding it in the result line: for payloads too big for a JSON line
// (a streamed response may be 200 MB). The library hands each payload to
// the file as it arrives (Request.PayloadWriter), so that a streamed one is
// never held whole in memory; the result line then names the file and
// gives its size and SHA-256.
//
// Files are named by input line and id: line-LINE.payload, or
// line-LINE-ID.payload where ID is the request's id with every byte
// other than ASCII letters, digits, '.', '_' and '-' replaced by '_' and
// cut to 64 bytes. Line numbers are unique within an input, so names never
// collide within a run. Files are never overwritten: a file is created only
// if its name is free, and otherwise (a leftover of the interrupted run a
// --resume finishes, for a request invoked again) gets the first free
// name with a counter, line-LINE-ID.2.payload and so on. And a run that is
// not a --resume refuses to start when the directory already holds a
// payload file of a line it would invoke: two runs' payloads would be
// mixed, and their names would no longer say which run wrote them.

// payloadExt ends every payload file's name.
const payloadExt = ".payload"

// maxIDInName bounds the id's part of a payload file's name.
const maxIDInName = 64

// payloadDir writes the payloads of a run into its directory. It is safe
// for concurrent use.
type payloadDir struct {
	dir  string
	mu   sync.Mutex
	open map[int]*payloadFile // by request index, until its result is written
}

func newPayloadDir(dir string) *payloadDir {
	return &payloadDir{dir: dir, open: map[int]*payloadFile{}}
}

// checkPayloadDir checks that dir can take this run's payload files: it is
// a writable directory (or can be created), and, unless the run resumes
// another, it holds no payload file of a line that owns says the run
// invokes.
func checkPayloadDir(dir string, resume bool, owns func(line int) bool) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return checkWritableDir(dir, "--payload-dir")
	}
	if err != nil {
		return usagef("--payload-dir: %v", pathErr(err))
	}
	if !fi.IsDir() {
		return usagef("--payload-dir %s is not a directory", dir)
	}
	if err := checkWritableDir(filepath.Join(dir, "x"), "payload files in"); err != nil {
		return err
	}
	if resume {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return usagef("--payload-dir: %v", pathErr(err))
	}
	for _, e := range entries {
		if line, ok := payloadLine(e.Name()); ok && owns(line) {
			return usagef("--payload-dir %s already holds payload files of this run's lines (%s): use an empty directory, or --resume the run that wrote them",
				dir, e.Name())
		}
	}
	return nil
}

// payloadLine returns the input line a payload file's name gives, if it is
// one.
func payloadLine(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, "line-")
	if !ok || !strings.HasSuffix(rest, payloadExt) {
		return 0, false
	}
	end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	line, err := strconv.Atoi(rest[:max(end, 0)])
	return line, err == nil
}

// payloadName is the file name of the payload of the request on line
// with id, before any counter.
func payloadName(line int, id string) string {
	var b strings.Builder
	b.WriteString("line-")
	b.WriteString(strconv.Itoa(line))
	if id != "" {
		b.WriteByte('-')
		for i := 0; i < len(id) && i < maxIDInName; i++ {
			switch c := id[i]; {
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
				b.WriteByte(c)
			default:
				b.WriteByte('_')
			}
		}
	}
	return b.String()
}

// writerFor returns the PayloadWriter of the request with the given index,
// from the given line, with the given id.
func (d *payloadDir) writerFor(index, line int, id string) func(lambdafan.Result) (io.Writer, error) {
	return func(lambdafan.Result) (io.Writer, error) {
		d.mu.Lock()
		pf := d.open[index]
		d.mu.Unlock()
		if pf != nil {
			// Another attempt (--retry-unsafe after a stream cut short):
			// its payload replaces the last one's, in the same file.
			return pf, pf.restart()
		}
		pf, err := d.create(payloadName(line, id))
		if err != nil {
			return nil, err
		}
		d.mu.Lock()
		d.open[index] = pf
		d.mu.Unlock()
		return pf, nil
	}
}

// create makes a new file for a payload, under base's name or, when that
// is taken, the first free one with a counter. It never opens a file that
// exists.
func (d *payloadDir) create(base string) (*payloadFile, error) {
	for n := 1; ; n++ {
		name := base + payloadExt
		if n > 1 {
			name = base + "." + strconv.Itoa(n) + payloadExt
		}
		path := filepath.Join(d.dir, name)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		switch {
		case err == nil:
			return &payloadFile{f: f, path: path, sum: sha256.New()}, nil
		case !errors.Is(err, fs.ErrExist) || n >= 1000:
			return nil, err
		}
	}
}

// finish closes the payload file of the request with the given index, if
// it has one, and returns what its result line says of it. A file that
// could not be written whole makes r's error, if it had none, say so.
func (d *payloadDir) finish(index int, r *lambdafan.Result) *jsonl.PayloadFile {
	d.mu.Lock()
	pf := d.open[index]
	delete(d.open, index)
	d.mu.Unlock()
	if pf == nil {
		return nil
	}
	if err := pf.f.Close(); err != nil && r.Err == nil {
		r.Err = &lambdafan.TransportError{Sent: true, Err: fmt.Errorf("%w: %w", lambdafan.ErrPayloadWrite, err)}
	}
	out := &jsonl.PayloadFile{Path: pf.path, Size: pf.size}
	pf.sum.Sum(out.SHA256[:0])
	return out
}

// result is finish, for the payloadSink interface: a file needs nothing
// more once its result line is written.
func (d *payloadDir) result(index int, r *lambdafan.Result) (*jsonl.PayloadFile, func()) {
	return d.finish(index, r), func() {}
}

// close closes the files of requests that got no result (the run was
// aborted).
func (d *payloadDir) close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []error
	for i, pf := range d.open {
		errs = append(errs, pf.f.Close())
		delete(d.open, i)
	}
	return errors.Join(errs...)
}

// payloadFile is one payload being written: the file, and the size and
// SHA-256 of what it received. Writes come from one attempt at a time.
type payloadFile struct {
	f    *os.File
	path string
	sum  hash.Hash
	size int64
}

func (pf *payloadFile) Write(p []byte) (int, error) {
	n, err := pf.f.Write(p)
	pf.sum.Write(p[:n])
	pf.size += int64(n)
	return n, err
}

// restart empties the file for another attempt's payload.
func (pf *payloadFile) restart() error {
	if err := pf.f.Truncate(0); err != nil {
		return err
	}
	if _, err := pf.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	pf.sum.Reset()
	pf.size = 0
	return nil
}
