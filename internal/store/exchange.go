package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
	"unicode"

	"github.com/open3ds/open3ds/internal/ids"
)

// Role names the component that recorded an exchange.
type Role string

// The roles of an open3ds network.
const (
	RoleDS   Role = "ds"
	RoleACS  Role = "acs"
	Role3DSS Role = "3dss"
)

// Direction tells who opened an exchange: the recording role (Out) or its peer (In).
type Direction string

// The directions of an exchange.
const (
	In  Direction = "in"
	Out Direction = "out"
)

// Exchange is one request and its answer as a role saw them: every role records each exchange it
// takes part in, so that a transaction's path through the network can be traced and timed.
// Optional fields are empty when unknown; the store keeps them as NULL.
type Exchange struct {
	// ID identifies the record. RecordExchange makes a random one when it is empty.
	ID        string
	Role      Role
	Direction Direction
	// Peer names the component at the other end (a DS, an ACS, a 3DS Server, a browser).
	Peer string
	// MessageType is the request's type (AReq, CReq, PReq, RReq, …) and ResponseType the answer's
	// (ARes, Erro, …), empty when none came.
	MessageType  string
	ResponseType string

	ThreeDSServerTransID string
	DSTransID            string
	ACSTransID           string
	SDKTransID           string

	// MaskedPAN shows at most ten digits (the first six and the last four); RecordExchange refuses
	// more. Empty for messages that carry no PAN.
	MaskedPAN      string
	MessageVersion string
	// Outcome is how the exchange ended: a transStatus such as "Y" or "C", "Erro", "timeout".
	Outcome        string
	ErrorCode      string
	ErrorComponent string // C (3DS SDK), S (3DS Server), D (DS) or A (ACS), for an Erro

	// StartedAt and Duration are kept at microsecond precision; StartedAt reads back in UTC.
	StartedAt time.Time
	Duration  time.Duration
}

// maxVisiblePANDigits is the most a masked PAN may show: the BIN's six and the last four.
const maxVisiblePANDigits = 10

// validate checks what the store refuses to keep. Its messages never quote a field's value: a
// field such as MaskedPAN may hold the very data that must not reach a log.
func (e *Exchange) validate() error {
	switch {
	case e.Role != RoleDS && e.Role != RoleACS && e.Role != Role3DSS:
		return fmt.Errorf("%w: exchange role must be ds, acs or 3dss", ErrInvalid)
	case e.Direction != In && e.Direction != Out:
		return fmt.Errorf("%w: exchange direction must be in or out", ErrInvalid)
	case e.Peer == "":
		return fmt.Errorf("%w: exchange has no peer", ErrInvalid)
	case e.MessageType == "":
		return fmt.Errorf("%w: exchange has no message type", ErrInvalid)
	case e.Outcome == "":
		return fmt.Errorf("%w: exchange has no outcome", ErrInvalid)
	case e.StartedAt.IsZero():
		return fmt.Errorf("%w: exchange has no start time", ErrInvalid)
	case e.Duration < 0:
		return fmt.Errorf("%w: exchange duration is negative", ErrInvalid)
	}
	switch e.ErrorComponent {
	case "", "C", "S", "D", "A":
	default:
		return fmt.Errorf("%w: exchange error component must be C, S, D or A", ErrInvalid)
	}
	digits := 0
	for _, r := range e.MaskedPAN {
		if unicode.IsDigit(r) {
			digits++
		}
	}
	if digits > maxVisiblePANDigits {
		return fmt.Errorf("%w: masked PAN shows %d digits; at most %d (the first six and the last four) may be stored",
			ErrInvalid, digits, maxVisiblePANDigits)
	}
	return nil
}

const exchangeColumns = `id, role, direction, peer, message_type, response_type,
	three_ds_server_trans_id, ds_trans_id, acs_trans_id, sdk_trans_id,
	masked_pan, message_version, outcome, error_code, error_component, started_at, duration_us`

// RecordExchange stores one exchange. It returns ErrInvalid, naming the field, when the exchange
// lacks a required field or shows more of the PAN than its first six and last four digits, and
// ErrConflict when an exchange with the same ID exists. It returns once the exchange is committed.
func (db *DB) RecordExchange(ctx context.Context, e Exchange) error {
	in, err := db.ExchangeInsert(e)
	if err != nil {
		return err
	}
	// Every message a role handles leaves one of these: on SQLite they go by group commit, on
	// PostgreSQL the one statement commits on its own (InsertAll).
	if err := db.InsertAll(ctx, in); err != nil {
		return fmt.Errorf("store: record exchange: %w", err)
	}
	return nil
}

