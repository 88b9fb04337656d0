package ds_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/ds"
	"github.com/open3ds/open3ds/internal/retention"
	"github.com/open3ds/open3ds/internal/store"
)

var retentionNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// dsRetentionFixture records transactions the DS routed, with their exchanges, in every state
// retention must tell apart; it returns the DS transaction ids that must go and that must stay.
func dsRetentionFixture(t *testing.T, db *store.DB) (gone, kept []string) {
	t.Helper()
	ctx := context.Background()
	st := ds.NewSQLStore(db)
	old, young := retentionNow.Add(-100*24*time.Hour), retentionNow.Add(-10*24*time.Hour)
	add := func(id, outcome string, at time.Time, rreq string) {
		t.Helper()
		err := st.CreateTransaction(ctx, ds.Transaction{DSTransID: id, ThreeDSServerTransID: "3ds-" + id, ACSTransID: "acs-" + id,
			ACS: "bank", ThreeDSServer: "shop", ThreeDSServerURL: "https://shop.example/", MessageVersion: "2.2.0",
			MessageCategory: "01", DeviceChannel: "02", MaskedPAN: "400000******7891", Outcome: outcome, CreatedAt: at})
		if err != nil {
			t.Fatal(err)
		}
		ex := store.Exchange{ID: "areq-" + id, Role: store.RoleDS, Direction: store.In, Peer: "3dss:shop", MessageType: "AReq",
			ResponseType: "ARes", ThreeDSServerTransID: "3ds-" + id, DSTransID: id, Outcome: outcome, StartedAt: at}
		if err := db.RecordExchange(ctx, ex); err != nil {
			t.Fatal(err)
		}
		if rreq != "" {
			ex.ID, ex.Direction, ex.Peer, ex.MessageType, ex.ResponseType, ex.StartedAt = "rreq-"+id, store.In, "acs:bank", "RReq", rreq, at.Add(time.Minute)
			if err := db.RecordExchange(ctx, ex); err != nil {
				t.Fatal(err)
			}
		}
	}
	add("old-frictionless", "Y", old, "")
	add("old-challenge-acknowledged", "C", old, "RRes")
	add("old-challenge-open", "C", old, "")
	add("old-rreq-refused", "C", old, "Erro")
	add("young", "Y", young, "")
	return []string{"old-frictionless", "old-challenge-acknowledged"}, []string{"old-challenge-open", "old-rreq-refused", "young"}
}

func dsRows(t *testing.T, db *store.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Reader().QueryRowContext(context.Background(), db.Rebind(query), args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRetentionRemovesOldRoutedTransactionsButNotThoseAwaitingAnRReq(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			db := b.open(t)
			gone, kept := dsRetentionFixture(t, db)
			opt := retention.Options{MaxAge: 90 * 24 * time.Hour, Now: func() time.Time { return retentionNow }}

			// A dry run counts and removes nothing.
			dry := opt
			dry.DryRun = true
			job, err := retention.New(db, ds.RetentionSpec(), dry)
			if err != nil {
				t.Fatal(err)
			}
			r, err := job.RunNow(context.Background())
			if err != nil || r.Mode != "dry-run" || r.Rows["ds_transactions"] != 2 || r.Rows["exchanges"] != 3 {
				t.Fatalf("dry run: %+v, %v", r, err)
			}
			if n := dsRows(t, db, "SELECT count(*) FROM ds_transactions"); n != 5 {
				t.Fatalf("a dry run removed transactions: %d left", n)
			}

			job, err = retention.New(db, ds.RetentionSpec(), opt)
			if err != nil {
				t.Fatal(err)
			}
			if r, err = job.RunNow(context.Background()); err != nil {
				t.Fatal(err)
			}
			if r.Rows["ds_transactions"] != 2 || r.Rows["exchanges"] != 3 || r.Total != 5 {
				t.Errorf("report %+v", r)
			}
			for _, id := range gone {
				if dsRows(t, db, "SELECT count(*) FROM ds_transactions WHERE ds_trans_id = ?", id) != 0 ||
					dsRows(t, db, "SELECT count(*) FROM exchanges WHERE ds_trans_id = ?", id) != 0 {
					t.Errorf("%s or its exchanges are still there", id)
				}
			}
			for _, id := range kept {
				if dsRows(t, db, "SELECT count(*) FROM ds_transactions WHERE ds_trans_id = ?", id) != 1 {
					t.Errorf("transaction %s was removed", id)
				}
			}
			// A transaction still waiting for its RReq keeps its exchanges: its AReq, and an RReq
			// the 3DS Server refused.
			if n := dsRows(t, db, "SELECT count(*) FROM exchanges WHERE ds_trans_id IN ('old-challenge-open', 'old-rreq-refused')"); n != 3 {
				t.Errorf("%d exchanges of transactions in progress left, want 3", n)
			}
		})
	}
}

// Every instance of a DS sharing the store asks for the run at once: one of them runs it, the
// others find it taken, and nobody runs it again within the interval.
func TestRetentionRunsOncePerIntervalAcrossInstances(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			db := b.open(t)
			dsRetentionFixture(t, db)
			var now atomic.Pointer[time.Time]
			now.Store(&retentionNow)
			clock := func() time.Time { return *now.Load() }
			const instances = 12
			jobs := make([]*retention.Job, instances)
			for i := range jobs {
				var err error
				if jobs[i], err = retention.New(db, ds.RetentionSpec(), retention.Options{MaxAge: 90 * 24 * time.Hour, Now: clock}); err != nil {
					t.Fatal(err)
				}
			}
			round := func() (ran int, removed int64) {
				var mu sync.Mutex
				var wg sync.WaitGroup
				for _, j := range jobs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						r, did, err := j.RunDue(context.Background(), 24*time.Hour)
						if err != nil {
							t.Error(err)
						}
						mu.Lock()
						defer mu.Unlock()
						if did {
							ran++
							removed += r.Total
						}
					}()
				}
				wg.Wait()
				return ran, removed
			}
			if ran, removed := round(); ran != 1 || removed != 5 {
				t.Fatalf("first round: %d instances ran, removing %d rows; want 1 and 5", ran, removed)
			}
			later := retentionNow.Add(23 * time.Hour)
			now.Store(&later)
			if ran, _ := round(); ran != 0 {
				t.Fatalf("%d instances ran again within the interval", ran)
			}
			next := retentionNow.Add(24 * time.Hour)
			now.Store(&next)
			if ran, _ := round(); ran != 1 {
				t.Fatalf("%d instances ran the next interval's run, want 1", ran)
			}
		})
	}
}
