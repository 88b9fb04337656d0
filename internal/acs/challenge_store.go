package acs

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/otp"
	"github.com/open3ds/open3ds/internal/store"
)

// Challenge steps, in the order a shopper meets them. A challenge is "waiting" from the ARes until
// the first CReq arrives.
const (
	StepWaiting = "waiting"
	StepChoose  = "choose"
	StepCode    = "code"
	StepDone    = "done"
)

// ChallengeRow is one browser challenge as stored between pages. Everything the next page needs is
// here or in the transaction, so any ACS instance can serve it.
type ChallengeRow struct {
	ACSTransID      string
	NotificationURL string
	BrowserLanguage string
	MerchantName    string
	Exponent        int
	Step            string
	// Token is a random value every page form carries: a post must show it to act on the challenge.
	Token       string
	SessionData string
	WindowSize  string
	// Channel and DestIndex name the destination the shopper chose among the cardholder's.
	Channel   string
	DestIndex int
	OTP       otp.State
	// MessageID is the notify queue's id of the latest code sent, for its delivery status.
	MessageID string
	// Result is the final transStatus (Y or N) once the step is done. Before that, a judged entry
	// that ends the challenge records the end it is owed here (pendingEnd), in the judgement's own
	// commit, so that the end survives an instance that stops before it finishes the authentication.
	Result string
	// Version increases with every update, so two instances cannot both act on one page.
	Version      int
	AResAt       time.Time
	LastActivity time.Time
	// DecoupledWithin is how long the cardholder may take in the bank's app if they move this
	// challenge there (2.3.1, threeDSRequestorDecReqInd F or B, an issuer that offers decoupled);
	// zero when they may not. It is fixed at the ARes.
	DecoupledWithin time.Duration
}

// ChallengeStore keeps browser challenges and the card-lock failure count. SQLStore implements it.
// Service.Authenticate opens a challenge row through Store.RecordAReq, with its transaction.
type ChallengeStore interface {
	// ChallengeWithTransaction reads a challenge and its transaction together: every page needs both.
	ChallengeWithTransaction(ctx context.Context, acsTransID string) (ChallengeRow, Transaction, error)
	// UpdateChallenge writes c if nobody updated the row since c was read (c.Version), and returns
	// store.ErrConflict otherwise.
	UpdateChallenge(ctx context.Context, c ChallengeRow) error
	// StaleChallenges lists challenges whose first CReq is later than firstCReq after the ARes, or
	// whose shopper has been idle since before idle.
	StaleChallenges(ctx context.Context, firstCReq, idle time.Time, limit int) ([]ChallengeRow, error)
	// UpdateDeviceData replaces the device key and data the 3DS Method stored for a transaction
	// with what its script found; ErrNotFound when the method never reached the server.
	UpdateDeviceData(ctx context.Context, threeDSServerTransID, deviceKey, data string) error
	// JudgeEntry judges one code entry under lock: it holds the challenge's row and the card's
	// failure count against every other entry (on this instance or another) until it commits,
	// hands judge the challenge as stored and the card's failed entries since since, and writes
	// the challenge judge returns, with a failure for the card when judge says the entry counts
	// against it, in the same commit. So N entries at once are judged one after the other, each
	// seeing the attempts the ones before it spent. It returns the challenge as written,
	// store.ErrNotFound for an unknown challenge, or judge's own error (nothing is written then).
	JudgeEntry(ctx context.Context, acsTransID, panHash string, since time.Time, judge Judge) (ChallengeRow, error)
	// RecordOTPFailure records a failed entry for the card outside a challenge (the demo's locked
	// card is made with it).
	RecordOTPFailure(ctx context.Context, panHash string, at time.Time) error
	OTPFailures(ctx context.Context, panHash string, since time.Time) (int, error)
}

// Judge decides one code entry from the challenge as stored and the card's recent failures: it
// returns the challenge to store and whether the entry counts against the card.
type Judge func(c ChallengeRow, cardFailures int) (next ChallengeRow, cardFailure bool, err error)

