package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// A job lease lets a job that any instance may run (the retention purge) run once per period
// across every instance sharing the store. The row of a job (job_leases) says who holds it and
// until when, and when the next run is due. ClaimJob takes it by one conditional UPDATE, so of many
// instances claiming at the same moment exactly one gets it; FinishJob moves the due time on, so
// the others find nothing due until the next period; a holder that dies keeps the lease only until
// lease_until, after which the run is due again for whoever claims first.

// neverRun is the due time and lease expiry of a job's first row: long past, so the first claim
// wins. Year 1 is valid in both back ends' time types.
var neverRun = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)

// ClaimJob claims the lease of the named job for holder until now+ttl, if no other holder's lease
// is running and the job's next run is due at now (or force is set: a run asked for by hand, which
// still waits for a lease another holder has). It reports whether holder got it. The first claim of
// a job creates its row. It returns ErrInvalid for an empty name or holder or a ttl not positive.
func (db *DB) ClaimJob(ctx context.Context, name, holder string, now time.Time, ttl time.Duration, force bool) (bool, error) {
	if name == "" || holder == "" || ttl <= 0 {
		return false, fmt.Errorf("%w: a job lease needs a name, a holder and a positive duration", ErrInvalid)
	}
	due := ` AND next_due <= ?`
	args := []any{holder, Time(now.Add(ttl)), name, Time(now), Time(now)}
	if force {
		due, args = "", args[:4]
	}
	won := false
	err := db.WithTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO job_leases (name, holder, lease_until, next_due)
			VALUES (?, '', ?, ?) ON CONFLICT (name) DO NOTHING`), name, Time(neverRun), Time(neverRun)); err != nil {
			return err
		}
		// The conditions sit in the UPDATE itself: PostgreSQL re-checks them on the row once a
		// concurrent claimer's update commits, and SQLite runs one writer at a time, so two claimers
		// can never both see the lease free.
		res, err := tx.ExecContext(ctx, db.Rebind(`UPDATE job_leases SET holder = ?, lease_until = ?
			WHERE name = ? AND (holder = '' OR lease_until <= ?)`+due), args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		won = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: claim job %s: %w", name, err)
	}
	return won, nil
}

// RenewJob extends holder's lease of the job to now+ttl, for a run that takes longer than one lease.
// It returns ErrNotFound when holder no longer holds the lease (it ran out and another took it):
// the run must then stop, since another instance is doing it.
func (db *DB) RenewJob(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) error {
	return db.leaseUpdate(ctx, "renew", `UPDATE job_leases SET lease_until = ?
		WHERE name = ? AND holder = ? AND lease_until > ?`, Time(now.Add(ttl)), name, holder, Time(now))
}

// FinishJob ends holder's successful run: the lease is freed, the run is recorded as done at now and
// the next one is due at next. A zero next leaves the due time as it was (a run by hand does not move
// the schedule). It returns ErrNotFound when holder no longer holds the lease.
func (db *DB) FinishJob(ctx context.Context, name, holder string, now, next time.Time) error {
	if next.IsZero() {
		return db.leaseUpdate(ctx, "finish", `UPDATE job_leases SET holder = '', lease_until = ?, last_run_at = ?
			WHERE name = ? AND holder = ?`, Time(now), Time(now), name, holder)
	}
	return db.leaseUpdate(ctx, "finish", `UPDATE job_leases SET holder = '', lease_until = ?, last_run_at = ?, next_due = ?
		WHERE name = ? AND holder = ?`, Time(now), Time(now), Time(next), name, holder)
}

// ReleaseJob frees holder's lease after a failed run, leaving the run due, so that the next claim
// (this instance's or another's) tries again. Releasing a lease holder no longer has does nothing.
func (db *DB) ReleaseJob(ctx context.Context, name, holder string, now time.Time) error {
	err := db.leaseUpdate(ctx, "release", `UPDATE job_leases SET holder = '', lease_until = ?
		WHERE name = ? AND holder = ?`, Time(now), name, holder)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// JobLastRun returns when the job last finished a run, and the zero time when it never has.
func (db *DB) JobLastRun(ctx context.Context, name string) (time.Time, error) {
	var last sql.Null[Time]
	err := db.read.QueryRowContext(ctx, db.Rebind(`SELECT last_run_at FROM job_leases WHERE name = ?`), name).Scan(&last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, fmt.Errorf("store: read job %s: %w", name, MapError(err))
	}
	return time.Time(last.V), nil
}

func (db *DB) leaseUpdate(ctx context.Context, what, query string, args ...any) error {
	var n int64
	err := db.WithTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.Rebind(query), args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err == nil && n == 0 {
		err = fmt.Errorf("%w: the lease is no longer held", ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: %s job lease: %w", what, err)
	}
	return nil
}
