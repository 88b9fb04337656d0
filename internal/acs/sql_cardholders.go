package acs

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/open3ds/open3ds/internal/ids"
	"github.com/open3ds/open3ds/internal/store"
)

const cardholderCols = `id, issuer_id, pan_key_id, masked_pan, expiry, status, mobiles, emails, preferred_channel,
	locale, app_ui, created_at, updated_at`

// newID is a random id with no run of digits the logs would take for a card number (ids.Token).
func newID(prefix string) string { return prefix + ids.Token(12) }

// panPlace is where a cardholder's sealed PAN lives: binding the row id means a sealed value copied
// onto another account does not open there.
func panPlace(id string) Place { return Place{Table: "acs_cardholders", Column: "pan_sealed", Row: id} }

func (s *SQLStore) CreateCardholder(ctx context.Context, c Cardholder) (Cardholder, error) {
	if err := c.Check(); err != nil {
		return Cardholder{}, err
	}
	if c.ID == "" {
		c.ID = newID("ch_")
	}
	sealed, keyID, err := s.vault.Seal(c.PAN, panPlace(c.ID))
	if err != nil {
		return Cardholder{}, fmt.Errorf("acs: sealing a PAN: %w", err)
	}
	mob, _ := json.Marshal(nonNil(c.Mobiles))
	em, _ := json.Marshal(nonNil(c.Emails))
	now := s.now()
	c.MaskedPAN, c.KeyID, c.CreatedAt, c.UpdatedAt = MaskPAN(c.PAN), keyID, now, now
	err = s.db.WithTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.db.Rebind(`SELECT COUNT(*) FROM acs_issuers WHERE id = ?`), c.IssuerID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("%w: %w", store.ErrNotFound, &FieldError{"issuer", "no such issuer"})
		}
		_, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO acs_cardholders (id, issuer_id, pan_sealed, pan_key_id, pan_hash,
			masked_pan, expiry, status, mobiles, emails, preferred_channel, locale, app_ui, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), c.ID, c.IssuerID, sealed, keyID, s.vault.LookupHash(c.PAN),
			c.MaskedPAN, c.Expiry, c.Status, string(mob), string(em), c.PreferredChannel, c.Locale, c.AppUI, store.Time(now), store.Time(now))
		return err
	})
	if err != nil {
		return Cardholder{}, err
	}
	return c, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *SQLStore) UpdateCardholder(ctx context.Context, c Cardholder) error {
	old, err := s.Cardholder(ctx, c.ID)
	if err != nil {
		return err
	}
	c.PAN, c.IssuerID = old.PAN, old.IssuerID
	if err := c.Check(); err != nil {
		return err
	}
	mob, _ := json.Marshal(nonNil(c.Mobiles))
	em, _ := json.Marshal(nonNil(c.Emails))
	return s.db.WithTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE acs_cardholders SET expiry = ?, status = ?, mobiles = ?, emails = ?,
			preferred_channel = ?, locale = ?, app_ui = ?, updated_at = ? WHERE id = ?`),
			c.Expiry, c.Status, string(mob), string(em), c.PreferredChannel, c.Locale, c.AppUI, store.Time(s.now()), c.ID)
		return err
	})
}

// LookupHash is the vault's keyed hash of pan.
func (s *SQLStore) LookupHash(pan string) string { return s.vault.LookupHash(pan) }

// Cardholder reads one account, PAN opened.
func (s *SQLStore) Cardholder(ctx context.Context, id string) (Cardholder, error) {
	return s.oneCardholder(ctx, `WHERE id = ?`, id)
}

// CardholderByPAN finds an account by the keyed hash of its PAN, PAN opened.
func (s *SQLStore) CardholderByPAN(ctx context.Context, pan string) (Cardholder, error) {
	return s.oneCardholder(ctx, `WHERE pan_hash = ?`, s.vault.LookupHash(pan))
}

func (s *SQLStore) oneCardholder(ctx context.Context, where string, arg string) (Cardholder, error) {
	var sealed string
	row := s.db.Reader().QueryRowContext(ctx, s.db.Rebind(`SELECT pan_sealed, `+cardholderCols+` FROM acs_cardholders `+where), arg)
	c, err := scanCardholder(row.Scan, &sealed)
	if err != nil {
		return Cardholder{}, store.MapError(err)
	}
	if c.PAN, err = s.vault.Open(sealed, panPlace(c.ID)); err != nil {
		return Cardholder{}, fmt.Errorf("acs: opening the PAN of cardholder %s: %w", c.ID, err)
	}
	return c, nil
}

func scanCardholder(scan func(...any) error, sealed *string) (Cardholder, error) {
	var c Cardholder
	var mob, em string
	dest := []any{&c.ID, &c.IssuerID, &c.KeyID, &c.MaskedPAN, &c.Expiry, &c.Status, &mob, &em, &c.PreferredChannel,
		&c.Locale, &c.AppUI, (*store.Time)(&c.CreatedAt), (*store.Time)(&c.UpdatedAt)}
	if sealed != nil {
		dest = append([]any{sealed}, dest...)
	}
	if err := scan(dest...); err != nil {
		return c, err
	}
	if err := json.Unmarshal([]byte(mob), &c.Mobiles); err != nil {
		return c, err
	}
	return c, json.Unmarshal([]byte(em), &c.Emails)
}

// Cardholders lists accounts with their PANs masked only: a listing never needs the card numbers.
func (s *SQLStore) Cardholders(ctx context.Context, issuerID string) ([]Cardholder, error) {
	q, args := `SELECT `+cardholderCols+` FROM acs_cardholders ORDER BY issuer_id, masked_pan, id`, []any{}
	if issuerID != "" {
		q, args = `SELECT `+cardholderCols+` FROM acs_cardholders WHERE issuer_id = ? ORDER BY masked_pan, id`, []any{issuerID}
	}
	rows, err := s.db.Reader().QueryContext(ctx, s.db.Rebind(q), args...)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []Cardholder
	for rows.Next() {
		c, err := scanCardholder(rows.Scan, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func (s *SQLStore) DeleteCardholder(ctx context.Context, id string) error {
	return s.db.WithTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM acs_cardholders WHERE id = ?`), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

