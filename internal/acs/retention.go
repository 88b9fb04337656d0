package acs

import (
	"github.com/open3ds/open3ds/internal/retention"
	"github.com/open3ds/open3ds/internal/store"
)

// acsInProgress holds for an ACS transaction (alias t) that has not ended: a challenge or decoupled
// authentication not yet decided, a challenge whose page has not finished, or an RReq the DS has
// not yet acknowledged. Such a transaction's rows are kept whatever their age.
const acsInProgress = `((t.ended_at IS NULL AND t.trans_status IN ('C', 'D'))
	OR EXISTS (SELECT 1 FROM acs_challenges c WHERE c.acs_trans_id = t.acs_trans_id AND c.step <> 'done')
	OR EXISTS (SELECT 1 FROM acs_rreq_outbox o WHERE o.acs_trans_id = t.acs_trans_id AND o.sent_at IS NULL))`

// acsExpired holds for a transaction (alias t) whose rows may go: begun before the cutoff, ended,
// and backing no recurring agreement still running (a 3RI may name it as its prior until its
// recurringExpiry, YYYYMMDD, and for a while after its latest 3RI). Its arguments are acsArgs.
const acsExpired = `t.created_at < ? AND NOT ` + acsInProgress + `
	AND t.recurring_expiry < ? AND (t.linked_last_at IS NULL OR t.linked_last_at < ?)`

func acsArgs(c retention.Cutoff) []any {
	before := store.Time(c.Before)
	return []any{before, c.Now.UTC().Format("20060102"), before}
}

// ofExpired selects the rows of a table keyed by acs_trans_id whose transaction may go.
const ofExpired = `EXISTS (SELECT 1 FROM acs_transactions t WHERE t.acs_trans_id = r.acs_trans_id AND ` + acsExpired + `)`

// RetentionSpec is the ACS's retention: the rows about a transaction (its challenge, app challenge,
// decoupled approval, RReq, risk input) go before the transaction's own row, so that none is left
// behind; the device data of the 3DS Method, the failed code entries, the code delivery records and
// the exchanges go by their own age. Kept: issuers, card ranges, cardholders and fraud reports,
// which are not transactions.
func RetentionSpec() retention.Spec {
	byTx := func(name string) retention.Table {
		return retention.Table{Name: name, Key: []string{"acs_trans_id"}, Where: ofExpired, Args: acsArgs}
	}
	return retention.Spec{Role: "acs", Tables: []retention.Table{
		byTx("acs_app_challenges"),
		byTx("acs_challenges"),
		byTx("acs_decoupled"),
		byTx("acs_rreq_outbox"),
		byTx("acs_risk_inputs"),
		{Name: "acs_transactions", Key: []string{"acs_trans_id"}, Where: `EXISTS (SELECT 1 FROM acs_transactions t
			WHERE t.acs_trans_id = r.acs_trans_id AND ` + acsExpired + `)`, Args: acsArgs},
		{Name: "acs_device_data", Key: []string{"three_ds_server_trans_id"}, Where: `r.created_at < ?
			AND NOT EXISTS (SELECT 1 FROM acs_transactions t WHERE t.three_ds_server_trans_id = r.three_ds_server_trans_id
				AND ` + acsInProgress + `)`, Args: beforeArg},
		// A failed entry counts towards the card lock only within the issuer's lock window (a day by
		// default), far shorter than any retention age.
		{Name: "acs_otp_failures", Key: []string{"pan_hash", "failed_at"}, Where: `r.failed_at < ?`, Args: beforeArg},
		// A delivery record names no cardholder and serves only the console's counts, so it goes by
		// its own age, whatever became of its transaction.
		{Name: "acs_deliveries", Key: []string{"message_id", "attempt"}, Where: `r.finished_at < ?`, Args: beforeArg},
		{Name: "exchanges", Key: []string{"id"}, Where: `r.role = 'acs' AND r.started_at < ?
			AND NOT EXISTS (SELECT 1 FROM acs_transactions t WHERE t.acs_trans_id = r.acs_trans_id AND ` + acsInProgress + `)`,
			Args: beforeArg},
	}}
}

func beforeArg(c retention.Cutoff) []any { return []any{store.Time(c.Before)} }
