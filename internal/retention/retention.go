// Package retention removes, or archives then removes, the transactions and protocol messages a
// role's store holds once they are older than a configured age (issue 17). Each role package says
// which of its tables hold such rows and which rows belong to a finished transaction (a Spec); this
// package runs the removal in bounded batches, writes the archive, counts what it removed, and
// makes sure that among every instance sharing the store one run happens per period (a job lease
// in the store, see store.ClaimJob).
//
// Rows of a transaction still in progress are never selected, whatever their age: that rule lives
// in each table's Where, written by the role that knows what "in progress" means for it.
package retention

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/store"
)

// Table is one table a role's retention removes rows from.
type Table struct {
	// Name is the table's name in the store.
	Name string
	// Key names the columns that identify a row, the primary key or, for a table without one, every
	// column that tells its rows apart.
	Key []string
	// Where selects the rows to remove: an SQL condition on the table, which it names by the alias
	// r, with ? placeholders for Args. It must leave out every row of a transaction in progress.
	Where string
	// Args gives Where's arguments for one run.
	Args func(Cutoff) []any
}

// Cutoff is what one run removes by: rows about transactions begun before Before, judged at Now.
type Cutoff struct {
	Before time.Time
	Now    time.Time
}

// Spec is a role's retention: its name (ds, acs, 3dss) and its tables, in the order they are purged
// (rows that point at a transaction before the transaction's own row).
type Spec struct {
	Role   string
	Tables []Table
}

// Options tune a Job. MaxAge is required.
type Options struct {
	// MaxAge is how old a transaction must be for its rows to go.
	MaxAge time.Duration
	// ArchiveDir, when set, is the directory each run writes its archive file into before deleting.
	ArchiveDir string
	// DryRun counts what a run would remove and removes nothing.
	DryRun bool
	// BatchSize bounds the rows one database transaction removes (default 500), so that a large
	// purge never holds a lock for long.
	BatchSize int
	// LeaseTTL is how long a claimed run is held without renewal (default 5 minutes); each batch
	// renews it, so only a holder that stopped loses it.
	LeaseTTL time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log gets one line per run; nil logs nothing.
	Log *slog.Logger
	// Metrics counts removed rows and the last good run; nil counts nothing.
	Metrics *Metrics
}

// Job runs one role's retention on one store.
type Job struct {
	db     *store.DB
	spec   Spec
	opt    Options
	holder string
}

// ErrBusy is returned by RunNow while another instance holds the run's lease.
var ErrBusy = errors.New("retention: another instance is running this role's retention now")

// New checks the options and makes a job. Its errors name the option at fault.
func New(db *store.DB, spec Spec, opt Options) (*Job, error) {
	switch {
	case spec.Role == "" || len(spec.Tables) == 0:
		return nil, errors.New("retention: a spec needs a role and its tables")
	case opt.MaxAge <= 0:
		return nil, errors.New("retention: the maximum age must be positive")
	case opt.BatchSize < 0:
		return nil, errors.New("retention: the batch size must not be negative")
	}
	if opt.ArchiveDir != "" {
		if err := checkDir(opt.ArchiveDir); err != nil {
			return nil, err
		}
	}
	if opt.BatchSize == 0 {
		opt.BatchSize = 500
	}
	if opt.LeaseTTL <= 0 {
		opt.LeaseTTL = 5 * time.Minute
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Job{db: db, spec: spec, opt: opt, holder: holderID()}, nil
}

// checkDir says whether dir is a directory a run can write its archive into.
func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("retention: archive directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("retention: archive directory %s is not a directory", dir)
	}
	return nil
}

