package acs

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"github.com/open3ds/open3ds/internal/store"
)

// FraudReport is one fraud report as an issuer's fraud team receives it. It names the transaction
// by ACSTransID, or by the card number with the purchase's day (UTC), amount (minor units) and
// currency (ISO 4217 numeric), as a chargeback or a scheme's fraud file does.
type FraudReport struct {
	ACSTransID string
	PAN        string
	Day        time.Time // the purchase's date, midnight UTC
	Amount     int64
	Currency   string
	Type       string
	ReportedOn time.Time // the date the report was made, midnight UTC
}

// FraudImport says what ImportFraudReports did: New reports were stored, Duplicates had been
// imported before, Matched of the new ones name a stored transaction, Unmatched do not (yet), and
// Rematched are old reports that matched only now.
type FraudImport struct {
	New, Duplicates, Matched, Unmatched, Rematched int
}

// key is the report's identity: the same report imported again has the same key. The card number
// enters only as the vault's lookup hash.
func (r FraudReport) key(panHash string) string {
	id := "tx|" + r.ACSTransID
	if r.ACSTransID == "" {
		id = "pan|" + panHash + "|" + r.Day.Format(time.DateOnly) + "|" + strconv.FormatInt(r.Amount, 10) + "|" + r.Currency
	}
	h := sha256.Sum256([]byte(id + "|" + r.Type))
	return hex.EncodeToString(h[:])
}

// ImportFraudReports stores the reports, each matched to the transaction it names, in one commit.
// A report imported before counts once (as a duplicate); one that matched nothing before and
// matches now is linked to its transaction. The clear card number is never stored.
func (s *SQLStore) ImportFraudReports(ctx context.Context, reports []FraudReport) (FraudImport, error) {
	var sum FraudImport
	now := s.now()
	err := s.db.WithTx(ctx, func(tx *sql.Tx) error {
		sum = FraudImport{}
		for _, r := range reports {
			panHash := ""
			if r.PAN != "" {
				panHash = s.vault.LookupHash(r.PAN)
			}
			match, err := s.matchFraud(ctx, tx, r, panHash)
			if err != nil {
				return err
			}
			key := r.key(panHash)
			res, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO acs_fraud_reports (report_key, acs_trans_id, pan_hash,
				purchase_day, amount, currency, fraud_type, reported_on, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (report_key) DO NOTHING`), key, match, panHash, dayOrEmpty(r.Day), r.Amount, r.Currency, r.Type,
				dayOrEmpty(r.ReportedOn), store.Time(now))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				sum.New++
				if match != "" {
					sum.Matched++
				} else {
					sum.Unmatched++
				}
				continue
			}
			sum.Duplicates++
			if match == "" {
				continue
			}
			res, err = tx.ExecContext(ctx, s.db.Rebind(`UPDATE acs_fraud_reports SET acs_trans_id = ?
				WHERE report_key = ? AND acs_trans_id = ''`), match, key)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				sum.Rematched++
			}
		}
		return nil
	})
	return sum, err
}

// matchFraud finds the transaction a report names: by acsTransID, or the card's latest transaction
// on that UTC day with that amount and currency. "" when none is stored.
func (s *SQLStore) matchFraud(ctx context.Context, tx *sql.Tx, r FraudReport, panHash string) (string, error) {
	var id string
	var err error
	if r.ACSTransID != "" {
		err = tx.QueryRowContext(ctx, s.db.Rebind(`SELECT acs_trans_id FROM acs_transactions WHERE acs_trans_id = ?`), r.ACSTransID).Scan(&id)
	} else {
		err = tx.QueryRowContext(ctx, s.db.Rebind(`SELECT acs_trans_id FROM acs_transactions
			WHERE pan_hash = ? AND created_at >= ? AND created_at < ? AND amount = ? AND currency = ?
			ORDER BY created_at DESC LIMIT 1`), panHash, store.Time(r.Day), store.Time(r.Day.Add(24*time.Hour)),
			r.Amount, r.Currency).Scan(&id)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, err
}

func dayOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

// FraudReportCount says how many fraud reports are stored and how many of them matched a
// transaction.
func (s *SQLStore) FraudReportCount(ctx context.Context) (total, matched int, err error) {
	err = s.db.Reader().QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN acs_trans_id <> '' THEN 1 ELSE 0 END), 0)
		FROM acs_fraud_reports`).Scan(&total, &matched)
	return total, matched, store.MapError(err)
}
