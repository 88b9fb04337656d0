package acs

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/open3ds/open3ds/internal/store"
)

func (s *SQLStore) EndTransaction(ctx context.Context, end Ended, row OutboxRow) error {
	var otpState []byte
	if end.Challenge != nil {
		var err error
		if otpState, err = json.Marshal(end.Challenge.OTP); err != nil {
			return err
		}
	}
	return s.db.WithTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE acs_transactions SET trans_status = ?, trans_status_reason = ?,
			eci = ?, authentication_value = ?, challenge_failed = ?, ended_at = ?
			WHERE acs_trans_id = ? AND ended_at IS NULL`), end.TransStatus, end.Reason, end.ECI, end.AuthValue,
			boolInt(end.ChallengeFailed), store.Time(end.At), end.ACSTransID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var one int
			if err := tx.QueryRowContext(ctx, s.db.Rebind(`SELECT 1 FROM acs_transactions WHERE acs_trans_id = ?`), end.ACSTransID).Scan(&one); err != nil {
				return err
			}
			return fmt.Errorf("%w: the authentication has already ended", store.ErrConflict)
		}
		_, err = tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO acs_rreq_outbox (acs_trans_id, url, body, attempts, next_attempt_at,
			lease_owner, lease_until, last_error, results_status, sent_at, created_at)
			VALUES (?, ?, ?, 0, ?, '', ?, '', '', NULL, ?)`), end.ACSTransID, row.URL, string(row.Body),
			store.Time(end.At), store.Time(end.At), store.Time(end.At))
		if err != nil || end.Challenge == nil {
			return err
		}
		return s.updateChallengeTx(ctx, tx, *end.Challenge, otpState)
	})
}

// LeaseRReqs claims due rows in one statement. The lease condition is checked again by the UPDATE
// itself, so that of two senders racing for a row (on PostgreSQL) only one gets it.
func (s *SQLStore) LeaseRReqs(ctx context.Context, owner string, now time.Time, lease time.Duration, n int) ([]OutboxRow, error) {
	until := now.Add(lease)
	// Each call leases under a token of its own, so that it reads back exactly the rows it took.
	token := owner + "/" + newID("")
	// PostgreSQL skips rows another sender is leasing this instant instead of waiting for them and
	// coming back empty-handed; SQLite has one writer, so there is nothing to skip.
	skip := ""
	if s.db.Dialect() == store.Postgres {
		skip = " FOR UPDATE SKIP LOCKED"
	}
	err := s.db.WithTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE acs_rreq_outbox SET lease_owner = ?, lease_until = ?
			WHERE sent_at IS NULL AND next_attempt_at <= ? AND lease_until <= ? AND acs_trans_id IN (
				SELECT acs_trans_id FROM acs_rreq_outbox WHERE sent_at IS NULL AND next_attempt_at <= ? AND lease_until <= ?
				ORDER BY next_attempt_at LIMIT ?`+skip+`)`),
			token, store.Time(until), store.Time(now), store.Time(now), store.Time(now), store.Time(now), n)
		return err
	})
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Reader().QueryContext(ctx, s.db.Rebind(`SELECT `+outboxCols+` FROM acs_rreq_outbox
		WHERE lease_owner = ? AND sent_at IS NULL ORDER BY next_attempt_at`), token)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []OutboxRow
	for rows.Next() {
		r, err := scanOutbox(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

const outboxCols = `acs_trans_id, url, body, attempts, next_attempt_at, last_error, results_status, sent_at`

func scanOutbox(scan func(...any) error) (OutboxRow, error) {
	var r OutboxRow
	var body string
	var sent sql.Null[store.Time]
	err := scan(&r.ACSTransID, &r.URL, &body, &r.Attempts, (*store.Time)(&r.NextAttemptAt), &r.LastError, &r.ResultsStatus, &sent)
	r.Body = []byte(body)
	if sent.Valid {
		r.SentAt = time.Time(sent.V)
	}
	return r, err
}

func (s *SQLStore) Outbox(ctx context.Context, id string) (OutboxRow, error) {
	row := s.db.Reader().QueryRowContext(ctx, s.db.Rebind(`SELECT `+outboxCols+` FROM acs_rreq_outbox WHERE acs_trans_id = ?`), id)
	r, err := scanOutbox(row.Scan)
	return r, store.MapError(err)
}

// RReqSent is harmless to repeat: a row already sent keeps its first delivery time.
func (s *SQLStore) RReqSent(ctx context.Context, id, resultsStatus string, now time.Time) error {
	return s.db.WithTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE acs_rreq_outbox SET sent_at = ?, results_status = ?,
			attempts = attempts + 1, lease_owner = '' WHERE acs_trans_id = ? AND sent_at IS NULL`), store.Time(now), resultsStatus, id)
		return err
	})
}

func (s *SQLStore) RReqFailed(ctx context.Context, id, why string, next time.Time) error {
	if len(why) > 500 {
		why = why[:500]
	}
	return s.db.WithTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE acs_rreq_outbox SET attempts = attempts + 1, last_error = ?,
			next_attempt_at = ?, lease_until = ?, lease_owner = '' WHERE acs_trans_id = ? AND sent_at IS NULL`),
			why, store.Time(next), store.Time(next), id)
		return err
	})
}
