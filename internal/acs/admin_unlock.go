package acs

import (
	"context"
	"database/sql"
	"errors"
	"net/http"

	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/store"
)

// Unlocker clears a card's recent failed code entries, which is what lifts the lock that
// otp.Policy.CardLockFailures puts on a card: the lock is the count of failures in the window, so
// removing them is the whole unlock. *SQLStore is one.
type Unlocker interface {
	ClearOTPFailures(ctx context.Context, cardholderID string) (int, error)
}

// ClearOTPFailures removes every recorded failed entry of the cardholder's card and says how many it
// removed; store.ErrNotFound when no such cardholder exists.
func (s *SQLStore) ClearOTPFailures(ctx context.Context, cardholderID string) (int, error) {
	var n int64
	err := s.db.WithTx(ctx, func(tx *sql.Tx) error {
		var hash string
		err := tx.QueryRowContext(ctx, s.db.Rebind(`SELECT pan_hash FROM acs_cardholders WHERE id = ?`), cardholderID).Scan(&hash)
		if err != nil {
			return store.MapError(err)
		}
		res, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM acs_otp_failures WHERE pan_hash = ?`), hash)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

type unlockAnswer struct {
	ID              string `json:"id"`
	ClearedFailures int    `json:"clearedFailures"`
}

// unlockCardholder answers POST /v1/cardholders/{id}/unlock. Unlocking a card that is not locked is
// not an error: it clears nothing and says so, so an operator can repeat it safely.
func (a *Admin) unlockCardholder(w http.ResponseWriter, r *http.Request) error {
	u, ok := a.Store.(Unlocker)
	if !ok {
		return httpx.NewProblem(http.StatusNotImplemented, "this store cannot unlock cards")
	}
	id := r.PathValue("id")
	n, err := u.ClearOTPFailures(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return problem(err)
	}
	if err != nil {
		return err
	}
	httpx.Logger(r.Context()).InfoContext(r.Context(), "card unlocked", "cardholder", id, "clearedFailures", n)
	return httpx.WriteJSON(w, http.StatusOK, unlockAnswer{ID: id, ClearedFailures: n})
}
