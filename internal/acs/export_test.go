package acs

import (
	"bytes"
	"compress/flate"
	"context"
	"database/sql"
	"encoding/json"

	"github.com/open3ds/open3ds/internal/store"
)

// The tests open and read a challenge alone; the ACS opens one with its transaction (RecordAReq) and
// reads it with its transaction (ChallengeWithTransaction).

func (s *SQLStore) CreateChallenge(ctx context.Context, c ChallengeRow) error {
	args, err := challengeArgs(c)
	if err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.db.Rebind(insertChallenge), args...)
		return err
	})
}

func (s *SQLStore) Challenge(ctx context.Context, id string) (ChallengeRow, error) {
	row := s.db.Reader().QueryRowContext(ctx, s.db.Rebind(`SELECT `+chCols+` FROM acs_challenges WHERE acs_trans_id = ?`), id)
	c, err := scanChallenge(row.Scan)
	return c, store.MapError(err)
}

// SealRiskInput is the work RecordAReq adds to the AReq path for the backtest, for its benchmark.
func (s *SQLStore) SealRiskInput(t Transaction) (string, int, error) { return s.sealRiskInput(t) }

// SealRiskInputDeflated seals a risk input the way main wrote rows on 2026-12-06: deflated JSON
// after the riskInputDeflated byte.
func (s *SQLStore) SealRiskInputDeflated(t Transaction) (string, error) {
	in := t.RiskInput
	b, err := json.Marshal(storedRiskInput{Version: 1, AReq: in.AReq, History: in.History, HasDeviceData: in.HasDeviceData,
		DeviceIP: in.DeviceIP, LocaleCountry: in.LocaleCountry, IPCountry: in.IPCountry, Now: in.Now.UTC()})
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	out.WriteByte(riskInputDeflated)
	w, _ := flate.NewWriter(&out, flate.BestSpeed)
	if _, err := w.Write(b); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	sealed, _, err := s.vault.Seal(out.String(), riskInputPlace(t.ACSTransID))
	return sealed, err
}

// OpenRiskInput opens a sealed risk input as a backtest's replay does.
func (s *SQLStore) OpenRiskInput(id, sealed string) (RiskInput, error) {
	return s.openRiskInput(id, sealed)
}
