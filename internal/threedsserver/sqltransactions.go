package threedsserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/store"
)

const txColumns = `id, merchant_id, masked_pan, pan_sealed, message_version, method_url, method_done, comp_ind, state,
	ds_trans_id, acs_trans_id, acs_url, trans_status, trans_status_reason, authentication_value, eci, challenge_cancel,
	error_code, error_detail, created_at, ares_at, result_at, device_channel, sdk_trans_id, message_category, three_ri_ind`

// CreateTransaction implements Store.
func (s *SQLStore) CreateTransaction(ctx context.Context, t Transaction) error {
	return s.exec(ctx, "transaction", `INSERT INTO tdss_transactions (`+txColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.MerchantID, t.MaskedPAN, t.PANSealed, t.MessageVersion, t.MethodURL, boolInt(t.MethodDone), t.CompInd,
		t.State, t.DSTransID, t.ACSTransID, t.ACSURL, t.TransStatus, t.TransStatusReason, t.AuthenticationValue, t.ECI,
		t.ChallengeCancel, t.ErrorCode, t.ErrorDetail, store.Time(t.CreatedAt), optTime(t.AResAt), optTime(t.ResultAt),
		channelOrBrowser(t.DeviceChannel), t.SDKTransID, categoryOrPayment(t.MessageCategory), t.ThreeRIInd)
}

// categoryOrPayment stores a transaction built without a category as a payment, which every
// transaction was before non-payment authentications.
func categoryOrPayment(c string) string {
	if c == "" {
		return emv.CategoryPayment
	}
	return c
}

// channelOrBrowser stores a transaction built without a channel as a browser one, which every
// transaction was before the app channel.
func channelOrBrowser(ch string) string {
	if ch == "" {
		return emv.ChannelBrowser
	}
	return ch
}

// Transaction implements Store.
func (s *SQLStore) Transaction(ctx context.Context, id string) (Transaction, error) {
	var t Transaction
	var done int
	var returnURL, info sql.NullString
	err := s.db.Reader().QueryRowContext(ctx, s.q(`SELECT `+txColumns+`, return_url, cardholder_info FROM tdss_transactions WHERE id = ?`), id).Scan(
		&t.ID, &t.MerchantID, &t.MaskedPAN, &t.PANSealed, &t.MessageVersion, &t.MethodURL, &done, &t.CompInd, &t.State,
		&t.DSTransID, &t.ACSTransID, &t.ACSURL, &t.TransStatus, &t.TransStatusReason, &t.AuthenticationValue, &t.ECI,
		&t.ChallengeCancel, &t.ErrorCode, &t.ErrorDetail, (*store.Time)(&t.CreatedAt), nullTime{&t.AResAt}, nullTime{&t.ResultAt},
		&t.DeviceChannel, &t.SDKTransID, &t.MessageCategory, &t.ThreeRIInd, &returnURL, &info)
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("transaction: %w", store.ErrNotFound)
	}
	t.MethodDone, t.ReturnURL, t.CardholderInfo = done == 1, returnURL.String, info.String
	return t, store.MapError(err)
}

// UpdateTransaction implements Store.
func (s *SQLStore) UpdateTransaction(ctx context.Context, t Transaction) error {
	return s.update(ctx, "transaction", t, "")
}

// FinishAReq implements Store: UpdateTransaction's statement, on the condition that the row is
// still in "sending".
func (s *SQLStore) FinishAReq(ctx context.Context, t Transaction) error {
	return s.update(ctx, "transaction being sent", t, StateSending)
}

// update writes every mutable field of t; when inState is set, only if the row is in that state.
func (s *SQLStore) update(ctx context.Context, what string, t Transaction, inState string) error {
	query := `UPDATE tdss_transactions SET pan_sealed = ?, message_version = ?, comp_ind = ?,
		state = ?, ds_trans_id = ?, acs_trans_id = ?, acs_url = ?, trans_status = ?, trans_status_reason = ?,
		authentication_value = ?, eci = ?, challenge_cancel = ?, error_code = ?, error_detail = ?, ares_at = ?,
		result_at = ?, return_url = ?, message_category = ?, cardholder_info = ? WHERE id = ?`
	args := []any{t.PANSealed, t.MessageVersion, t.CompInd, t.State, t.DSTransID, t.ACSTransID, t.ACSURL, t.TransStatus,
		t.TransStatusReason, t.AuthenticationValue, t.ECI, t.ChallengeCancel, t.ErrorCode, t.ErrorDetail,
		optTime(t.AResAt), optTime(t.ResultAt), sql.NullString{String: t.ReturnURL, Valid: t.ReturnURL != ""},
		categoryOrPayment(t.MessageCategory), sql.NullString{String: t.CardholderInfo, Valid: t.CardholderInfo != ""}, t.ID}
	if inState != "" {
		query += ` AND state = ?`
		args = append(args, inState)
	}
	return s.exec(ctx, what, query, args...)
}

// ClaimAReq implements Store with one conditional UPDATE.
func (s *SQLStore) ClaimAReq(ctx context.Context, id string, at time.Time) error {
	return s.exec(ctx, "started transaction", `UPDATE tdss_transactions SET state = ?, sending_at = ? WHERE id = ? AND state = ?`,
		StateSending, store.Time(at), id, StateStarted)
}

// StuckInSending implements Store.
func (s *SQLStore) StuckInSending(ctx context.Context, before time.Time, limit int) ([]string, error) {
	// The state is written into the statement, not bound, so that both planners can match it with
	// the partial index of migration 0009, which holds only the rows in "sending".
	rows, err := s.db.Reader().QueryContext(ctx, s.q(`SELECT id FROM tdss_transactions
		WHERE state = '`+StateSending+`' AND sending_at < ? ORDER BY sending_at LIMIT ?`), store.Time(before), limit)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, store.MapError(err)
		}
		ids = append(ids, id)
	}
	return ids, store.MapError(rows.Err())
}

// EndStuck implements Store with one conditional UPDATE: of two sweepers, or a sweeper and a late
// exchange, only the first to write changes the row.
func (s *SQLStore) EndStuck(ctx context.Context, id string, before, now time.Time, code, detail string) error {
	return s.exec(ctx, "transaction stuck in sending", `UPDATE tdss_transactions SET state = ?, pan_sealed = '',
		error_code = ?, error_detail = ?, ares_at = ?, result_at = ? WHERE id = ? AND state = ? AND sending_at < ?`,
		StateError, code, detail, store.Time(now), store.Time(now), id, StateSending, store.Time(before))
}

// MarkMethodDone implements Store.
func (s *SQLStore) MarkMethodDone(ctx context.Context, id string) error {
	return s.exec(ctx, "transaction", `UPDATE tdss_transactions SET method_done = 1 WHERE id = ?`, id)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
