package threedsserver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/store"
)

// SQLStore is the Store on a store.DB (SQLite or PostgreSQL; one query set for both).
type SQLStore struct {
	// MerchantTTL is how long merchant look-ups answer from the merchants read last
	// (DefaultMerchantTTL unless changed); zero or less reads the database every time. Set it before
	// the store is used.
	MerchantTTL time.Duration

	db        *store.DB
	merchants store.Snapshot[map[string]Merchant]
}

// NewSQLStore wraps an open store whose schema includes migration 0007.
func NewSQLStore(db *store.DB) *SQLStore { return &SQLStore{db: db, MerchantTTL: DefaultMerchantTTL} }

func (s *SQLStore) q(query string) string { return s.db.Rebind(query) }

// exec runs one write statement, committed before it returns, and maps "no row" to ErrNotFound.
//
// A purchase writes its transaction several times on the way (started, AReq sent, ARes, result), so
// these writes go by group commit on SQLite, each durable when exec returns, many purchases per
// commit; on PostgreSQL each is one statement that commits on its own (store.DB.Exec).
func (s *SQLStore) exec(ctx context.Context, what, query string, args ...any) error {
	n, err := s.db.Exec(ctx, query, args...)
	if err == nil && n == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return err
}

const merchantColumns = `id, name, requestor_id, requestor_name, requestor_url, acquirer_bin, acquirer_merchant_id, mcc, country, webhook_url, created_at`

func scanMerchant(sc interface{ Scan(...any) error }) (Merchant, error) {
	var m Merchant
	err := sc.Scan(&m.ID, &m.Name, &m.RequestorID, &m.RequestorName, &m.RequestorURL, &m.AcquirerBIN,
		&m.AcquirerMerchantID, &m.MCC, &m.Country, &m.WebhookURL, (*store.Time)(&m.CreatedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("merchant: %w", store.ErrNotFound)
	}
	return m, err
}

// AddMerchant implements Store.
func (s *SQLStore) AddMerchant(ctx context.Context, m Merchant, keyHash string) error {
	defer s.merchants.Invalidate()
	return s.exec(ctx, "merchant", `INSERT INTO tdss_merchants (`+merchantColumns+`, api_key_hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, m.ID, m.Name, m.RequestorID, m.RequestorName, m.RequestorURL,
		m.AcquirerBIN, m.AcquirerMerchantID, m.MCC, m.Country, m.WebhookURL, store.Time(m.CreatedAt), keyHash)
}

// ChangeMerchant implements Store.
func (s *SQLStore) ChangeMerchant(ctx context.Context, m Merchant, keyHash string) error {
	defer s.merchants.Invalidate()
	return s.exec(ctx, "merchant", `UPDATE tdss_merchants SET name = ?, requestor_id = ?, requestor_name = ?,
		requestor_url = ?, acquirer_bin = ?, acquirer_merchant_id = ?, mcc = ?, country = ?, webhook_url = ?,
		api_key_hash = CASE WHEN ? = '' THEN api_key_hash ELSE ? END WHERE id = ?`,
		m.Name, m.RequestorID, m.RequestorName, m.RequestorURL, m.AcquirerBIN, m.AcquirerMerchantID, m.MCC,
		m.Country, m.WebhookURL, keyHash, keyHash, m.ID)
}

// RemoveMerchant implements Store. A merchant with transactions stays, since their results must
// remain readable; store.ErrConflict says so.
func (s *SQLStore) RemoveMerchant(ctx context.Context, id string) error {
	var n int
	if err := s.db.Reader().QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM tdss_transactions WHERE merchant_id = ?`), id).Scan(&n); err != nil {
		return store.MapError(err)
	}
	if n > 0 {
		return fmt.Errorf("merchant %s has %d transactions: %w", id, n, store.ErrConflict)
	}
	defer s.merchants.Invalidate()
	return s.exec(ctx, "merchant", `DELETE FROM tdss_merchants WHERE id = ?`, id)
}

// Merchant implements Store. It answers from the merchant cache (MerchantTTL): what it returns
// decides nothing about access.
func (s *SQLStore) Merchant(ctx context.Context, id string) (Merchant, error) {
	if s.MerchantTTL > 0 {
		return s.cachedMerchant(ctx, id)
	}
	return scanMerchant(s.db.Reader().QueryRowContext(ctx, s.q(`SELECT `+merchantColumns+` FROM tdss_merchants WHERE id = ?`), id))
}

// MerchantKeyHash implements Store.
//
// It always reads the database, as MerchantByKey does: a rotated key takes effect at once on every
// instance, for the merchant's calls and for the signatures of its webhooks.
func (s *SQLStore) MerchantKeyHash(ctx context.Context, id string) (Merchant, string, error) {
	var hash string
	row := s.db.Reader().QueryRowContext(ctx, s.q(`SELECT `+merchantColumns+`, api_key_hash FROM tdss_merchants WHERE id = ?`), id)
	m, err := scanMerchant(scanFunc(func(dest ...any) error { return row.Scan(append(dest, &hash)...) }))
	return m, hash, err
}

