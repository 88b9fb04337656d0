package threedsserver

import (
	"github.com/open3ds/open3ds/internal/retention"
	"github.com/open3ds/open3ds/internal/store"
)

// finishedStates are the states a transaction never leaves: its result is final. A transaction
// started, being sent or waiting for its RReq is in progress, and kept whatever its age.
const finishedStates = `('` + StateFrictionless + `', '` + StateFinal + `', '` + StateError + `')`

// RetentionSpec is the 3DS Server's retention: the finished transactions (each row holds the
// result the merchant read and its webhook carried) and the 3DS Server's exchanges, but none of a
// transaction in progress. Kept: merchants and the card-range cache, which are not transactions.
func RetentionSpec() retention.Spec {
	before := func(c retention.Cutoff) []any { return []any{store.Time(c.Before)} }
	return retention.Spec{Role: "3dss", Tables: []retention.Table{
		{Name: "tdss_transactions", Key: []string{"id"}, Where: `r.created_at < ? AND r.state IN ` + finishedStates, Args: before},
		{Name: "exchanges", Key: []string{"id"}, Where: `r.role = '3dss' AND r.started_at < ? AND NOT EXISTS (
			SELECT 1 FROM tdss_transactions t WHERE t.id = r.three_ds_server_trans_id AND t.state NOT IN ` + finishedStates + `)`,
			Args: before},
	}}
}
