package retention

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// archive is one run's archive file: JSON lines, one removed row each, as
// {"table":"acs_transactions","row":{"acs_trans_id":"…",…}}. Values are the stored ones: a sealed
// PAN stays sealed, and the file holds nothing the store did not. Times are RFC 3339 in UTC.
type archive struct {
	path string
	f    *os.File
	// size is the length of what committed batches wrote: a batch whose transaction is retried or
	// fails is cut off back to it.
	size, pending int64
	closed        bool
}

// createArchive makes the run's file, named for the role and the run's start, which no other file
// may have: a second run within the same second gets a numbered name. The file is readable by its
// owner only, and the directory entry is synced so that the file outlives a crash.
func createArchive(dir, role string, start time.Time) (*archive, error) {
	base := fmt.Sprintf("open3ds-retention-%s-%s", role, start.UTC().Format("20060102T150405Z"))
	for i := 1; i < 100; i++ {
		name := base + ".jsonl"
		if i > 1 {
			name = fmt.Sprintf("%s-%d.jsonl", base, i)
		}
		path := filepath.Join(dir, name)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("retention: creating the archive: %w", err)
		}
		if err := syncDir(dir); err != nil {
			f.Close()
			return nil, err
		}
		return &archive{path: path, f: f}, nil
	}
	return nil, fmt.Errorf("retention: creating the archive: too many archives named %s", base)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("retention: syncing the archive directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("retention: syncing the archive directory: %w", err)
	}
	return nil
}

type line struct {
	Table string         `json:"table"`
	Row   map[string]any `json:"row"`
}

// write appends a batch's rows and syncs them to disk: only then may the batch's delete run.
func (a *archive) write(table string, names []string, rows [][]any) error {
	var buf []byte
	for _, vals := range rows {
		row := make(map[string]any, len(names))
		for i, name := range names {
			row[name] = jsonValue(vals[i])
		}
		b, err := json.Marshal(line{Table: table, Row: row})
		if err != nil {
			return fmt.Errorf("retention: encoding an archived row: %w", err)
		}
		buf = append(append(buf, b...), '\n')
	}
	if _, err := a.f.Write(buf); err != nil {
		return fmt.Errorf("retention: writing the archive: %w", err)
	}
	if err := a.f.Sync(); err != nil {
		return fmt.Errorf("retention: syncing the archive: %w", err)
	}
	a.pending = int64(len(buf))
	return nil
}

// jsonValue gives a stored value its JSON form: text as text (drivers may hand it over as bytes),
// times in UTC.
func jsonValue(v any) any {
	switch v := v.(type) {
	case []byte:
		return string(v)
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	}
	return v
}

// rewind drops what an uncommitted batch wrote.
func (a *archive) rewind() error {
	a.pending = 0
	if err := a.f.Truncate(a.size); err != nil {
		return fmt.Errorf("retention: cutting the archive back: %w", err)
	}
	if _, err := a.f.Seek(a.size, 0); err != nil {
		return fmt.Errorf("retention: cutting the archive back: %w", err)
	}
	return nil
}

// committed keeps the last batch: its delete committed.
func (a *archive) committed() { a.size += a.pending; a.pending = 0 }

// close cuts off a batch that never committed and closes the file; closing twice does nothing.
func (a *archive) close() error {
	if a.closed {
		return nil
	}
	a.closed = true
	err := a.rewind()
	if serr := a.f.Sync(); err == nil && serr != nil {
		err = fmt.Errorf("retention: syncing the archive: %w", serr)
	}
	if cerr := a.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("retention: closing the archive: %w", cerr)
	}
	return err
}