type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// MerchantByKey implements Store.
func (s *SQLStore) MerchantByKey(ctx context.Context, keyHash string) (Merchant, error) {
	return scanMerchant(s.db.Reader().QueryRowContext(ctx, s.q(`SELECT `+merchantColumns+` FROM tdss_merchants WHERE api_key_hash = ?`), keyHash))
}

// ListMerchants implements Store.
func (s *SQLStore) ListMerchants(ctx context.Context) ([]Merchant, error) {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT `+merchantColumns+` FROM tdss_merchants ORDER BY id`)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	out := []Merchant{}
	for rows.Next() {
		m, err := scanMerchant(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// FindRange implements Store: ranges never overlap, so the candidate is the one of pan's length
// that starts highest at or below it.
func (s *SQLStore) FindRange(ctx context.Context, pan string) (Range, error) {
	var r Range
	var ind string
	err := s.db.Reader().QueryRowContext(ctx, s.q(`SELECT start_range, end_range, acs_start, acs_end, ds_start, ds_end,
		method_url, acs_info_ind FROM tdss_ranges WHERE pan_len = ? AND start_range <= ? ORDER BY start_range DESC LIMIT 1`),
		len(pan), pan).Scan(&r.Start, &r.End, &r.ACSStart, &r.ACSEnd, &r.DSStart, &r.DSEnd, &r.MethodURL, &ind)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && r.End < pan) {
		return Range{}, fmt.Errorf("card range: %w", store.ErrNotFound)
	}
	if ind != "" {
		r.ACSInfoInd = strings.Split(ind, ",")
	}
	return r, store.MapError(err)
}

// CacheState implements Store.
func (s *SQLStore) CacheState(ctx context.Context) (CacheState, error) {
	var c CacheState
	var secs int64
	err := s.db.Reader().QueryRowContext(ctx, `SELECT serial, ds_start, ds_end, refresh_seconds, loaded_at, next_at FROM tdss_cache WHERE id = 1`).
		Scan(&c.Serial, &c.DSStart, &c.DSEnd, &secs, (*store.Time)(&c.LoadedAt), (*store.Time)(&c.NextAt))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("card-range cache: %w", store.ErrNotFound)
	}
	c.Refresh = time.Duration(secs) * time.Second
	return c, store.MapError(err)
}

// ReplaceRanges implements Store.
func (s *SQLStore) ReplaceRanges(ctx context.Context, ranges []Range, st CacheState) error {
	return store.MapError(s.db.WithTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM tdss_ranges`); err != nil {
			return err
		}
		return s.applyTx(ctx, tx, ranges, nil, st)
	}))
}

// ApplyRanges implements Store.
func (s *SQLStore) ApplyRanges(ctx context.Context, upsert []Range, remove []string, st CacheState) error {
	return store.MapError(s.db.WithTx(ctx, func(tx *sql.Tx) error { return s.applyTx(ctx, tx, upsert, remove, st) }))
}

func (s *SQLStore) applyTx(ctx context.Context, tx *sql.Tx, upsert []Range, remove []string, st CacheState) error {
	for _, start := range remove {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM tdss_ranges WHERE start_range = ?`), start); err != nil {
			return err
		}
	}
	for _, r := range upsert {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM tdss_ranges WHERE start_range = ?`), r.Start); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO tdss_ranges (start_range, end_range, pan_len, acs_start, acs_end,
			ds_start, ds_end, method_url, acs_info_ind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`), r.Start, r.End, len(r.Start),
			r.ACSStart, r.ACSEnd, r.DSStart, r.DSEnd, r.MethodURL, strings.Join(r.ACSInfoInd, ",")); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM tdss_cache`); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO tdss_cache (id, serial, ds_start, ds_end, refresh_seconds, loaded_at, next_at)
		VALUES (1, ?, ?, ?, ?, ?, ?)`), st.Serial, st.DSStart, st.DSEnd, int64(st.Refresh/time.Second),
		store.Time(st.LoadedAt), store.Time(st.NextAt))
	return err
}

// ClaimRefresh implements Store with one conditional UPDATE: of several instances that find the
// refresh due, only the first moves next_at and so wins.
func (s *SQLStore) ClaimRefresh(ctx context.Context, now, next time.Time) (bool, error) {
	var won bool
	err := s.db.WithTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE tdss_cache SET next_at = ? WHERE id = 1 AND next_at <= ?`),
			store.Time(next), store.Time(now))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		won = n == 1
		return err
	})
	return won, store.MapError(err)
}

// nullTime is a timestamp column that is NULL until the moment it records has come.
type nullTime struct{ t *time.Time }

func (n nullTime) Scan(src any) error {
	if src == nil {
		*n.t = time.Time{}
		return nil
	}
	return (*store.Time)(n.t).Scan(src)
}

func optTime(t time.Time) driver.Valuer {
	if t.IsZero() {
		return nullValuer{}
	}
	return store.Time(t)
}

type nullValuer struct{}

func (nullValuer) Value() (driver.Value, error) { return nil, nil }
