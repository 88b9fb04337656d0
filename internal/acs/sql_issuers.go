package acs

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/open3ds/open3ds/internal/store"
)

// SQLStore is the Store on SQLite or PostgreSQL, through internal/store; its methods are documented
// on the Store interface. The ACS's SQL lives here, beside the role, rather than on store.DB: the
// tables are the ACS's alone, and internal/store supplies the transactions, dialect and error mapping.
type SQLStore struct {
	// IssuerTTL is how long IssuerForPAN answers from the issuers it read last (DefaultIssuerTTL
	// unless changed); zero or less reads the database on every call. Changes made through this
	// SQLStore show at once; changes made elsewhere (another instance, `open3ds enrol`) within
	// IssuerTTL. Set it before the store is used.
	IssuerTTL time.Duration

	db      *store.DB
	vault   PANVault
	now     func() time.Time
	issuers store.Snapshot[*issuerSnapshot]
}

// NewSQLStore keeps the ACS's state in db, sealing PANs with v.
func NewSQLStore(db *store.DB, v PANVault) *SQLStore {
	return &SQLStore{IssuerTTL: DefaultIssuerTTL, db: db, vault: v, now: time.Now}
}

const issuerCols = `id, name, eci_style, authvalue_key_ref, risk_policy, not_enrolled_policy, no_challenge_policy,
	decoupled, otp_length, otp_ttl_seconds, otp_max_attempts, otp_max_resends, brand_name, logo_url, support_text,
	created_at, updated_at, refuse_3ri, refuse_npa`

func (s *SQLStore) CreateIssuer(ctx context.Context, is Issuer) error {
	if err := is.Check(); err != nil {
		return err
	}
	now := s.now()
	defer s.issuers.Invalidate()
	return s.db.WithTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO acs_issuers (`+issuerCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), issuerArgs(is, now)...)
		if err != nil {
			return err
		}
		return s.putRanges(ctx, tx, is)
	})
}

func issuerArgs(is Issuer, now time.Time) []any {
	return []any{is.ID, is.Name, is.ECIStyle, is.AuthValueKeyRef, is.RiskPolicy, is.NotEnrolledPolicy,
		is.NoChallengePolicy, boolInt(is.Decoupled), is.OTP.Length, is.OTP.TTLSeconds, is.OTP.MaxAttempts,
		is.OTP.MaxResends, is.Brand.Name, is.Brand.LogoURL, is.Brand.SupportText, store.Time(now), store.Time(now),
		boolInt(is.Refuse3RI), boolInt(is.RefuseNonPayment)}
}

// putRanges replaces the issuer's card ranges, refusing one that overlaps another issuer's: a PAN
// must lead to one issuer only.
func (s *SQLStore) putRanges(ctx context.Context, tx *sql.Tx, is Issuer) error {
	if _, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM acs_card_ranges WHERE issuer_id = ?`), is.ID); err != nil {
		return err
	}
	for i, r := range is.Ranges {
		lo, hi := lowBound(r.Start), highBound(r.End)
		var n int
		err := tx.QueryRowContext(ctx, s.db.Rebind(`SELECT COUNT(*) FROM acs_card_ranges
			WHERE range_start <= ? AND range_end >= ?`), hi, lo).Scan(&n)
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%w: %w", store.ErrConflict, &FieldError{fmt.Sprintf("ranges[%d]", i), "overlaps a range already enrolled"})
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO acs_card_ranges (range_start, range_end, issuer_id)
			VALUES (?, ?, ?)`), lo, hi, is.ID); err != nil {
			return err
		}
	}
	return nil
}

func (s *SQLStore) UpdateIssuer(ctx context.Context, is Issuer) error {
	if err := is.Check(); err != nil {
		return err
	}
	defer s.issuers.Invalidate()
	return s.db.WithTx(ctx, func(tx *sql.Tx) error {
		args := issuerArgs(is, s.now())
		res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE acs_issuers SET name = ?, eci_style = ?, authvalue_key_ref = ?,
			risk_policy = ?, not_enrolled_policy = ?, no_challenge_policy = ?, decoupled = ?, otp_length = ?,
			otp_ttl_seconds = ?, otp_max_attempts = ?, otp_max_resends = ?, brand_name = ?, logo_url = ?,
			support_text = ?, updated_at = ?, refuse_3ri = ?, refuse_npa = ? WHERE id = ?`), append(args[1:15], args[16], args[17], args[18], is.ID)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return s.putRanges(ctx, tx, is)
	})
}

// Issuer answers from the issuer cache while it is younger than IssuerTTL, as IssuerForPAN does:
// every challenge page needs its issuer's policy and branding.
func (s *SQLStore) Issuer(ctx context.Context, id string) (Issuer, error) {
	if s.IssuerTTL > 0 {
		snap, err := s.issuerSnapshot(ctx)
		if err != nil {
			return Issuer{}, err
		}
		return snap.byIssuerID(id)
	}
	return only(s.readIssuers(ctx, `WHERE id = ?`, id))
}

