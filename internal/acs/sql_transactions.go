package acs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/store"
)

func (s *SQLStore) SaveDeviceData(ctx context.Context, d DeviceData) error {
	if d.CreatedAt.IsZero() {
		d.CreatedAt = s.now()
	}
	return s.db.WithGroupTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO acs_device_data (three_ds_server_trans_id, device_key, ip, data, created_at)
			VALUES (?, ?, ?, ?, ?)`), d.ThreeDSServerTransID, d.DeviceKey, d.IP, d.Data, store.Time(d.CreatedAt))
		return err
	})
}

func (s *SQLStore) DeviceData(ctx context.Context, id string) (DeviceData, error) {
	d := DeviceData{ThreeDSServerTransID: id}
	err := s.db.Reader().QueryRowContext(ctx, s.db.Rebind(`SELECT device_key, ip, data, created_at FROM acs_device_data
		WHERE three_ds_server_trans_id = ?`), id).Scan(&d.DeviceKey, &d.IP, &d.Data, (*store.Time)(&d.CreatedAt))
	return d, store.MapError(err)
}

// HistoryWindow is how many of a card's latest transactions History reads. The counts it gives
// saturate there: a risk rule asks "more than a few in the last hour", never for an exact thousand,
// and a card tested thousands of times (a card-testing attack, a load test) must not make each of
// its next AReqs read all of them. The usual amount and the known device come from the same latest
// transactions, which is what "usual" means for a card that busy.
const HistoryWindow = 200

// historySelect is the card's risk facts as one row: its latest HistoryWindow transactions of the
// last 90 days, newest first, read through the covering (pan_hash, created_at, …) index and counted.
// Its arguments are historyArgs'.
var historySelect = `SELECT
		COALESCE(SUM(CASE WHEN created_at >= ? THEN 1 ELSE 0 END), 0) AS tx_hour,
		COALESCE(SUM(CASE WHEN created_at >= ? THEN 1 ELSE 0 END), 0) AS tx_day,
		COALESCE(SUM(CASE WHEN created_at >= ? AND challenge_failed = 1 THEN 1 ELSE 0 END), 0) AS failed_day,
		COALESCE(SUM(CASE WHEN ? <> '' AND device_key = ? THEN 1 ELSE 0 END), 0) AS device_seen,
		MAX(CASE WHEN trans_status = 'Y' THEN amount END) AS usual_max
		FROM (SELECT created_at, challenge_failed, device_key, trans_status, amount FROM acs_transactions
			WHERE pan_hash = ? AND created_at >= ? ORDER BY created_at DESC LIMIT ` + strconv.Itoa(HistoryWindow) + `) recent`

func historyArgs(panHash, deviceKey string, now time.Time) []any {
	return []any{store.Time(now.Add(-time.Hour)), store.Time(now.Add(-24 * time.Hour)), store.Time(now.Add(-24 * time.Hour)),
		deviceKey, deviceKey, panHash, store.Time(now.Add(-90 * 24 * time.Hour))}
}

// historyScan reads historySelect's row.
type historyScan struct {
	h     History
	known int
	usual sql.NullInt64
}

func (x *historyScan) dest() []any {
	return []any{&x.h.TxLastHour, &x.h.TxLastDay, &x.h.FailedChallenges24h, &x.known, &x.usual}
}

func (x *historyScan) history() History {
	h := x.h
	h.DeviceKnown, h.UsualAmountMax = x.known > 0, x.usual.Int64
	return h
}

// History reads the card's recent transactions in one query, so that the AReq path makes one round
// trip for its risk facts. It reads at most HistoryWindow of them, newest first, through the
// (pan_hash, created_at) index.
func (s *SQLStore) History(ctx context.Context, panHash, deviceKey string, now time.Time) (History, error) {
	var x historyScan
	err := s.db.Reader().QueryRowContext(ctx, s.db.Rebind(historySelect), historyArgs(panHash, deviceKey, now)...).Scan(x.dest()...)
	if err != nil {
		return History{}, store.MapError(err)
	}
	return x.history(), nil
}

// CardForAReq reads everything an AReq needs of the store in one statement: the cardholder (PAN
// opened) by the PAN's lookup hash, what the 3DS Method stored under methodID (a browser's
// threeDSServerTransID; "" reads none) and the card's History, in which the device counts as known
// when an earlier transaction had the Method's device key, or fallbackKey when the Method stored
// none. One statement instead of three matters on SQLite, where each read after a commit starts from
// an emptied page cache, and on PostgreSQL, where each is a round trip and a transaction (issue 18).
// A card that is not enrolled is store.ErrNotFound (and its device is not read).
func (s *SQLStore) CardForAReq(ctx context.Context, panHash, methodID, fallbackKey string, now time.Time) (CardFacts, error) {
	var sealed string
	var x historyScan
	var f CardFacts
	var found int
	var devKey, devIP sql.NullString
	device := `COALESCE(NULLIF((SELECT device_key FROM acs_device_data WHERE three_ds_server_trans_id = ?), ''), ?)`
	args := append([]any{methodID}, historyArgs(panHash, "", now)...)
	// historyArgs' two device-key arguments (its 4th and 5th) are replaced by the device expression's.
	args = append(args[:4], append([]any{methodID, fallbackKey, methodID, fallbackKey}, args[6:]...)...)
	args = append(args, panHash)
	q := strings.Replace(historySelect, `? <> '' AND device_key = ?`,
		device+` <> '' AND device_key = `+device, 1)
	row := s.db.Reader().QueryRowContext(ctx, s.db.Rebind(`SELECT pan_sealed, `+cardholderCols+`,
		h.tx_hour, h.tx_day, h.failed_day, h.device_seen, h.usual_max, d.found, d.device_key, d.ip
		FROM (SELECT COUNT(*) AS found, MAX(device_key) AS device_key, MAX(ip) AS ip FROM acs_device_data
			WHERE three_ds_server_trans_id = ?) d,
		(`+q+`) h, acs_cardholders WHERE pan_hash = ?`), args...)
	c, err := scanCardholder(func(dest ...any) error {
		return row.Scan(append(dest, append(x.dest(), &found, &devKey, &devIP)...)...)
	}, &sealed)
	if err != nil {
		return CardFacts{}, store.MapError(err)
	}
	if c.PAN, err = s.vault.Open(sealed, panPlace(c.ID)); err != nil {
		return CardFacts{}, fmt.Errorf("acs: opening the PAN of cardholder %s: %w", c.ID, err)
	}
	f.Cardholder, f.History, f.MethodRan = c, x.history(), found > 0
	f.Method = DeviceData{ThreeDSServerTransID: methodID, DeviceKey: devKey.String, IP: devIP.String}
	return f, nil
}

const txCols = `acs_trans_id, three_ds_server_trans_id, ds_trans_id, sdk_trans_id, issuer_id, cardholder_id, pan_hash,
	masked_pan, message_version, message_category, device_channel, ds_url, amount, currency, merchant, device_key, risk_score,
	reasons, live_decision, shadow_decision, trans_status, trans_status_reason, eci, authentication_value,
	challenge_failed, av_used_at, created_at, ended_at, requestor_id, three_ri_ind, prior_ref, recurring_expiry,
	recurring_frequency, recurring_amount, recurring_fixed, instal_count`

// txReadCols are txCols and the prior-link counters, which only linkPrior writes.
const txReadCols = txCols + `, linked_count, linked_last_at`

// linkPrior leaves a 3RI's mark on its prior (see PriorLink) inside RecordAReq's transaction.
func (s *SQLStore) linkPrior(ctx context.Context, tx *sql.Tx, l PriorLink) error {
	query := `UPDATE acs_transactions SET linked_count = linked_count + 1, linked_last_at = ? WHERE acs_trans_id = ?`
	args := []any{store.Time(l.At), l.PriorRef}
	if l.Limited {
		query += ` AND linked_count = ?`
		args = append(args, l.SeenCount)
	}
	res, err := tx.ExecContext(ctx, s.db.Rebind(query), args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrPriorChanged
	}
	return nil
}

// RecordTransaction keeps a transaction alone: RecordAReq without a challenge or an exchange.
func (s *SQLStore) RecordTransaction(ctx context.Context, t Transaction) error {
	return s.RecordAReq(ctx, AReqRecord{Transaction: t})
}

// RecordAReq seals the PAN and encodes what it must before it opens the transaction, which then
// holds nothing but the inserts.
func (s *SQLStore) RecordAReq(ctx context.Context, r AReqRecord) error {
	t := r.Transaction
	if len(t.MaskedPAN) > 0 && t.MaskedPAN != MaskPAN(t.MaskedPAN) {
		return &FieldError{"maskedPAN", "shows more than the first six and last four digits"}
	}
	reasons, _ := json.Marshal(nonNil(t.Reasons))
	// The PAN is kept (sealed) for an authentication that ends later, whose RReq needs a value.
	sealed, keyID := "", 0
	if t.PAN != "" {
		var err error
		if sealed, keyID, err = s.vault.Seal(t.PAN, txPlace(t.ACSTransID)); err != nil {
			return fmt.Errorf("acs: sealing a PAN: %w", err)
		}
	}
	var riskSealed string
	var riskKeyID int
	if t.RiskInput != nil {
		var err error
		if riskSealed, riskKeyID, err = s.sealRiskInput(t); err != nil {
			return err
		}
	}
	var challenge, app []any
	if r.App != nil {
		var err error
		if app, err = s.appArgs(*r.App); err != nil {
			return err
		}
	}
	if r.Challenge != nil {
		var err error
		if challenge, err = challengeArgs(*r.Challenge); err != nil {
			return err
		}
	}
	inserts := []store.Insert{{Query: `INSERT INTO acs_transactions (` + txCols + `, pan_sealed, pan_key_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		Args: []any{t.ACSTransID, t.ThreeDSServerTransID, t.DSTransID, t.SDKTransID, t.IssuerID, t.CardholderID, t.PANHash,
			t.MaskedPAN, t.MessageVersion, t.MessageCategory, t.DeviceChannel, t.DSURL, t.Amount, t.Currency, t.Merchant, t.DeviceKey,
			t.RiskScore, string(reasons), t.LiveDecision, t.ShadowDecision, t.TransStatus, t.Reason, t.ECI, t.AuthValue,
			boolInt(t.ChallengeFailed), nullTime(t.AuthValueUsedAt), store.Time(t.CreatedAt), nullTime(t.EndedAt),
			t.RequestorID, t.ThreeRIInd, t.PriorRef, t.RecurringExpiry, t.RecurringFrequency, t.RecurringAmount,
			boolInt(t.RecurringFixed), t.InstalCount, sealed, keyID}}}
	if riskSealed != "" {
		inserts = append(inserts, store.Insert{Query: insertRiskInput, Args: []any{t.ACSTransID, riskSealed, riskKeyID, store.Time(t.CreatedAt)}})
	}
	if challenge != nil {
		inserts = append(inserts, store.Insert{Query: insertChallenge, Args: challenge})
	}
	if app != nil {
		inserts = append(inserts, store.Insert{Query: insertApp, Args: app})
	}
	if d := r.Decoupled; d != nil {
		inserts = append(inserts, store.Insert{Query: `INSERT INTO acs_decoupled (acs_trans_id, token_hash, deadline,
			merchant_name, exponent, locale, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`, Args: []any{d.ACSTransID, d.TokenHash,
			store.Time(d.Deadline), d.MerchantName, d.Exponent, d.Locale, store.Time(d.CreatedAt)}})
	}
	if r.Exchange != nil {
		ex, err := s.db.ExchangeInsert(*r.Exchange)
		if err != nil {
			return err
		}
		inserts = append(inserts, ex)
	}
	// Every decided AReq writes here. Its rows go in together, durable before its ARes leaves: on
	// SQLite by group commit with the AReqs that arrive at the same moment, on PostgreSQL as one
	// statement (store.InsertAll), one round trip instead of one per row plus BEGIN and COMMIT. A 3RI
	// AReq that marks its prior transaction needs that UPDATE's answer, so it takes a transaction.
	if r.Link == nil {
		return s.db.InsertAll(ctx, inserts...)
	}
	return s.db.WithGroupTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for _, in := range inserts {
			if _, err := tx.ExecContext(ctx, s.db.Rebind(in.Query), in.Args...); err != nil {
				return err
			}
		}
		return s.linkPrior(ctx, tx, *r.Link)
	})
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return store.Time(t)
}