const chCols = `acs_trans_id, notification_url, browser_language, merchant_name, exponent, step, token, session_data,
	window_size, channel, dest_index, otp_state, message_id, result, version, ares_at, last_activity, decoupled_within`

const insertChallenge = `INSERT INTO acs_challenges (` + chCols + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func challengeArgs(c ChallengeRow) ([]any, error) {
	st, err := json.Marshal(c.OTP)
	if err != nil {
		return nil, err
	}
	return []any{c.ACSTransID, c.NotificationURL, c.BrowserLanguage, c.MerchantName, c.Exponent, c.Step, c.Token, c.SessionData,
		c.WindowSize, c.Channel, c.DestIndex, string(st), c.MessageID, c.Result, c.Version, store.Time(c.AResAt),
		store.Time(c.LastActivity), int64(c.DecoupledWithin / time.Second)}, nil
}

func scanChallenge(scan func(...any) error) (ChallengeRow, error) {
	var c ChallengeRow
	var st string
	var within int64
	err := scan(&c.ACSTransID, &c.NotificationURL, &c.BrowserLanguage, &c.MerchantName, &c.Exponent, &c.Step, &c.Token,
		&c.SessionData, &c.WindowSize, &c.Channel, &c.DestIndex, &st, &c.MessageID, &c.Result, &c.Version,
		(*store.Time)(&c.AResAt), (*store.Time)(&c.LastActivity), &within)
	c.DecoupledWithin = time.Duration(within) * time.Second
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal([]byte(st), &c.OTP); err != nil {
		return c, fmt.Errorf("acs: challenge %s: code state: %w", c.ACSTransID, err)
	}
	return c, nil
}

// challengeWithTransaction is one query for both rows, by primary key on each side.
var challengeWithTransaction = `SELECT ` + qualified("c", chCols) + `, ` + qualified("t", txReadCols) + `
	FROM acs_challenges c JOIN acs_transactions t ON t.acs_trans_id = c.acs_trans_id WHERE c.acs_trans_id = ?`

