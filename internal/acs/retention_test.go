package acs_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/notify"
	"github.com/open3ds/open3ds/internal/retention"
	"github.com/open3ds/open3ds/internal/store"
)

// retentionNow is the instant the retention tests run at; 90 days is their maximum age.
var retentionNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

const retentionAge = 90 * 24 * time.Hour

// retentionFixture records, through the ACS's own store, transactions in every state retention
// must tell apart, and returns the ids of those that must go and of those that must stay.
func retentionFixture(t *testing.T, s *acs.SQLStore) (gone, kept []string) {
	t.Helper()
	ctx := context.Background()
	old, young := retentionNow.Add(-100*24*time.Hour), retentionNow.Add(-10*24*time.Hour)
	tx := func(id, status string, at time.Time) acs.Transaction {
		return acs.Transaction{ACSTransID: id, ThreeDSServerTransID: "3ds-" + id, DSTransID: "ds-" + id, IssuerID: "bank-a",
			PAN: "4000001234567891", PANHash: s.LookupHash("4000001234567891"), MaskedPAN: "400000******7891",
			MessageVersion: "2.2.0", MessageCategory: "01", DeviceChannel: "02", Amount: 1000, Currency: "978",
			TransStatus: status, RecurringAmount: -1, CreatedAt: at,
			RiskInput: &acs.RiskInput{Now: at}}
	}
	ex := func(id string, at time.Time) *store.Exchange {
		return &store.Exchange{ID: "ex-" + id, Role: store.RoleACS, Direction: store.In, Peer: "ds", MessageType: "AReq",
			ACSTransID: id, ThreeDSServerTransID: "3ds-" + id, Outcome: "Y", StartedAt: at, MaskedPAN: "400000******7891"}
	}
	challenge := func(id string, at time.Time) *acs.ChallengeRow {
		return &acs.ChallengeRow{ACSTransID: id, Step: acs.StepWaiting, Token: "tok", AResAt: at, LastActivity: at}
	}
	record := func(r acs.AReqRecord) {
		t.Helper()
		if err := s.RecordAReq(ctx, r); err != nil {
			t.Fatalf("record %s: %v", r.Transaction.ACSTransID, err)
		}
	}
	// end ends a challenge as the ACS does, and has the DS acknowledge the RReq when sent is set.
	end := func(id string, at time.Time, sent bool) {
		t.Helper()
		c, _, err := s.ChallengeWithTransaction(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		c.Step, c.Result, c.LastActivity = acs.StepDone, "Y", at
		if err := s.EndTransaction(ctx, acs.Ended{ACSTransID: id, TransStatus: "Y", At: at, Challenge: &c},
			acs.OutboxRow{URL: "https://ds.example/", Body: []byte(`{"messageType":"RReq"}`)}); err != nil {
			t.Fatal(err)
		}
		if sent {
			if err := s.RReqSent(ctx, acs.OutboxRow{ACSTransID: id, Seq: 1}, "01", at); err != nil {
				t.Fatal(err)
			}
		}
	}

	record(acs.AReqRecord{Transaction: tx("old-frictionless", "Y", old), Exchange: ex("old-frictionless", old)})
	record(acs.AReqRecord{Transaction: tx("old-challenge-done", "C", old), Challenge: challenge("old-challenge-done", old),
		Exchange: ex("old-challenge-done", old)})
	end("old-challenge-done", old.Add(time.Minute), true)
	gone = []string{"old-frictionless", "old-challenge-done"}

	record(acs.AReqRecord{Transaction: tx("old-challenge-open", "C", old), Challenge: challenge("old-challenge-open", old),
		Exchange: ex("old-challenge-open", old)})
	record(acs.AReqRecord{Transaction: tx("old-rreq-unsent", "C", old), Challenge: challenge("old-rreq-unsent", old),
		Exchange: ex("old-rreq-unsent", old)})
	end("old-rreq-unsent", old.Add(time.Minute), false)
	record(acs.AReqRecord{Transaction: tx("young", "Y", young), Exchange: ex("young", young)})
	prior := tx("old-recurring-prior", "Y", old)
	prior.RecurringExpiry = "20270101"
	record(acs.AReqRecord{Transaction: prior})
	kept = []string{"old-challenge-open", "old-rreq-unsent", "young", "old-recurring-prior"}

	for _, at := range []time.Time{old, young} {
		if err := s.RecordOTPFailure(ctx, s.LookupHash("4000001234567891"), at); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveDeviceData(ctx, acs.DeviceData{ThreeDSServerTransID: "method-" + at.Format("0102"), DeviceKey: "k",
			IP: "192.0.2.1", Data: "{}", CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	// A code delivery record of each age, the old one's transaction kept (a recurring prior).
	for _, at := range []time.Time{old, young} {
		if err := s.RecordDelivery(ctx, notify.Delivery{ID: "msg-" + at.Format("0102"), TransactionID: "old-recurring-prior",
			Queued: at, Attempts: []notify.Attempt{{Channel: notify.SMS, Provider: "smpp", Outcome: notify.OutcomeFellBack,
				ErrorClass: notify.ClassTimeout, Started: at, Finished: at.Add(time.Second)}, {Channel: notify.Email,
				Provider: "smtp", Outcome: notify.OutcomeSent, Started: at.Add(time.Second), Finished: at.Add(2 * time.Second)}}}); err != nil {
			t.Fatal(err)
		}
	}
	return gone, kept
}

func countRows(t *testing.T, db *store.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Reader().QueryRowContext(context.Background(), db.Rebind(query), args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestRetentionRemovesOldFinishedTransactionsAndKeepsTheRest(t *testing.T) {
	for _, b := range backends {
		for _, archived := range []bool{false, true} {
			name := b.name + "/purge"
			if archived {
				name = b.name + "/archive"
			}
			t.Run(name, func(t *testing.T) {
				db := b.open(t)
				s := acs.NewSQLStore(db, newKeyring(t).ring(t))
				if err := s.CreateIssuer(context.Background(), testIssuer("bank-a", "400000", "400099")); err != nil {
					t.Fatal(err)
				}
				gone, kept := retentionFixture(t, s)
				opt := retention.Options{MaxAge: retentionAge, BatchSize: 2, Now: func() time.Time { return retentionNow }}
				if archived {
					opt.ArchiveDir = t.TempDir()
				}
				job, err := retention.New(db, acs.RetentionSpec(), opt)
				if err != nil {
					t.Fatal(err)
				}
				r, err := job.RunNow(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				for _, id := range gone {
					for _, table := range []string{"acs_transactions", "acs_challenges", "acs_rreq_outbox", "acs_risk_inputs"} {
						if n := countRows(t, db, "SELECT count(*) FROM "+table+" WHERE acs_trans_id = ?", id); n != 0 {
							t.Errorf("%s of %s is still there", table, id)
						}
					}
					if n := countRows(t, db, "SELECT count(*) FROM exchanges WHERE acs_trans_id = ?", id); n != 0 {
						t.Errorf("the exchange of %s is still there", id)
					}
				}
				for _, id := range kept {
					if n := countRows(t, db, "SELECT count(*) FROM acs_transactions WHERE acs_trans_id = ?", id); n != 1 {
						t.Errorf("transaction %s was removed", id)
					}
				}
				for _, id := range []string{"old-challenge-open", "old-rreq-unsent"} {
					if n := countRows(t, db, "SELECT count(*) FROM acs_challenges WHERE acs_trans_id = ?", id); n != 1 {
						t.Errorf("the challenge of %s, in progress, was removed", id)
					}
					if n := countRows(t, db, "SELECT count(*) FROM exchanges WHERE acs_trans_id = ?", id); n != 1 {
						t.Errorf("the exchange of %s, in progress, was removed", id)
					}
				}
				if n := countRows(t, db, "SELECT count(*) FROM acs_rreq_outbox WHERE acs_trans_id = 'old-rreq-unsent'"); n != 1 {
					t.Error("an RReq not yet delivered was removed")
				}
				if n := countRows(t, db, "SELECT count(*) FROM acs_otp_failures"); n != 1 {
					t.Errorf("%d failed code entries left, want the young one", n)
				}
				if n := countRows(t, db, "SELECT count(*) FROM acs_deliveries WHERE message_id = ?", "msg-"+retentionNow.Add(-10*24*time.Hour).Format("0102")); n != 2 {
					t.Errorf("%d delivery records of the young message left, want its 2 tries", n)
				}
				if n := countRows(t, db, "SELECT count(*) FROM acs_device_data"); n != 1 {
					t.Errorf("%d device data rows left, want the young one", n)
				}
				want := map[string]int64{"acs_transactions": 2, "acs_challenges": 1, "acs_rreq_outbox": 1, "acs_risk_inputs": 2,
					"exchanges": 2, "acs_otp_failures": 1, "acs_device_data": 1, "acs_app_challenges": 0, "acs_decoupled": 0, "acs_deliveries": 2}
				for table, n := range want {
					if r.Rows[table] != n {
						t.Errorf("report: %d rows of %s, want %d (%v)", r.Rows[table], table, n, r.Rows)
					}
				}
				if archived {
					checkACSArchive(t, r, r.Total)
				} else if r.Archive != "" || r.Mode != "purge" {
					t.Errorf("a purge reported mode %q, archive %q", r.Mode, r.Archive)
				}
			})
		}
	}
}

// checkACSArchive reads the run's archive: every removed row is there, and the card number only as
// stored, sealed, never in clear.
func checkACSArchive(t *testing.T, r retention.Report, total int64) {
	t.Helper()
	raw, err := os.ReadFile(r.Archive)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "4000001234567891") {
		t.Fatal("the archive holds a PAN in clear")
	}
	fi, _ := os.Stat(r.Archive)
	if fi.Mode().Perm() != 0o600 || filepath.Dir(r.Archive) == "" {
		t.Errorf("archive mode %v, want 0600", fi.Mode().Perm())
	}
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	sc.Buffer(nil, 1<<20)
	var lines int64
	sealed := 0
	for sc.Scan() {
		var l struct {
			Table string         `json:"table"`
			Row   map[string]any `json:"row"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("archive line %d: %v", lines+1, err)
		}
		lines++
		if l.Table == "acs_transactions" {
			pan, _ := l.Row["pan_sealed"].(string)
			if pan == "" || l.Row["masked_pan"] != "400000******7891" {
				t.Errorf("archived transaction lacks its sealed PAN or masked PAN: %v", l.Row)
			}
			sealed++
		}
	}
	if lines != total || sealed != 2 {
		t.Errorf("archive holds %d rows (%d transactions), the run removed %d", lines, sealed, total)
	}
}
