package acs

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"github.com/open3ds/open3ds/internal/store"
)

// AppRow is what only an app challenge has, beside its ChallengeRow: the session key, the screen
// the ARes announced, the counter the next CReq must carry and the out-of-band approval.
type AppRow struct {
	ACSTransID string
	SDKTransID string
	// Session is the 32-byte challenge session key; the store seals it and opens it on reading.
	Session []byte
	// UIType is the acsUiTemplate of the ARes, Interface its acsInterface.
	UIType, Interface string
	// NextCounter is the sdkCounterStoA the next CReq must carry (0 for "000").
	NextCounter int
	// OOBToken names the challenge on the issuer's app page (the store keeps its digest alone and
	// derives it again from the session); OOBState is "", OOBPending,
	// OOBApproved or OOBDeclined.
	OOBToken, OOBState string
}

// The states of an out-of-band approval.
const (
	OOBPending  = "pending"
	OOBApproved = "approved"
	OOBDeclined = "declined"
)

// AppStore keeps the app side of challenges. SQLStore implements it; Service.Authenticate opens
// the row through Store.RecordAReq, with its transaction and challenge.
type AppStore interface {
	// AppChallenge reads one app challenge with its session key opened; store.ErrNotFound when the
	// transaction has none.
	AppChallenge(ctx context.Context, acsTransID string) (AppRow, error)
	// ClaimCounter takes counter as the CReq counter of the transaction if it is the next one, so
	// that no two CReqs are ever answered under one counter; store.ErrConflict otherwise.
	ClaimCounter(ctx context.Context, acsTransID string, counter int) error
	// AppChallengeByOOBToken finds the challenge an issuer's app page shows.
	AppChallengeByOOBToken(ctx context.Context, token string) (AppRow, error)
	// DecideOOB records the cardholder's answer in the issuer's app while it is pending;
	// store.ErrConflict when it was answered before.
	DecideOOB(ctx context.Context, token, state string) error
	// StartOOB marks the approval pending once the SDK shows the out-of-band screen.
	StartOOB(ctx context.Context, acsTransID string) error
}

func appPlace(id string) Place {
	return Place{Table: "acs_app_challenges", Column: "session_sealed", Row: id}
}

// appArgs seals the session key, bound to its row, and gives the insert's arguments.
func (s *SQLStore) appArgs(a AppRow) ([]any, error) {
	sealed, keyID, err := s.vault.Seal(base64.RawStdEncoding.EncodeToString(a.Session), appPlace(a.ACSTransID))
	if err != nil {
		return nil, fmt.Errorf("acs: sealing a session key: %w", err)
	}
	return []any{a.ACSTransID, a.SDKTransID, sealed, keyID, a.UIType, a.Interface, a.NextCounter, oobDigest(a.OOBToken), a.OOBState}, nil
}

const insertApp = `INSERT INTO acs_app_challenges (acs_trans_id, sdk_trans_id, session_sealed, session_key_id, ui_type,
	acs_interface, next_counter, oob_token, oob_state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`

const appCols = `acs_trans_id, sdk_trans_id, session_sealed, ui_type, acs_interface, next_counter, oob_token, oob_state`

func (s *SQLStore) AppChallenge(ctx context.Context, id string) (AppRow, error) {
	return s.oneApp(ctx, `acs_trans_id = ?`, id)
}

func (s *SQLStore) AppChallengeByOOBToken(ctx context.Context, token string) (AppRow, error) {
	if token == "" {
		return AppRow{}, store.ErrNotFound
	}
	return s.oneApp(ctx, `oob_token = ?`, oobDigest(token))
}

func (s *SQLStore) oneApp(ctx context.Context, where, arg string) (AppRow, error) {
	var a AppRow
	var sealed, digest string
	err := s.db.Reader().QueryRowContext(ctx, s.db.Rebind(`SELECT `+appCols+` FROM acs_app_challenges WHERE `+where), arg).Scan(
		&a.ACSTransID, &a.SDKTransID, &sealed, &a.UIType, &a.Interface, &a.NextCounter, &digest, &a.OOBState)
	if err != nil {
		return a, store.MapError(err)
	}
	key, err := s.vault.Open(sealed, appPlace(a.ACSTransID))
	if err != nil {
		return a, fmt.Errorf("acs: opening the session key of %s: %w", a.ACSTransID, err)
	}
	if a.Session, err = base64.RawStdEncoding.DecodeString(key); err != nil {
		return a, fmt.Errorf("acs: the session key of %s: %w", a.ACSTransID, err)
	}
	if digest != "" {
		a.OOBToken = oobToken(a.Session)
	}
	return a, nil
}

// oobToken is the bank-app link token of an app challenge, derived from its session key (HMAC with a
// label of its own, so the link tells nothing of the key). The store keeps only its digest: a copy
// of the database without the vault key can approve no purchase, and any instance that opens the
// session can show the same link again.
func oobToken(session []byte) string {
	m := hmac.New(sha256.New, session)
	m.Write([]byte("open3ds/acs/oob-link/v1"))
	return hex.EncodeToString(m.Sum(nil))
}

// oobDigest is what the store keeps of a link token, and looks it up by; "" for none.
func oobDigest(token string) string {
	if token == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ClaimCounter is one conditional update: of CReqs racing with one counter, exactly one moves it.
func (s *SQLStore) ClaimCounter(ctx context.Context, id string, counter int) error {
	return s.db.WithGroupTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE acs_app_challenges SET next_counter = next_counter + 1
			WHERE acs_trans_id = ? AND next_counter = ?`), id, counter)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("%w: counter %03d is not the next", store.ErrConflict, counter)
		}
		return nil
	})
}

func (s *SQLStore) DecideOOB(ctx context.Context, token, state string) error {
	if token == "" {
		return store.ErrNotFound
	}
	return s.setOOB(ctx, `oob_token = ? AND oob_state = 'pending'`, oobDigest(token), state)
}

func (s *SQLStore) StartOOB(ctx context.Context, id string) error {
	return s.setOOB(ctx, `acs_trans_id = ? AND oob_state = ''`, id, OOBPending)
}

func (s *SQLStore) setOOB(ctx context.Context, where, arg, state string) error {
	return s.db.WithGroupTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE acs_app_challenges SET oob_state = ? WHERE `+where), state, arg)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("%w: the approval is not pending", store.ErrConflict)
		}
		return nil
	})
}
