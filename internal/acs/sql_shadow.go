package acs

import (
	"context"
	"time"

	"github.com/open3ds/open3ds/internal/store"
)

// DecisionCount is how many AReqs of one issuer on one UTC day the risk engine decided Live with
// the live policy and Shadow with the shadow policy. Shadow is "none" where the issuer had no
// shadow policy then.
type DecisionCount struct {
	Issuer       string
	Day          string // YYYY-MM-DD, UTC
	Live, Shadow string
	N            int64
}

// DecisionCounts counts the live and shadow decisions of the AReqs the risk engine scored in
// [since, until), of one issuer when issuer is not empty, grouped in the database: the answer has
// at most issuers × days × 12 rows, however many AReqs the window holds.
func (s *SQLStore) DecisionCounts(ctx context.Context, since, until time.Time, issuer string) ([]DecisionCount, error) {
	day := `substr(created_at, 1, 10)`
	if s.db.Dialect() == store.Postgres {
		day = `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`
	}
	q := `SELECT issuer_id, ` + day + ` AS day, live_decision, shadow_decision, COUNT(*) FROM acs_transactions
		WHERE created_at >= ? AND created_at < ? AND live_decision IN ('frictionless', 'challenge', 'deny')`
	args := []any{store.Time(since), store.Time(until)}
	if issuer != "" {
		q, args = q+` AND issuer_id = ?`, append(args, issuer)
	}
	q += ` GROUP BY issuer_id, ` + day + `, live_decision, shadow_decision ORDER BY issuer_id, day`
	rows, err := s.db.Reader().QueryContext(ctx, s.db.Rebind(q), args...)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	var out []DecisionCount
	for rows.Next() {
		var c DecisionCount
		if err := rows.Scan(&c.Issuer, &c.Day, &c.Live, &c.Shadow, &c.N); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