func scanTransaction(scan func(...any) error) (Transaction, error) {
	var t Transaction
	var reasons string
	var failed, fixed int
	var used, ended, linked sql.Null[store.Time]
	err := scan(&t.ACSTransID, &t.ThreeDSServerTransID, &t.DSTransID, &t.SDKTransID, &t.IssuerID, &t.CardholderID, &t.PANHash,
		&t.MaskedPAN, &t.MessageVersion, &t.MessageCategory, &t.DeviceChannel, &t.DSURL, &t.Amount, &t.Currency, &t.Merchant,
		&t.DeviceKey, &t.RiskScore, &reasons, &t.LiveDecision, &t.ShadowDecision, &t.TransStatus, &t.Reason, &t.ECI,
		&t.AuthValue, &failed, &used, (*store.Time)(&t.CreatedAt), &ended, &t.RequestorID, &t.ThreeRIInd, &t.PriorRef,
		&t.RecurringExpiry, &t.RecurringFrequency, &t.RecurringAmount, &fixed, &t.InstalCount, &t.LinkedCount, &linked)
	if err != nil {
		return t, err
	}
	t.ChallengeFailed, t.RecurringFixed = failed == 1, fixed == 1
	if linked.Valid {
		t.LinkedLastAt = time.Time(linked.V)
	}
	if used.Valid {
		t.AuthValueUsedAt = time.Time(used.V)
	}
	if ended.Valid {
		t.EndedAt = time.Time(ended.V)
	}
	return t, json.Unmarshal([]byte(reasons), &t.Reasons)
}