// Rotate re-seals a batch of values sealed by an older key: cardholders' PANs first, then those
// kept with transactions, then app challenges' session keys. Each batch is its own short
// transaction, so the ACS keeps serving while a rotation runs: a row is readable before and after,
// since a sealed value names the key that opens it.
func (s *SQLStore) Rotate(ctx context.Context, limit int) (int, error) {
	for _, t := range []struct{ table, key, sealed, keyID string }{
		{"acs_cardholders", "id", "pan_sealed", "pan_key_id"},
		{"acs_transactions", "acs_trans_id", "pan_sealed", "pan_key_id"},
		{"acs_app_challenges", "acs_trans_id", "session_sealed", "session_key_id"},
		{"acs_risk_inputs", "acs_trans_id", "input_sealed", "input_key_id"},
	} {
		n, err := s.rotate(ctx, t.table, t.key, t.sealed, t.keyID, limit)
		if n > 0 || err != nil {
			return n, err
		}
	}
	return 0, nil
}

// rotate re-seals up to limit values of one table's column; the names are constants of this file.
func (s *SQLStore) rotate(ctx context.Context, table, key, column, keyColumn string, limit int) (int, error) {
	cur := s.vault.Current()
	rows, err := s.db.Reader().QueryContext(ctx, s.db.Rebind(`SELECT `+key+`, `+column+` FROM `+table+`
		WHERE `+keyColumn+` <> ? AND `+column+` <> '' ORDER BY `+key+` LIMIT ?`), cur, limit)
	if err != nil {
		return 0, store.MapError(err)
	}
	type item struct{ id, sealed, old string }
	var batch []item
	for rows.Next() {
		var it item
		if err := rows.Scan(&it.id, &it.old); err != nil {
			rows.Close()
			return 0, err
		}
		batch = append(batch, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for i, it := range batch {
		place := Place{Table: table, Column: column, Row: it.id}
		pan, err := s.vault.Open(it.old, place)
		if err != nil {
			return 0, fmt.Errorf("acs: opening the %s of %s %s: %w", column, table, it.id, err)
		}
		if batch[i].sealed, _, err = s.vault.Seal(pan, place); err != nil {
			return 0, err
		}
	}
	n := 0
	err = s.db.WithTx(ctx, func(tx *sql.Tx) error {
		n = 0
		for _, it := range batch {
			// Matching the old value means a row changed meanwhile is left for the next batch.
			res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE `+table+` SET `+column+` = ?, `+keyColumn+` = ?
				WHERE `+key+` = ? AND `+column+` = ?`), it.sealed, cur, it.id, it.old)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += int(k)
		}
		return nil
	})
	return n, err
}
