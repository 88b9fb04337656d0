package ds

import (
	"context"
	"database/sql"

	"github.com/open3ds/open3ds/internal/store"
)

// The registry of approved SDKs. A change to it does not bump the scheme's serial: the serial
// numbers the card ranges a PRes carries, and the SDK registry is not part of any PRes.

// AddSDK implements Store.
func (s *SQLStore) AddSDK(ctx context.Context, k SDK) error {
	if err := k.Validate(); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO ds_sdks (reference_number, description) VALUES (?, ?)`),
			k.ReferenceNumber, k.Description)
		return err
	})
}

// RemoveSDK implements Store.
func (s *SQLStore) RemoveSDK(ctx context.Context, referenceNumber string) error {
	return s.db.WithTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM ds_sdks WHERE reference_number = ?`), referenceNumber)
		return mustAffect(res, err, "sdk")
	})
}

// SDK implements Store.
func (s *SQLStore) SDK(ctx context.Context, referenceNumber string) (SDK, error) {
	var k SDK
	err := s.db.Reader().QueryRowContext(ctx, s.q(`SELECT reference_number, description FROM ds_sdks WHERE reference_number = ?`),
		referenceNumber).Scan(&k.ReferenceNumber, &k.Description)
	return k, store.MapError(err)
}

// ListSDKs implements Store.
func (s *SQLStore) ListSDKs(ctx context.Context) ([]SDK, error) {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT reference_number, description FROM ds_sdks ORDER BY reference_number`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []SDK{}
	for rows.Next() {
		var k SDK
		if err := rows.Scan(&k.ReferenceNumber, &k.Description); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}