func (s *SQLStore) Transaction(ctx context.Context, id string) (Transaction, error) {
	row := s.db.Reader().QueryRowContext(ctx, s.db.Rebind(`SELECT `+txReadCols+` FROM acs_transactions WHERE acs_trans_id = ?`), id)
	t, err := scanTransaction(row.Scan)
	return t, store.MapError(err)
}

func txPlace(id string) Place { return Place{Table: "acs_transactions", Column: "pan_sealed", Row: id} }

func (s *SQLStore) TransactionPAN(ctx context.Context, id string) (string, error) {
	var sealed string
	err := s.db.Reader().QueryRowContext(ctx, s.db.Rebind(`SELECT pan_sealed FROM acs_transactions WHERE acs_trans_id = ?`), id).Scan(&sealed)
	if err != nil {
		return "", store.MapError(err)
	}
	if sealed == "" {
		return "", fmt.Errorf("%w: the transaction kept no PAN", store.ErrNotFound)
	}
	return s.vault.Open(sealed, txPlace(id))
}

func (s *SQLStore) TransactionsForPAN(ctx context.Context, panHash string, limit int) ([]Transaction, error) {
	return s.queryTransactions(ctx, `SELECT `+txReadCols+` FROM acs_transactions
		WHERE pan_hash = ? AND authentication_value <> '' ORDER BY created_at DESC LIMIT ?`, panHash, limit)
}

// queryTransactions runs a query of txReadCols through the read pool and scans every row.
func (s *SQLStore) queryTransactions(ctx context.Context, q string, args ...any) ([]Transaction, error) {
	rows, err := s.db.Reader().QueryContext(ctx, s.db.Rebind(q), args...)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []Transaction
	for rows.Next() {
		t, err := scanTransaction(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *SQLStore) UseAuthValue(ctx context.Context, id string, now time.Time) (bool, error) {
	usedBefore := false
	err := s.db.WithGroupTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE acs_transactions SET av_used_at = ?
			WHERE acs_trans_id = ? AND av_used_at IS NULL`), store.Time(now), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		var one int
		if err := tx.QueryRowContext(ctx, s.db.Rebind(`SELECT 1 FROM acs_transactions WHERE acs_trans_id = ?`), id).Scan(&one); err != nil {
			return err
		}
		usedBefore = true
		return nil
	})
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	return usedBefore, err
}
