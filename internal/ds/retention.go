package ds

import (
	"github.com/open3ds/open3ds/internal/retention"
	"github.com/open3ds/open3ds/internal/store"
)

// dsInProgress holds for a DS transaction (alias t) whose ARes asked for a challenge or a decoupled
// authentication (C or D) and whose RReq the DS has not yet relayed to an RRes: the DS must still
// know where that RReq goes. It finds the RReq among the DS's exchanges by the 3DS Server's
// transaction id, which they are indexed by.
const dsInProgress = `(t.outcome IN ('C', 'D') AND NOT EXISTS (SELECT 1 FROM exchanges e
	WHERE e.three_ds_server_trans_id = t.three_ds_server_trans_id AND e.ds_trans_id = t.ds_trans_id
		AND e.role = 'ds' AND e.message_type = 'RReq' AND e.response_type = 'RRes'))`

// RetentionSpec is the DS's retention: the transactions it routed, then its exchanges (in that
// order, as a transaction's RReq exchange is what shows it ended). Kept: the scheme, ACSs, 3DS
// Servers, card ranges and their change log, approved SDKs and PReq pacing, which are not
// transactions.
func RetentionSpec() retention.Spec {
	before := func(c retention.Cutoff) []any { return []any{store.Time(c.Before)} }
	return retention.Spec{Role: "ds", Tables: []retention.Table{
		{Name: "ds_transactions", Key: []string{"ds_trans_id"}, Where: `r.created_at < ? AND NOT EXISTS (
			SELECT 1 FROM ds_transactions t WHERE t.ds_trans_id = r.ds_trans_id AND ` + dsInProgress + `)`, Args: before},
		{Name: "exchanges", Key: []string{"id"}, Where: `r.role = 'ds' AND r.started_at < ? AND NOT EXISTS (
			SELECT 1 FROM ds_transactions t WHERE t.ds_trans_id = r.ds_trans_id AND ` + dsInProgress + `)`, Args: before},
	}}
}
