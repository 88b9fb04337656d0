package ds

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/console"
	"github.com/open3ds/open3ds/internal/store"
)

var healthPage = console.ParsePage(consoleFiles, "console_templates/health.html")

// healthWindow is how far back the ACS health page looks.
const healthWindow = time.Hour

// ACSHealth is how one ACS answered the DS's AReqs in a window, from the exchange log's record of
// each call the DS made to it.
type ACSHealth struct {
	ACS                   string
	AReqs                 int64 // AReqs the DS sent it
	Timeouts, Unreachable int64
	Erros                 int64 // it answered with an Erro
	StandIns              int64 // the DS answered in its place after it failed
	P95                   time.Duration
	HasP95                bool
}

// Failures is every AReq it did not answer with an ARes.
func (h ACSHealth) Failures() int64 { return h.Timeouts + h.Unreachable + h.Erros }

// State is good, warn (some failed) or bad (none answered); idle without AReqs.
func (h ACSHealth) State() string {
	switch {
	case h.AReqs == 0:
		return "idle"
	case h.Timeouts+h.Unreachable == h.AReqs:
		return "bad"
	case h.Failures() > 0:
		return "warn"
	}
	return "good"
}

// P95ms is the 95th percentile of its answer times in milliseconds.
func (h ACSHealth) P95ms() string {
	if !h.HasP95 {
		return "—"
	}
	ms := strconv.FormatFloat(float64(h.P95)/float64(time.Millisecond), 'f', 1, 64)
	return strings.TrimSuffix(ms, ".0") + " ms"
}

// Health reports each ACS's calls since since, registered ACSs first (idle ones too).
func (a *analytics) Health(ctx context.Context, acss []string, since time.Time) ([]ACSHealth, error) {
	from := store.Time(since)
	byPeer := map[string]*ACSHealth{}
	var out []*ACSHealth
	get := func(peer string) *ACSHealth {
		name := strings.TrimPrefix(peer, "acs:")
		if h, ok := byPeer[name]; ok {
			return h
		}
		h := &ACSHealth{ACS: name}
		byPeer[name] = h
		out = append(out, h)
		return h
	}
	for _, n := range acss {
		get(n)
	}
	rows, err := a.db.Reader().QueryContext(ctx, a.db.Rebind(`SELECT peer, count(*),
		sum(CASE WHEN outcome = 'timeout' THEN 1 ELSE 0 END),
		sum(CASE WHEN outcome = 'unreachable' THEN 1 ELSE 0 END),
		sum(CASE WHEN outcome = 'Erro' THEN 1 ELSE 0 END)
		FROM exchanges WHERE role = 'ds' AND direction = 'out' AND message_type = 'AReq' AND peer LIKE 'acs:%'
		AND started_at >= ? GROUP BY peer`), from)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var peer string
		var h ACSHealth
		if err := rows.Scan(&peer, &h.AReqs, &h.Timeouts, &h.Unreachable, &h.Erros); err != nil {
			rows.Close()
			return nil, err
		}
		p := get(peer)
		p.AReqs, p.Timeouts, p.Unreachable, p.Erros = h.AReqs, h.Timeouts, h.Unreachable, h.Erros
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = a.db.Reader().QueryContext(ctx, a.db.Rebind(`SELECT o.peer, count(*) FROM ds_transactions t
		JOIN exchanges o ON o.three_ds_server_trans_id = t.three_ds_server_trans_id AND o.ds_trans_id = t.ds_trans_id
		AND o.role = 'ds' AND o.direction = 'out' AND o.message_type = 'AReq'
		WHERE t.acs_name = '' AND t.created_at >= ? AND o.peer LIKE 'acs:%' GROUP BY o.peer`), from)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var peer string
		var n int64
		if err := rows.Scan(&peer, &n); err != nil {
			rows.Close()
			return nil, err
		}
		get(peer).StandIns = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// The 95th percentile by nearest rank over the calls it answered, one probe per ACS: there are
	// few ACSs, and the index on started_at bounds each to the window.
	for _, h := range out {
		answered := h.AReqs - h.Timeouts - h.Unreachable
		if answered <= 0 {
			continue
		}
		rank := int64(math.Ceil(0.95 * float64(answered)))
		var us int64
		err := a.db.Reader().QueryRowContext(ctx, a.db.Rebind(`SELECT duration_us FROM exchanges
			WHERE role = 'ds' AND direction = 'out' AND message_type = 'AReq' AND peer = ? AND started_at >= ?
			AND outcome NOT IN ('timeout', 'unreachable') ORDER BY duration_us LIMIT 1 OFFSET ?`), "acs:"+h.ACS, from, rank-1).Scan(&us)
		if err != nil {
			return nil, err
		}
		h.P95, h.HasP95 = time.Duration(us)*time.Microsecond, true
	}
	res := make([]ACSHealth, len(out))
	for i, h := range out {
		res[i] = *h
	}
	return res, nil
}

func (p *consolePages) health(r *console.Request) (console.View, error) {
	acss, err := p.o.Store.ListACS(r.Context())
	if err != nil {
		return console.View{}, err
	}
	names := make([]string, len(acss))
	for i, a := range acss {
		names[i] = a.Name
	}
	now := p.o.Now()
	hs, err := p.a.Health(r.Context(), names, now.Add(-healthWindow))
	if err != nil {
		return console.View{}, err
	}
	return console.View{Title: "ACS health", Template: healthPage, Data: map[string]any{"ACSs": hs, "Since": now.Add(-healthWindow)}}, nil
}
