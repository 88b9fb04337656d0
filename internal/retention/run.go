package retention

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/store"
)

// Report says what one run removed (or, in a dry run, would remove).
type Report struct {
	Role string `json:"role"`
	// Mode is purge, archive or dry-run.
	Mode      string    `json:"mode"`
	OlderThan string    `json:"olderThan"`
	Cutoff    time.Time `json:"cutoff"`
	// Archive is the file the run's rows were written to, in archive mode.
	Archive string `json:"archive,omitempty"`
	// Rows counts the rows removed per table, every table of the role named.
	Rows  map[string]int64 `json:"rows"`
	Total int64            `json:"total"`
}

func (j *Job) mode() string {
	switch {
	case j.opt.DryRun:
		return "dry-run"
	case j.opt.ArchiveDir != "":
		return "archive"
	}
	return "purge"
}

// run removes every table's rows older than the cutoff, table by table in the spec's order, each in
// batches of one database transaction.
func (j *Job) run(ctx context.Context, start time.Time) (Report, error) {
	c := Cutoff{Before: start.Add(-j.opt.MaxAge), Now: start}
	r := Report{Role: j.spec.Role, Mode: j.mode(), OlderThan: j.opt.MaxAge.String(), Cutoff: c.Before.UTC(),
		Rows: make(map[string]int64, len(j.spec.Tables))}
	var arch *archive
	if r.Mode == "archive" {
		var err error
		if arch, err = createArchive(j.opt.ArchiveDir, j.spec.Role, start); err != nil {
			return r, err
		}
		defer arch.close()
		r.Archive = arch.path
	}
	for _, t := range j.spec.Tables {
		r.Rows[t.Name] = 0
	}
	for _, t := range j.spec.Tables {
		var n int64
		var err error
		if j.opt.DryRun {
			n, err = j.count(ctx, t, c)
		} else {
			n, err = j.purge(ctx, t, c, arch)
		}
		r.Rows[t.Name] += n
		r.Total += n
		if err != nil {
			return r, fmt.Errorf("retention: %s: %w", t.Name, err)
		}
	}
	if arch != nil {
		if err := arch.close(); err != nil {
			return r, err
		}
	}
	return r, nil
}

func (j *Job) count(ctx context.Context, t Table, c Cutoff) (int64, error) {
	var n int64
	err := j.db.Reader().QueryRowContext(ctx, j.db.Rebind(`SELECT count(*) FROM `+t.Name+` r WHERE `+t.Where),
		t.Args(c)...).Scan(&n)
	return n, store.MapError(err)
}

// purge removes t's rows batch by batch until a batch comes back short, renewing the lease after
// each batch when the run holds one.
func (j *Job) purge(ctx context.Context, t Table, c Cutoff, arch *archive) (int64, error) {
	var total int64
	for {
		n, err := j.batch(ctx, t, c, arch)
		total += n
		if n > 0 {
			j.opt.Metrics.removed(t.Name, j.mode(), n)
		}
		if err != nil || n < int64(j.opt.BatchSize) {
			return total, err
		}
		if err := j.renew(ctx); err != nil {
			return total, err
		}
	}
}

// renew extends the lease, if this run holds one (a dry run holds none and never gets here).
func (j *Job) renew(ctx context.Context) error {
	return j.db.RenewJob(ctx, j.leaseName(), j.holder, j.opt.Now(), j.opt.LeaseTTL)
}

// batch removes at most BatchSize of t's rows in one database transaction. In archive mode the
// rows are read whole, written to the archive and synced to disk before they are deleted, all while
// the transaction holds them (PostgreSQL locks them; SQLite has one writer), so that the archive
// holds exactly the rows the commit deletes. A retried transaction first cuts the archive back to
// where it stood.
func (j *Job) batch(ctx context.Context, t Table, c Cutoff, arch *archive) (int64, error) {
	keys := make([]string, len(t.Key))
	for i, k := range t.Key {
		keys[i] = "r." + k + " AS " + k
	}
	cols := strings.Join(keys, ", ")
	if arch != nil {
		cols = "r.*"
	}
	lock := ""
	if j.db.Dialect() == store.Postgres {
		lock = " FOR UPDATE OF r"
	}
	query := j.db.Rebind(`SELECT ` + cols + ` FROM ` + t.Name + ` r WHERE ` + t.Where +
		` LIMIT ` + fmt.Sprint(j.opt.BatchSize) + lock)
	var n int64
	err := j.db.WithTx(ctx, func(tx *sql.Tx) error {
		n = 0
		if arch != nil {
			if err := arch.rewind(); err != nil {
				return err
			}
		}
		names, rows, err := readRows(ctx, tx, query, t.Args(c))
		if err != nil || len(rows) == 0 {
			return err
		}
		if arch != nil {
			if err := arch.write(t.Name, names, rows); err != nil {
				return err
			}
		}
		del, args, err := deleteByKey(t, names, rows)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, j.db.Rebind(del), args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err == nil && arch != nil {
		arch.committed()
	}
	if err != nil {
		return 0, err
	}
	return n, nil
}

// readRows reads a batch whole, each value as the driver gives it.
func readRows(ctx context.Context, tx *sql.Tx, query string, args []any) ([]string, [][]any, error) {
	rs, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rs.Close()
	names, err := rs.Columns()
	if err != nil {
		return nil, nil, err
	}
	var rows [][]any
	for rs.Next() {
		vals := make([]any, len(names))
		ptrs := make([]any, len(names))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, nil, err
		}
		rows = append(rows, vals)
	}
	return names, rows, rs.Err()
}

// deleteByKey deletes exactly the rows read: by their key values, which go back to the database as
// they came from it.
func deleteByKey(t Table, names []string, rows [][]any) (string, []any, error) {
	idx := make([]int, len(t.Key))
	for k, col := range t.Key {
		idx[k] = -1
		for i, name := range names {
			if name == col {
				idx[k] = i
			}
		}
		if idx[k] < 0 {
			return "", nil, fmt.Errorf("key column %s not read", col)
		}
	}
	var b strings.Builder
	args := make([]any, 0, len(rows)*len(t.Key))
	b.WriteString("DELETE FROM " + t.Name + " WHERE ")
	if len(t.Key) == 1 {
		b.WriteString(t.Key[0] + " IN (")
		for i, row := range rows {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("?")
			args = append(args, row[idx[0]])
		}
		b.WriteString(")")
		return b.String(), args, nil
	}
	// A composite key is matched column by column: row values compared with a list of parameters
	// would leave PostgreSQL to guess each parameter's type.
	for i, row := range rows {
		if i > 0 {
			b.WriteString(" OR ")
		}
		b.WriteString("(")
		for k, col := range t.Key {
			if k > 0 {
				b.WriteString(" AND ")
			}
			b.WriteString(col + " = ?")
			args = append(args, row[idx[k]])
		}
		b.WriteString(")")
	}
	return b.String(), args, nil
}