// RecordExchangeTx stores one exchange as part of a transaction WithTx runs, so that a role can
// commit the exchange with the state it changed. It returns ErrInvalid as RecordExchange does;
// ErrConflict and other database errors come from WithTx once the transaction fails.
func (db *DB) RecordExchangeTx(ctx context.Context, tx *sql.Tx, e Exchange) error {
	in, err := db.ExchangeInsert(e)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, db.Rebind(in.Query), in.Args...); err != nil {
		return fmt.Errorf("store: record exchange: %w", err)
	}
	return nil
}

// ExchangeInsert checks e as RecordExchange does and returns the Insert that stores it, giving it an
// ID if it has none, for a role that writes it with other rows through InsertAll.
func (db *DB) ExchangeInsert(e Exchange) (Insert, error) {
	if err := e.validate(); err != nil {
		return Insert{}, err
	}
	if e.ID == "" {
		e.ID = ids.New()
	}
	return Insert{Query: `INSERT INTO exchanges (` + exchangeColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, Args: []any{
		e.ID, string(e.Role), string(e.Direction), e.Peer, e.MessageType, null(e.ResponseType),
		null(e.ThreeDSServerTransID), null(e.DSTransID), null(e.ACSTransID), null(e.SDKTransID),
		null(e.MaskedPAN), null(e.MessageVersion), e.Outcome, null(e.ErrorCode), null(e.ErrorComponent),
		Time(e.StartedAt), e.Duration.Microseconds()}}, nil
}

// ExchangesByTransID returns the exchanges recorded for one transaction, oldest first; none (and
// no error) for a transaction it has not seen. It returns ErrInvalid for an empty id.
func (db *DB) ExchangesByTransID(ctx context.Context, threeDSServerTransID string) ([]Exchange, error) {
	if threeDSServerTransID == "" {
		return nil, fmt.Errorf("%w: no threeDSServerTransID to look up", ErrInvalid)
	}
	return db.queryExchanges(ctx, `SELECT `+exchangeColumns+` FROM exchanges
		WHERE three_ds_server_trans_id = ? ORDER BY started_at, id`, threeDSServerTransID)
}

// MaxRecent is the most exchanges RecentExchanges returns at once.
const MaxRecent = 1000

// RecentExchanges returns the latest exchanges, newest first, at most limit of them. It returns
// ErrInvalid unless 1 <= limit <= MaxRecent.
func (db *DB) RecentExchanges(ctx context.Context, limit int) ([]Exchange, error) {
	if limit < 1 || limit > MaxRecent {
		return nil, fmt.Errorf("%w: limit must be between 1 and %d", ErrInvalid, MaxRecent)
	}
	return db.queryExchanges(ctx, `SELECT `+exchangeColumns+` FROM exchanges
		ORDER BY started_at DESC, id DESC LIMIT ?`, limit)
}

func (db *DB) queryExchanges(ctx context.Context, query string, args ...any) ([]Exchange, error) {
	rows, err := db.read.QueryContext(ctx, db.Rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: read exchanges: %w", MapError(err))
	}
	defer rows.Close()
	var out []Exchange
	for rows.Next() {
		var (
			e                                                  Exchange
			resp, tid, dsid, acsid, sdkid, pan, ver, code, cmp sql.NullString
			us                                                 int64
		)
		err := rows.Scan(&e.ID, &e.Role, &e.Direction, &e.Peer, &e.MessageType, &resp,
			&tid, &dsid, &acsid, &sdkid, &pan, &ver, &e.Outcome, &code, &cmp, (*Time)(&e.StartedAt), &us)
		if err != nil {
			return nil, fmt.Errorf("store: read exchanges: %w", err)
		}
		e.ResponseType, e.ThreeDSServerTransID, e.DSTransID, e.ACSTransID, e.SDKTransID =
			resp.String, tid.String, dsid.String, acsid.String, sdkid.String
		e.MaskedPAN, e.MessageVersion, e.ErrorCode, e.ErrorComponent = pan.String, ver.String, code.String, cmp.String
		e.Duration = time.Duration(us) * time.Microsecond
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read exchanges: %w", MapError(err))
	}
	return out, nil
}

// null stores an empty optional field as NULL.
func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}