// only is the one issuer a look-up found, or ErrNotFound.
func only(all []Issuer, err error) (Issuer, error) {
	if err != nil {
		return Issuer{}, err
	}
	if len(all) == 0 {
		return Issuer{}, store.ErrNotFound
	}
	return all[0], nil
}

func (s *SQLStore) Issuers(ctx context.Context) ([]Issuer, error) { return s.readIssuers(ctx, "") }

// issuerSnapshot is every issuer, read at most IssuerTTL ago.
func (s *SQLStore) issuerSnapshot(ctx context.Context) (*issuerSnapshot, error) {
	return s.issuers.Get(ctx, s.now(), s.IssuerTTL, func(ctx context.Context) (*issuerSnapshot, error) {
		all, err := s.Issuers(ctx)
		if err != nil {
			return nil, err
		}
		return newIssuerSnapshot(all), nil
	})
}

// IssuerForPAN answers from the issuer cache while it is younger than IssuerTTL.
func (s *SQLStore) IssuerForPAN(ctx context.Context, pan string) (Issuer, error) {
	if !digits(pan) || len(pan) > 19 {
		return Issuer{}, &FieldError{"pan", "must be up to 19 digits"}
	}
	p := lowBound(pan)
	if s.IssuerTTL > 0 {
		snap, err := s.issuerSnapshot(ctx)
		if err != nil {
			return Issuer{}, err
		}
		return snap.find(p)
	}
	return only(s.readIssuers(ctx, `WHERE id = (SELECT issuer_id FROM acs_card_ranges WHERE range_start <= ? AND range_end >= ?
		ORDER BY range_start DESC LIMIT 1)`, p, p))
}

func (s *SQLStore) readIssuers(ctx context.Context, where string, args ...any) ([]Issuer, error) {
	rows, err := s.db.Reader().QueryContext(ctx, s.db.Rebind(`SELECT `+issuerCols+` FROM acs_issuers `+where+` ORDER BY id`), args...)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []Issuer
	for rows.Next() {
		var is Issuer
		var dec, no3RI, noNPA int
		if err := rows.Scan(&is.ID, &is.Name, &is.ECIStyle, &is.AuthValueKeyRef, &is.RiskPolicy, &is.NotEnrolledPolicy,
			&is.NoChallengePolicy, &dec, &is.OTP.Length, &is.OTP.TTLSeconds, &is.OTP.MaxAttempts, &is.OTP.MaxResends, &is.Brand.Name,
			&is.Brand.LogoURL, &is.Brand.SupportText, (*store.Time)(&is.CreatedAt), (*store.Time)(&is.UpdatedAt), &no3RI, &noNPA); err != nil {
			return nil, err
		}
		is.Decoupled, is.Refuse3RI, is.RefuseNonPayment = dec == 1, no3RI == 1, noNPA == 1
		out = append(out, is)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, s.addRanges(ctx, out)
}

// addRanges fills in the issuers' card ranges: one query for one issuer, and one for them all
// rather than one each.
func (s *SQLStore) addRanges(ctx context.Context, issuers []Issuer) error {
	var rows *sql.Rows
	var err error
	switch len(issuers) {
	case 0:
		return nil
	case 1:
		rows, err = s.db.Reader().QueryContext(ctx, s.db.Rebind(`SELECT issuer_id, range_start, range_end FROM acs_card_ranges
			WHERE issuer_id = ? ORDER BY range_start`), issuers[0].ID)
	default:
		rows, err = s.db.Reader().QueryContext(ctx, `SELECT issuer_id, range_start, range_end FROM acs_card_ranges
			ORDER BY issuer_id, range_start`)
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	byID := make(map[string]*Issuer, len(issuers))
	for i := range issuers {
		byID[issuers[i].ID] = &issuers[i]
	}
	for rows.Next() {
		var id string
		var r CardRange
		if err := rows.Scan(&id, &r.Start, &r.End); err != nil {
			return err
		}
		// Ranges of issuers not asked for (when several were) are skipped.
		if is := byID[id]; is != nil {
			is.Ranges = append(is.Ranges, r)
		}
	}
	return rows.Err()
}

// DeleteIssuer removes an issuer and its ranges. It returns ErrConflict while cardholders remain.
func (s *SQLStore) DeleteIssuer(ctx context.Context, id string) error {
	defer s.issuers.Invalidate()
	return s.db.WithTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.db.Rebind(`SELECT COUNT(*) FROM acs_cardholders WHERE issuer_id = ?`), id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%w: issuer still has %d cardholders", store.ErrConflict, n)
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM acs_card_ranges WHERE issuer_id = ?`), id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM acs_issuers WHERE id = ?`), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