// holderID names this instance in the lease: the host, the process and a random part, so that two
// jobs of one process (the demo) are told apart too.
func holderID() string {
	host, _ := os.Hostname()
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// leaseName is the job_leases row of a role's retention.
func (j *Job) leaseName() string { return "retention:" + j.spec.Role }

// RunDue runs the role's retention if its run for this period is due and no other instance holds
// it; ran says whether this call ran it. A good run makes the next one due interval after it
// began; a failed one leaves the run due, for the next claim to try again.
func (j *Job) RunDue(ctx context.Context, interval time.Duration) (r Report, ran bool, err error) {
	start := j.opt.Now()
	won, err := j.db.ClaimJob(ctx, j.leaseName(), j.holder, start, j.opt.LeaseTTL, false)
	if err != nil || !won {
		return Report{}, false, err
	}
	r, err = j.runHeld(ctx, start, start.Add(interval))
	return r, true, err
}

// RunNow runs the role's retention at once, whatever the schedule, unless another instance is
// running it (ErrBusy); it leaves the schedule as it was. A dry run takes no lease, as it changes
// nothing.
func (j *Job) RunNow(ctx context.Context) (Report, error) {
	start := j.opt.Now()
	if j.opt.DryRun {
		r, err := j.run(ctx, start)
		j.done(r, err, start)
		return r, err
	}
	won, err := j.db.ClaimJob(ctx, j.leaseName(), j.holder, start, j.opt.LeaseTTL, true)
	if err != nil {
		return Report{}, err
	}
	if !won {
		return Report{}, ErrBusy
	}
	return j.runHeld(ctx, start, time.Time{})
}

// runHeld runs with the lease held and gives it back: finished, with the next run due at next (zero:
// unchanged), or released after a failure.
func (j *Job) runHeld(ctx context.Context, start, next time.Time) (Report, error) {
	r, err := j.run(ctx, start)
	// The lease is given back even when ctx ended (a shutdown mid-run), so that another instance
	// need not wait for it to lapse.
	bg := context.WithoutCancel(ctx)
	if err == nil {
		err = j.db.FinishJob(bg, j.leaseName(), j.holder, j.opt.Now(), next)
	} else if rerr := j.db.ReleaseJob(bg, j.leaseName(), j.holder, j.opt.Now()); rerr != nil {
		err = errors.Join(err, rerr)
	}
	j.done(r, err, start)
	return r, err
}

// Loop runs the role's retention whenever it is due until ctx ends: every instance asks, at most a
// few minutes apart, and the lease lets one of them run it each interval. Failures are logged and
// tried again at the next ask.
func (j *Job) Loop(ctx context.Context, interval time.Duration) {
	ask := min(interval, 5*time.Minute)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, _, err := j.RunDue(ctx, interval); err != nil && ctx.Err() == nil && j.opt.Log != nil {
			j.opt.Log.Warn("retention run did not complete", "role", j.spec.Role, "err", err)
		}
		t.Reset(ask)
	}
}

// done logs a run and counts it.
func (j *Job) done(r Report, err error, start time.Time) {
	if err != nil {
		if j.opt.Log != nil {
			j.opt.Log.Error("retention run failed", "role", j.spec.Role, "mode", r.Mode, "removed", r.Total, "err", err)
		}
		return
	}
	if !j.opt.DryRun {
		j.opt.Metrics.succeeded(j.opt.Now())
	}
	if j.opt.Log != nil {
		// The counts go as one text, "table n, …", in the spec's order: as attribute keys, or as
		// table=n in text, a name such as acs_otp_failures would read to the log's redaction as
		// naming a secret, and the count would be hidden.
		counts := make([]string, 0, len(r.Rows))
		for _, t := range j.spec.Tables {
			counts = append(counts, fmt.Sprintf("%s %d", t.Name, r.Rows[t.Name]))
		}
		j.opt.Log.Info("retention run", "role", j.spec.Role, "mode", r.Mode, "olderThan", r.OlderThan,
			"cutoff", r.Cutoff, "archive", r.Archive, "removed", r.Total, "rows", strings.Join(counts, ", "),
			"took", j.opt.Now().Sub(start).Round(time.Millisecond).String())
	}
}

// ParseAge reads a maximum age as an operator writes it: whole days ("90d", as `open3ds risk prune`
// takes them) or a Go duration ("2160h").
func ParseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > 36600 {
			return 0, fmt.Errorf("%q: give days as a whole number, e.g. 90d", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q: give an age such as 90d or 2160h", s)
	}
	return d, nil
}
