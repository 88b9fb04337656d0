package acs

import (
	"context"
	"time"

	"github.com/open3ds/open3ds/internal/store"
)

const decoupledCols = `acs_trans_id, token_hash, deadline, merchant_name, exponent, locale, created_at`

func scanDecoupled(scan func(...any) error) (DecoupledRow, error) {
	var d DecoupledRow
	err := scan(&d.ACSTransID, &d.TokenHash, (*store.Time)(&d.Deadline), &d.MerchantName, &d.Exponent, &d.Locale,
		(*store.Time)(&d.CreatedAt))
	return d, err
}

func (s *SQLStore) DecoupledByToken(ctx context.Context, tokenHash string) (DecoupledRow, Transaction, error) {
	row := s.db.Reader().QueryRowContext(ctx, s.db.Rebind(`SELECT `+qualified("d", decoupledCols)+`, `+qualified("t", txReadCols)+`
		FROM acs_decoupled d JOIN acs_transactions t ON t.acs_trans_id = d.acs_trans_id WHERE d.token_hash = ?`), tokenHash)
	var d DecoupledRow
	t, err := scanTransaction(func(tdest ...any) error {
		var derr error
		d, derr = scanDecoupled(func(ddest ...any) error { return row.Scan(append(ddest, tdest...)...) })
		return derr
	})
	if err != nil {
		return DecoupledRow{}, Transaction{}, store.MapError(err)
	}
	return d, t, nil
}

// DueDecoupled reads through the deadline index; the transactions still open among the due rows
// are few, as every answered request has ended its transaction.
func (s *SQLStore) DueDecoupled(ctx context.Context, now time.Time, limit int) ([]DecoupledRow, error) {
	rows, err := s.db.Reader().QueryContext(ctx, s.db.Rebind(`SELECT `+qualified("d", decoupledCols)+`
		FROM acs_decoupled d JOIN acs_transactions t ON t.acs_trans_id = d.acs_trans_id
		WHERE d.deadline <= ? AND t.ended_at IS NULL ORDER BY d.deadline LIMIT ?`), store.Time(now), limit)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []DecoupledRow
	for rows.Next() {
		d, err := scanDecoupled(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
