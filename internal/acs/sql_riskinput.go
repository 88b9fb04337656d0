package acs

import (
	"bytes"
	"compress/flate"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/store"
)

// storedRiskInput is the sealed JSON of acs_risk_inputs: everything the risk engine was given for
// one AReq. Version says which shape it has, so that a later change can still read old rows.
type storedRiskInput struct {
	Version        int       `json:"v"`
	AReq           *emv.AReq `json:"areq"`
	History        History   `json:"history"`
	HasDeviceData  bool      `json:"hasDeviceData,omitempty"`
	DeviceIP       string    `json:"deviceIP,omitempty"`
	DeviceWarnings []string  `json:"deviceWarnings,omitempty"`
	LocaleCountry  string    `json:"localeCountry,omitempty"`
	IPCountry      string    `json:"ipCountry,omitempty"`
	Now            time.Time `json:"now"`
}

func riskInputPlace(id string) Place {
	return Place{Table: "acs_risk_inputs", Column: "input_sealed", Row: id}
}

// The sealed plaintext is the input's JSON. For one day (2026-12-06) main deflated it first, after
// a byte that says so (riskInputDeflated), to halve the row: measured, the deflating cost an AReq
// more CPU (about 60 µs) than the smaller write saved, so it was dropped (BENCHMARKS.md). Rows
// written then are still read; JSON always starts with '{'.
const riskInputDeflated = 0x01

// riskInputBuffers keeps the JSON encoders' buffers between AReqs.
var riskInputBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// sealRiskInput encodes and seals what the risk engine saw, bound to the transaction's row. It runs
// before the commit opens, like the PAN's sealing, so the transaction holds only the inserts.
func (s *SQLStore) sealRiskInput(t Transaction) (sealed string, keyID int, err error) {
	in := t.RiskInput
	b := riskInputBuffers.Get().(*bytes.Buffer)
	defer riskInputBuffers.Put(b)
	b.Reset()
	if err := json.NewEncoder(b).Encode(storedRiskInput{Version: 1, AReq: in.AReq, History: in.History, HasDeviceData: in.HasDeviceData,
		DeviceIP: in.DeviceIP, DeviceWarnings: in.DeviceWarnings, LocaleCountry: in.LocaleCountry, IPCountry: in.IPCountry,
		Now: in.Now.UTC()}); err != nil {
		return "", 0, fmt.Errorf("acs: encoding the risk input: %w", err)
	}
	if sealed, keyID, err = s.vault.Seal(b.String(), riskInputPlace(t.ACSTransID)); err != nil {
		return "", 0, fmt.Errorf("acs: sealing the risk input: %w", err)
	}
	return sealed, keyID, nil
}

// riskInputJSON undoes the deflating of a risk input written on that day; JSON comes back as it is.
func riskInputJSON(raw []byte) ([]byte, error) {
	if len(raw) == 0 || raw[0] != riskInputDeflated {
		return raw, nil
	}
	// A stored input is bounded by the AReq's own size limit; the bound stops a corrupt row from
	// inflating without end.
	out, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(raw[1:])), 1<<20))
	if err != nil {
		return nil, fmt.Errorf("inflating: %w", err)
	}
	return out, nil
}

const insertRiskInput = `INSERT INTO acs_risk_inputs (acs_trans_id, input_sealed, input_key_id, created_at) VALUES (?, ?, ?, ?)`

// ReplayQuery picks the stored risk inputs a backtest reads: those recorded in [Since, Until),
// of one issuer when Issuer is not empty.
type ReplayQuery struct {
	Since, Until time.Time
	Issuer       string
}

// Replay is one stored AReq as the backtest sees it: the transaction's outcome, the risk engine's
// input opened from the vault, and the fraud reported against it ("" when none was).
type Replay struct {
	ACSTransID   string
	IssuerID     string
	MaskedPAN    string
	CreatedAt    time.Time
	LiveDecision string // the live policy's outcome: Frictionless, Challenge or Deny
	TransStatus  string
	Input        RiskInput
	FraudType    string
}

