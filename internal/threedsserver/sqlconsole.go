package threedsserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/store"
)

// revokedPrefix starts the api_key_hash of a merchant whose key is revoked. A key's digest is
// lowercase hex (HashAPIKey), so no key matches it; the random rest keeps the column unique and
// makes the webhooks of a revoked merchant carry a signature nobody can check or forge.
const revokedPrefix = "revoked:"

// RevokeMerchantKey makes the merchant's API key stop working. MerchantByKey reads the database on
// every call (it never answers from the merchant cache), so the key is refused at once on every
// instance sharing the store. A new key (ChangeMerchant with a hash) ends the revocation.
func (s *SQLStore) RevokeMerchantKey(ctx context.Context, id string) error {
	b := make([]byte, 16)
	rand.Read(b)
	defer s.merchants.Invalidate()
	return s.exec(ctx, "merchant", `UPDATE tdss_merchants SET api_key_hash = ? WHERE id = ?`,
		revokedPrefix+hex.EncodeToString(b), id)
}

// MerchantKeyState is a merchant as the console lists it: whether its key works.
type MerchantKeyState struct {
	Merchant
	KeyRevoked bool
}

// MerchantKeyStates lists the merchants with the state of their keys, by id.
func (s *SQLStore) MerchantKeyStates(ctx context.Context) ([]MerchantKeyState, error) {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT `+merchantColumns+`, api_key_hash FROM tdss_merchants ORDER BY id`)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	out := []MerchantKeyState{}
	for rows.Next() {
		var hash string
		m, err := scanMerchant(scanFunc(func(dest ...any) error { return rows.Scan(append(dest, &hash)...) }))
		if err != nil {
			return nil, err
		}
		out = append(out, MerchantKeyState{Merchant: m, KeyRevoked: strings.HasPrefix(hash, revokedPrefix)})
	}
	return out, rows.Err()
}

// TxFilter selects transactions for the console's list; empty fields select everything.
type TxFilter struct {
	MerchantID string
	State      string
	Day        time.Time // a UTC day; zero is any
	// Find matches threeDSServerTransID, dsTransID or acsTransID exactly.
	Find  string
	Limit int
}

// ConsoleTransactions lists transactions newest first for the console. PANSealed and the
// authentication value are left out: the console never shows them.
func (s *SQLStore) ConsoleTransactions(ctx context.Context, f TxFilter) ([]Transaction, error) {
	var where []string
	var args []any
	if f.MerchantID != "" {
		where, args = append(where, "merchant_id = ?"), append(args, f.MerchantID)
	}
	if f.State != "" {
		where, args = append(where, "state = ?"), append(args, f.State)
	}
	if !f.Day.IsZero() {
		d := f.Day.UTC().Truncate(24 * time.Hour)
		where, args = append(where, "created_at >= ? AND created_at < ?"), append(args, store.Time(d), store.Time(d.Add(24*time.Hour)))
	}
	if f.Find != "" {
		where, args = append(where, "(id = ? OR ds_trans_id = ? OR acs_trans_id = ?)"), append(args, f.Find, f.Find, f.Find)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	q := `SELECT id, merchant_id, masked_pan, message_version, state, ds_trans_id, acs_trans_id, trans_status,
		trans_status_reason, eci, challenge_cancel, error_code, error_detail, created_at, device_channel, message_category
		FROM tdss_transactions`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY created_at DESC, id DESC LIMIT %d", f.Limit)
	rows, err := s.db.Reader().QueryContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	out := []Transaction{}
	for rows.Next() {
		var t Transaction
		if err := rows.Scan(&t.ID, &t.MerchantID, &t.MaskedPAN, &t.MessageVersion, &t.State, &t.DSTransID, &t.ACSTransID,
			&t.TransStatus, &t.TransStatusReason, &t.ECI, &t.ChallengeCancel, &t.ErrorCode, &t.ErrorDetail,
			(*store.Time)(&t.CreatedAt), &t.DeviceChannel, &t.MessageCategory); err != nil {
			return nil, store.MapError(err)
		}
		out = append(out, t)
	}
	return out, store.MapError(rows.Err())
}

// DayCounts are one day's transactions of one value of a dimension (a merchant, a message
// version, a channel).
type DayCounts struct {
	Day, Key string
	// Total counts every transaction; Answered those the ACS answered (an ARes came: frictionless
	// or challenge); Frictionless those that ended with the ARes; Challenged those sent to a
	// challenge, of which Succeeded ended with transStatus Y and Abandoned never saw their result
	// (no RReq yet) or were cancelled (challengeCancel); Errors ended without an ARes (Erro, timeout).
	Total, Answered, Frictionless, Challenged, Succeeded, Abandoned, Errors int64
}

// Dimensions the analytics group by, and the column of each.
var analyticsDimensions = map[string]string{"merchant": "merchant_id", "version": "message_version", "channel": "device_channel"}

// Analytics counts the transactions created in [from, to) per UTC day and per value of dim
// ("merchant", "version" or "channel"), by day then value.
func (s *SQLStore) Analytics(ctx context.Context, dim string, from, to time.Time) ([]DayCounts, error) {
	col, ok := analyticsDimensions[dim]
	if !ok {
		return nil, fmt.Errorf("%w: dimension must be merchant, version or channel", store.ErrInvalid)
	}
	day := "substr(created_at, 1, 10)"
	if s.db.Dialect() == store.Postgres {
		day = "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
	}
	q := `SELECT ` + day + ` AS d, ` + col + ` AS k, COUNT(*),
		SUM(CASE WHEN state IN ('frictionless', 'challenge', 'final') THEN 1 ELSE 0 END),
		SUM(CASE WHEN state = 'frictionless' THEN 1 ELSE 0 END),
		SUM(CASE WHEN state IN ('challenge', 'final') THEN 1 ELSE 0 END),
		SUM(CASE WHEN state = 'final' AND trans_status = 'Y' THEN 1 ELSE 0 END),
		SUM(CASE WHEN state = 'challenge' OR (state = 'final' AND challenge_cancel <> '') THEN 1 ELSE 0 END),
		SUM(CASE WHEN state = 'error' THEN 1 ELSE 0 END)
		FROM tdss_transactions WHERE created_at >= ? AND created_at < ? GROUP BY d, k ORDER BY d, k`
	rows, err := s.db.Reader().QueryContext(ctx, s.q(q), store.Time(from), store.Time(to))
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	out := []DayCounts{}
	for rows.Next() {
		var c DayCounts
		if err := rows.Scan(&c.Day, &c.Key, &c.Total, &c.Answered, &c.Frictionless, &c.Challenged, &c.Succeeded,
			&c.Abandoned, &c.Errors); err != nil {
			return nil, store.MapError(err)
		}
		out = append(out, c)
	}
	return out, store.MapError(rows.Err())
}
