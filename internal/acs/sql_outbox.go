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
	return s.db.WithGroupTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
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
		// A transaction that fell back to decoupled already has its interim RReq D here: the final
		// RReq replaces it (seq + 1), sent or not. While a sender is still sending the interim one
		// (leased), the row stays leased to it, so the final RReq cannot overtake it; the sender's
		// RReqSent or RReqFailed then finds seq moved on and frees the row at once.
		_, err = tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO acs_rreq_outbox (acs_trans_id, url, body, attempts, next_attempt_at,
			lease_owner, lease_until, last_error, results_status, sent_at, created_at, seq, interim)
			VALUES (?, ?, ?, 0, ?, '', ?, '', '', NULL, ?, 1, 0)
			ON CONFLICT (acs_trans_id) DO UPDATE SET url = excluded.url, body = excluded.body, attempts = 0,
				next_attempt_at = excluded.next_attempt_at,
				lease_until = CASE WHEN acs_rreq_outbox.sent_at IS NULL AND acs_rreq_outbox.lease_owner <> ''
					THEN acs_rreq_outbox.lease_until ELSE excluded.lease_until END,
				last_error = '', results_status = '', sent_at = NULL, seq = acs_rreq_outbox.seq + 1, interim = 0
			WHERE acs_rreq_outbox.interim = 1`), end.ACSTransID, row.URL, string(row.Body),
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
	err := s.db.WithGroupTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
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

const outboxCols = `acs_trans_id, url, body, attempts, next_attempt_at, last_error, results_status, sent_at, seq, interim, lease_owner`

func scanOutbox(scan func(...any) error) (OutboxRow, error) {
	var r OutboxRow
	var body string
	var sent sql.Null[store.Time]
	var interim int
	err := scan(&r.ACSTransID, &r.URL, &body, &r.Attempts, (*store.Time)(&r.NextAttemptAt), &r.LastError, &r.ResultsStatus, &sent,
		&r.Seq, &interim, &r.LeaseOwner)
	r.Body, r.Interim = []byte(body), interim == 1
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
func (s *SQLStore) RReqSent(ctx context.Context, row OutboxRow, resultsStatus string, now time.Time) error {
	return s.db.WithGroupTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE acs_rreq_outbox SET sent_at = ?, results_status = ?,
			attempts = attempts + 1, lease_owner = '' WHERE acs_trans_id = ? AND seq = ? AND sent_at IS NULL`),
			store.Time(now), resultsStatus, row.ACSTransID, row.Seq)
		if err != nil {
			return err
		}
		return s.freeSuperseded(ctx, tx, res, row)
	})
}

func (s *SQLStore) RReqFailed(ctx context.Context, row OutboxRow, why string, next time.Time) error {
	if len(why) > 500 {
		why = why[:500]
	}
	return s.db.WithGroupTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE acs_rreq_outbox SET attempts = attempts + 1, last_error = ?,
			next_attempt_at = ?, lease_until = ?, lease_owner = '' WHERE acs_trans_id = ? AND seq = ? AND sent_at IS NULL`),
			why, store.Time(next), store.Time(next), row.ACSTransID, row.Seq)
		if err != nil {
			return err
		}
		// The retry time was the interim RReq's: a final one that replaced it is due now.
		return s.freeSuperseded(ctx, tx, res, row)
	})
}

// freeSuperseded ends the lease of a row whose interim RReq a final one replaced while row's
// sender was sending it (res changed nothing): the final RReq is due at once. The lease must still be row's, so that a sender that took the row over after the lease
// ran out keeps it.
func (s *SQLStore) freeSuperseded(ctx context.Context, tx *sql.Tx, res sql.Result, row OutboxRow) error {
	if n, _ := res.RowsAffected(); n > 0 || row.LeaseOwner == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE acs_rreq_outbox SET lease_owner = '', lease_until = next_attempt_at
		WHERE acs_trans_id = ? AND seq > ? AND sent_at IS NULL AND lease_owner = ?`), row.ACSTransID, row.Seq, row.LeaseOwner)
	return err
}