// Replays calls fn with each stored risk input that q picks, oldest first. It stops at fn's first
// error and returns it. Rows are read in pages so that a long window holds no cursor open while fn
// runs and memory stays flat.
func (s *SQLStore) Replays(ctx context.Context, q ReplayQuery, fn func(Replay) error) error {
	const page = 500
	// afterID "" lets the first page take the rows at Since itself.
	after, afterID := store.Time(q.Since), ""
	for {
		batch, err := s.replayPage(ctx, q, after, afterID, page)
		if err != nil {
			return err
		}
		for _, r := range batch {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(batch) < page {
			return nil
		}
		last := batch[len(batch)-1]
		after, afterID = store.Time(last.CreatedAt), last.ACSTransID
	}
}

// replayPage reads the rows after (after, afterID) in (created_at, acs_trans_id) order.
func (s *SQLStore) replayPage(ctx context.Context, q ReplayQuery, after store.Time, afterID string, n int) ([]Replay, error) {
	args := []any{after, after, afterID, store.Time(q.Until)}
	issuer := ""
	if q.Issuer != "" {
		issuer, args = ` AND t.issuer_id = ?`, append(args, q.Issuer)
	}
	args = append(args, n)
	rows, err := s.db.Reader().QueryContext(ctx, s.db.Rebind(`SELECT r.acs_trans_id, r.input_sealed, r.created_at, t.issuer_id,
		t.masked_pan, t.live_decision, t.trans_status,
		COALESCE((SELECT MIN(f.fraud_type) FROM acs_fraud_reports f WHERE f.acs_trans_id = r.acs_trans_id), '')
		FROM acs_risk_inputs r JOIN acs_transactions t ON t.acs_trans_id = r.acs_trans_id
		WHERE (r.created_at > ? OR (r.created_at = ? AND r.acs_trans_id > ?)) AND r.created_at < ?`+issuer+`
		ORDER BY r.created_at, r.acs_trans_id LIMIT ?`), args...)
	if err != nil {
		return nil, store.MapError(err)
	}
	type sealedRow struct {
		r      Replay
		sealed string
	}
	var got []sealedRow
	for rows.Next() {
		var x sealedRow
		if err := rows.Scan(&x.r.ACSTransID, &x.sealed, (*store.Time)(&x.r.CreatedAt), &x.r.IssuerID, &x.r.MaskedPAN,
			&x.r.LiveDecision, &x.r.TransStatus, &x.r.FraudType); err != nil {
			rows.Close()
			return nil, err
		}
		got = append(got, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Replay, len(got))
	for i, x := range got {
		out[i] = x.r
		if out[i].Input, err = s.openRiskInput(x.r.ACSTransID, x.sealed); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *SQLStore) openRiskInput(id, sealed string) (RiskInput, error) {
	raw, err := s.vault.Open(sealed, riskInputPlace(id))
	if err != nil {
		return RiskInput{}, fmt.Errorf("acs: opening the risk input of %s: %w", id, err)
	}
	js, err := riskInputJSON([]byte(raw))
	if err != nil {
		return RiskInput{}, fmt.Errorf("acs: the risk input of %s: %w", id, err)
	}
	var st storedRiskInput
	if err := json.Unmarshal(js, &st); err != nil {
		return RiskInput{}, fmt.Errorf("acs: the risk input of %s: %w", id, err)
	}
	if st.Version != 1 {
		return RiskInput{}, fmt.Errorf("acs: the risk input of %s has version %d, which this build cannot read", id, st.Version)
	}
	return RiskInput{AReq: st.AReq, History: st.History, HasDeviceData: st.HasDeviceData, DeviceIP: st.DeviceIP,
		DeviceWarnings: st.DeviceWarnings, LocaleCountry: st.LocaleCountry, IPCountry: st.IPCountry, Now: st.Now}, nil
}

// PruneRiskInputs deletes up to limit risk inputs recorded before cutoff and says how many it
// deleted; the transactions themselves stay. An operator keeps inputs only as long as backtests
// need them, since they hold card and personal data.
func (s *SQLStore) PruneRiskInputs(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	n := 0
	err := s.db.WithTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM acs_risk_inputs WHERE acs_trans_id IN
			(SELECT acs_trans_id FROM acs_risk_inputs WHERE created_at < ? ORDER BY created_at LIMIT ?)`), store.Time(cutoff), limit)
		if err != nil {
			return err
		}
		k, _ := res.RowsAffected()
		n = int(k)
		return nil
	})
	return n, err
}
