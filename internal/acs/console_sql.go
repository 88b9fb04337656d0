package acs

import (
	"context"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/store"
)

// The console's reads: plain SQL over the ACS's own tables, never opening a sealed PAN.

// CardholderFind is what an operator searches cardholders by; empty fields match everything.
type CardholderFind struct {
	Issuer   string
	First6   string // the first six digits of the PAN
	Last4    string // the last four
	Ref      string // the cardholder's id
	Limit    int
	LockFrom time.Time // failed entries at or after this count towards the lock
}

// CardholderRow is a cardholder as the console lists it: masked PAN only, and the failed code
// entries that count towards the card lock.
type CardholderRow struct {
	Cardholder
	Failures int
}

// FindCardholders lists the cardholders that match f, PANs masked.
func (s *SQLStore) FindCardholders(ctx context.Context, f CardholderFind) ([]CardholderRow, error) {
	var where []string
	args := []any{store.Time(f.LockFrom)}
	if f.Issuer != "" {
		where, args = append(where, "c.issuer_id = ?"), append(args, f.Issuer)
	}
	if f.First6 != "" || f.Last4 != "" {
		// masked_pan keeps the first six and last four digits in clear, so both are a LIKE on it.
		where, args = append(where, "c.masked_pan LIKE ?"), append(args, f.First6+"%"+f.Last4)
	}
	if f.Ref != "" {
		where, args = append(where, "c.id = ?"), append(args, f.Ref)
	}
	q := `SELECT c.id, c.issuer_id, c.pan_key_id, c.masked_pan, c.expiry, c.status, c.mobiles, c.emails, c.preferred_channel,
		c.locale, c.app_ui, c.created_at, c.updated_at,
		(SELECT COUNT(*) FROM acs_otp_failures f WHERE f.pan_hash = c.pan_hash AND f.failed_at >= ?)
		FROM acs_cardholders c`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += " ORDER BY c.issuer_id, c.masked_pan, c.id LIMIT ?"
	args = append(args, limit)
	rows, err := s.db.Reader().QueryContext(ctx, s.db.Rebind(q), args...)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []CardholderRow
	for rows.Next() {
		var r CardholderRow
		c, err := scanCardholder(func(dest ...any) error { return rows.Scan(append(dest, &r.Failures)...) }, nil)
		if err != nil {
			return nil, err
		}
		r.Cardholder = c
		out = append(out, r)
	}
	return out, rows.Err()
}

// CardDevice is one device a card was used from: the device key the 3DS Method or the SDK gave,
// how often and when last.
type CardDevice struct {
	Key      string
	Channel  string
	Count    int
	LastSeen time.Time
}