// qualified prefixes every column of a comma-separated list with alias.
func qualified(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

func (s *SQLStore) ChallengeWithTransaction(ctx context.Context, id string) (ChallengeRow, Transaction, error) {
	row := s.db.Reader().QueryRowContext(ctx, s.db.Rebind(challengeWithTransaction), id)
	var c ChallengeRow
	// scanTransaction hands its destinations to the inner scan, which puts the challenge's before
	// them: one Scan fills both, and each scanner then finishes its own row.
	t, err := scanTransaction(func(tdest ...any) error {
		var cerr error
		c, cerr = scanChallenge(func(cdest ...any) error { return row.Scan(append(cdest, tdest...)...) })
		return cerr
	})
	if err != nil {
		return ChallengeRow{}, Transaction{}, store.MapError(err)
	}
	return c, t, nil
}

func (s *SQLStore) UpdateChallenge(ctx context.Context, c ChallengeRow) error {
	st, err := json.Marshal(c.OTP)
	if err != nil {
		return err
	}
	return s.db.WithGroupTx(ctx, func(ctx context.Context, tx *sql.Tx) error { return s.updateChallengeTx(ctx, tx, c, st) })
}

// updateChallengeTx writes c inside tx if nobody changed it since it was read; otpState is c.OTP
// encoded.
func (s *SQLStore) updateChallengeTx(ctx context.Context, tx *sql.Tx, c ChallengeRow, otpState []byte) error {
	res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE acs_challenges SET step = ?, session_data = ?, window_size = ?,
		channel = ?, dest_index = ?, otp_state = ?, message_id = ?, result = ?, version = version + 1, last_activity = ?
		WHERE acs_trans_id = ? AND version = ?`),
		c.Step, c.SessionData, c.WindowSize, c.Channel, c.DestIndex, string(otpState), c.MessageID, c.Result,
		store.Time(c.LastActivity), c.ACSTransID, c.Version)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("%w: the challenge changed since it was read", store.ErrConflict)
	}
	return nil
}

func (s *SQLStore) StaleChallenges(ctx context.Context, firstCReq, idle time.Time, limit int) ([]ChallengeRow, error) {
	rows, err := s.db.Reader().QueryContext(ctx, s.db.Rebind(`SELECT `+chCols+` FROM acs_challenges
		WHERE (step = 'waiting' AND ares_at < ?) OR (step IN ('choose', 'code') AND last_activity < ?) LIMIT ?`),
		store.Time(firstCReq), store.Time(idle), limit)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []ChallengeRow
	for rows.Next() {
		c, err := scanChallenge(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// JudgeEntry serialises entries per card. On PostgreSQL a transaction-scoped advisory lock keyed by
// the card's hash (and the schema, so that stores sharing a server keep apart) covers every challenge
// of that card (two tabs, two purchases), and the challenge
// row is read FOR UPDATE; SQLite has one writer, and its transactions begin IMMEDIATE, so the
// transaction alone holds both. The count and the new failure are read and written inside it, which
// is what keeps the card lock from overshooting when entries for one card arrive together.
func (s *SQLStore) JudgeEntry(ctx context.Context, id, panHash string, since time.Time, judge Judge) (ChallengeRow, error) {
	var out ChallengeRow
	err := s.db.WithGroupTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		lockRow := ""
		if s.db.Dialect() == store.Postgres {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('acs-card:' || coalesce(current_schema(), '') || ':' || $1, 0))`, panHash); err != nil {
				return err
			}
			lockRow = " FOR UPDATE"
		}
		c, err := scanChallenge(tx.QueryRowContext(ctx, s.db.Rebind(`SELECT `+chCols+` FROM acs_challenges
			WHERE acs_trans_id = ?`+lockRow), id).Scan)
		if err != nil {
			return store.MapError(err)
		}
		var failures int
		if err := tx.QueryRowContext(ctx, s.db.Rebind(`SELECT COUNT(*) FROM acs_otp_failures
			WHERE pan_hash = ? AND failed_at >= ?`), panHash, store.Time(since)).Scan(&failures); err != nil {
			return err
		}
		next, cardFailure, err := judge(c, failures)
		if err != nil {
			return err
		}
		next.ACSTransID, next.Version = c.ACSTransID, c.Version
		st, err := json.Marshal(next.OTP)
		if err != nil {
			return err
		}
		if err := s.updateChallengeTx(ctx, tx, next, st); err != nil {
			return err
		}
		if cardFailure {
			if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO acs_otp_failures (pan_hash, failed_at) VALUES (?, ?)`),
				panHash, store.Time(next.LastActivity)); err != nil {
				return err
			}
		}
		next.Version++
		out = next
		return nil
	})
	return out, err
}

func (s *SQLStore) RecordOTPFailure(ctx context.Context, panHash string, at time.Time) error {
	return s.db.WithGroupTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO acs_otp_failures (pan_hash, failed_at) VALUES (?, ?)`),
			panHash, store.Time(at))
		return err
	})
}

func (s *SQLStore) OTPFailures(ctx context.Context, panHash string, since time.Time) (int, error) {
	var n int
	err := s.db.Reader().QueryRowContext(ctx, s.db.Rebind(`SELECT COUNT(*) FROM acs_otp_failures
		WHERE pan_hash = ? AND failed_at >= ?`), panHash, store.Time(since)).Scan(&n)
	return n, store.MapError(err)
}

func (s *SQLStore) UpdateDeviceData(ctx context.Context, id, deviceKey, data string) error {
	return s.db.WithGroupTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE acs_device_data SET device_key = ?, data = ?
			WHERE three_ds_server_trans_id = ?`), deviceKey, data, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return store.ErrNotFound
		}
		return nil
	})
}
