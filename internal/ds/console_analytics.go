package ds

import (
	"context"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/store"
)

// The DS's analytics: plain SQL over ds_transactions (one row per AReq the DS answered with an
// ARes, its own or the ACS's, or with the ACS's Erro) and the exchange log (the Erros, whoever
// made them), grouped by day in UTC.

// AnalyticsFilter narrows the analytics. Empty fields match everything.
type AnalyticsFilter struct {
	From, To time.Time // days in UTC; To is the last day counted
	ACS      string
	// BIN is a prefix of the card number, at most six digits: the masked PAN keeps no more.
	BIN            string
	Server         string // the 3DS Server, by its registry name
	MessageVersion string
	Channel        string // deviceChannel: 01 app, 02 browser, 03 3RI
}

// DayStats is one day's counts.
type DayStats struct {
	Day          string // 2006-01-02
	AReqs        int64
	Frictionless int64 // the ACS answered Y or A: authenticated without a challenge
	Challenges   int64 // the ACS answered C or D
	StandIns     int64 // the DS answered for an ACS that was absent, late or not enrolled
}

// ErroCount is how many AReqs ended in an Erro of one code.
type ErroCount struct {
	Code  string
	Count int64
}

type analytics struct{ db *store.DB }

func newAnalytics(db *store.DB) *analytics { return &analytics{db: db} }

func (a *analytics) day(col string) string {
	if a.db.Dialect() == store.Postgres {
		return "to_char(" + col + " AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
	}
	return "substr(" + col + ", 1, 10)"
}

// span is the filter's days as the half-open interval of times they cover.
func (f AnalyticsFilter) span() (store.Time, store.Time) {
	from := time.Date(f.From.Year(), f.From.Month(), f.From.Day(), 0, 0, 0, 0, time.UTC)
	to := time.Date(f.To.Year(), f.To.Month(), f.To.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
	return store.Time(from), store.Time(to)
}

// standInLeg is the DS's AReq to the ACS that the transaction t stood in for; stood-in
// transactions keep no ACS name, so an ACS filter finds them through the exchange log.
const standInLeg = `EXISTS (SELECT 1 FROM exchanges o WHERE o.three_ds_server_trans_id = t.three_ds_server_trans_id
	AND o.ds_trans_id = t.ds_trans_id AND o.role = 'ds' AND o.direction = 'out' AND o.message_type = 'AReq' AND o.peer = ?)`

// Days counts the AReqs of each day in f's span that had any.
func (a *analytics) Days(ctx context.Context, f AnalyticsFilter) ([]DayStats, error) {
	from, to := f.span()
	where := []string{"t.created_at >= ?", "t.created_at < ?"}
	args := []any{from, to}
	if f.ACS != "" {
		where = append(where, "(t.acs_name = ? OR (t.acs_name = '' AND "+standInLeg+"))")
		args = append(args, f.ACS, "acs:"+f.ACS)
	}
	if f.BIN != "" {
		where = append(where, "t.masked_pan LIKE ?")
		args = append(args, f.BIN+"%")
	}
	if f.Server != "" {
		where = append(where, "t.server_name = ?")
		args = append(args, f.Server)
	}
	if f.MessageVersion != "" {
		where = append(where, "t.message_version = ?")
		args = append(args, f.MessageVersion)
	}
	if f.Channel != "" {
		where = append(where, "t.device_channel = ?")
		args = append(args, f.Channel)
	}
	day := a.day("t.created_at")
	rows, err := a.db.Reader().QueryContext(ctx, a.db.Rebind(`SELECT `+day+`, count(*),
		sum(CASE WHEN t.acs_name <> '' AND t.outcome IN ('Y', 'A') THEN 1 ELSE 0 END),
		sum(CASE WHEN t.acs_name <> '' AND t.outcome IN ('C', 'D') THEN 1 ELSE 0 END),
		sum(CASE WHEN t.acs_name = '' THEN 1 ELSE 0 END)
		FROM ds_transactions t WHERE `+strings.Join(where, " AND ")+` GROUP BY `+day+` ORDER BY 1`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DayStats
	for rows.Next() {
		var d DayStats
		if err := rows.Scan(&d.Day, &d.AReqs, &d.Frictionless, &d.Challenges, &d.StandIns); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Erros counts the AReqs in f's span that ended in an Erro, by code: the DS's own refusals and the
// ACSs' Erros it relayed. The exchange log knows no channel for an AReq the DS refused before
// routing it, so a channel filter counts only the routed ones.
func (a *analytics) Erros(ctx context.Context, f AnalyticsFilter) ([]ErroCount, error) {
	from, to := f.span()
	where := []string{"e.role = 'ds'", "e.direction = 'in'", "e.message_type = 'AReq'", "e.outcome = 'Erro'",
		"e.started_at >= ?", "e.started_at < ?"}
	args := []any{from, to}
	if f.ACS != "" {
		where = append(where, `EXISTS (SELECT 1 FROM exchanges o WHERE o.three_ds_server_trans_id = e.three_ds_server_trans_id
			AND o.ds_trans_id = e.ds_trans_id AND o.role = 'ds' AND o.direction = 'out' AND o.peer = ?)`)
		args = append(args, "acs:"+f.ACS)
	}
	if f.BIN != "" {
		where = append(where, "e.masked_pan LIKE ?")
		args = append(args, f.BIN+"%")
	}
	if f.Server != "" {
		where = append(where, "e.peer = ?")
		args = append(args, "3dss:"+f.Server)
	}
	if f.MessageVersion != "" {
		where = append(where, "e.message_version = ?")
		args = append(args, f.MessageVersion)
	}
	if f.Channel != "" {
		where = append(where, "EXISTS (SELECT 1 FROM ds_transactions t WHERE t.ds_trans_id = e.ds_trans_id AND t.device_channel = ?)")
		args = append(args, f.Channel)
	}
	rows, err := a.db.Reader().QueryContext(ctx, a.db.Rebind(`SELECT COALESCE(e.error_code, ''), count(*) FROM exchanges e
		WHERE `+strings.Join(where, " AND ")+` GROUP BY COALESCE(e.error_code, '') ORDER BY 2 DESC, 1`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ErroCount
	for rows.Next() {
		var c ErroCount
		if err := rows.Scan(&c.Code, &c.Count); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