// CardholderDevices lists the devices of a cardholder's transactions, most recent first.
func (s *SQLStore) CardholderDevices(ctx context.Context, cardholderID string, limit int) ([]CardDevice, error) {
	rows, err := s.db.Reader().QueryContext(ctx, s.db.Rebind(`SELECT device_key, MAX(device_channel), COUNT(*), MAX(created_at)
		FROM acs_transactions WHERE cardholder_id = ? AND device_key <> ''
		GROUP BY device_key ORDER BY MAX(created_at) DESC LIMIT ?`), cardholderID, limit)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []CardDevice
	for rows.Next() {
		var d CardDevice
		if err := rows.Scan(&d.Key, &d.Channel, &d.Count, (*store.Time)(&d.LastSeen)); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// TransactionFind filters the console's list of transactions; empty fields match everything.
type TransactionFind struct {
	// ID matches an acsTransID, a dsTransID or a threeDSServerTransID.
	ID          string
	Issuer      string
	TransStatus string
	Channel     string // deviceChannel: 01 app, 02 browser, 03 3RI
	Cardholder  string
	Day         time.Time // a UTC day; zero for any
	Limit       int
}

// FindTransactions lists the newest transactions that match f.
func (s *SQLStore) FindTransactions(ctx context.Context, f TransactionFind) ([]Transaction, error) {
	var where []string
	var args []any
	if f.ID != "" {
		where, args = append(where, "(acs_trans_id = ? OR ds_trans_id = ? OR three_ds_server_trans_id = ?)"), append(args, f.ID, f.ID, f.ID)
	}
	for _, c := range []struct{ col, v string }{{"issuer_id", f.Issuer}, {"trans_status", f.TransStatus},
		{"device_channel", f.Channel}, {"cardholder_id", f.Cardholder}} {
		if c.v != "" {
			where, args = append(where, c.col+" = ?"), append(args, c.v)
		}
	}
	if !f.Day.IsZero() {
		d := f.Day.UTC().Truncate(24 * time.Hour)
		where, args = append(where, "created_at >= ? AND created_at < ?"), append(args, store.Time(d), store.Time(d.Add(24*time.Hour)))
	}
	q := `SELECT ` + txReadCols + ` FROM acs_transactions`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	q += " ORDER BY created_at DESC, acs_trans_id LIMIT ?"
	args = append(args, limit)
	return s.queryTransactions(ctx, q, args...)
}

// ChallengeOf reads a transaction's challenge row, ErrNotFound when it had none.
func (s *SQLStore) ChallengeOf(ctx context.Context, acsTransID string) (ChallengeRow, error) {
	row := s.db.Reader().QueryRowContext(ctx, s.db.Rebind(`SELECT `+chCols+` FROM acs_challenges WHERE acs_trans_id = ?`), acsTransID)
	c, err := scanChallenge(row.Scan)
	return c, store.MapError(err)
}

// AnalyticsFilter bounds and narrows the analytics; empty fields match everything.
type AnalyticsFilter struct {
	From, To       time.Time // UTC days, To included
	Issuer         string
	BIN            string // the PAN's first six digits
	MessageVersion string
	Channel        string // deviceChannel
}

// DayStats are one UTC day's authentications.
type DayStats struct {
	Day string // YYYY-MM-DD
	// AReqs is every AReq the ACS decided; Frictionless those answered Y or A without a challenge
	// or a decoupled authentication.
	AReqs, Frictionless int64
	// Challenges were opened that day; Ended of them have ended, Succeeded with Y, Abandoned by
	// timing out or by the cardholder's cancelling.
	Challenges, Ended, Succeeded, Abandoned int64
}

// Analytics counts the authentications of each day in f's range that have any.
func (s *SQLStore) Analytics(ctx context.Context, f AnalyticsFilter) ([]DayStats, error) {
	day := `substr(t.created_at, 1, 10)`
	if s.db.Dialect() == store.Postgres {
		day = `to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`
	}
	from := f.From.UTC().Truncate(24 * time.Hour)
	to := f.To.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	where := []string{"t.created_at >= ?", "t.created_at < ?"}
	args := []any{store.Time(from), store.Time(to)}
	if f.BIN != "" {
		where, args = append(where, "t.masked_pan LIKE ?"), append(args, f.BIN+"%")
	}
	for _, c := range []struct{ col, v string }{{"t.issuer_id", f.Issuer}, {"t.message_version", f.MessageVersion},
		{"t.device_channel", f.Channel}} {
		if c.v != "" {
			where, args = append(where, c.col+" = ?"), append(args, c.v)
		}
	}
	// A cancel is transStatus N, reason 01 with no failed code; a timeout is reason 14.
	rows, err := s.db.Reader().QueryContext(ctx, s.db.Rebind(`SELECT `+day+` AS day, COUNT(*),
		SUM(CASE WHEN ch.acs_trans_id IS NULL AND d.acs_trans_id IS NULL AND t.trans_status IN ('Y', 'A') THEN 1 ELSE 0 END),
		SUM(CASE WHEN ch.acs_trans_id IS NOT NULL THEN 1 ELSE 0 END),
		SUM(CASE WHEN ch.acs_trans_id IS NOT NULL AND t.ended_at IS NOT NULL THEN 1 ELSE 0 END),
		SUM(CASE WHEN ch.acs_trans_id IS NOT NULL AND t.ended_at IS NOT NULL AND t.trans_status = 'Y' THEN 1 ELSE 0 END),
		SUM(CASE WHEN ch.acs_trans_id IS NOT NULL AND t.ended_at IS NOT NULL AND t.trans_status = 'N'
			AND (t.trans_status_reason = '14' OR (t.trans_status_reason = '01' AND t.challenge_failed = 0)) THEN 1 ELSE 0 END)
		FROM acs_transactions t
		LEFT JOIN acs_challenges ch ON ch.acs_trans_id = t.acs_trans_id
		LEFT JOIN acs_decoupled d ON d.acs_trans_id = t.acs_trans_id
		WHERE `+strings.Join(where, " AND ")+`
		GROUP BY `+day+` ORDER BY day`), args...)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []DayStats
	for rows.Next() {
		var d DayStats
		if err := rows.Scan(&d.Day, &d.AReqs, &d.Frictionless, &d.Challenges, &d.Ended, &d.Succeeded, &d.Abandoned); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
