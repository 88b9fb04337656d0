package threedsserver_test

import (
	"context"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/retention"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/threedsserver"
)

func TestRetentionRemovesOldFinishedAuthenticationsAndKeepsThoseInProgress(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	old, young := now.Add(-100*24*time.Hour), now.Add(-10*24*time.Hour)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			db := b.open(t)
			st := threedsserver.NewSQLStore(db)
			if err := st.AddMerchant(ctx, threedsserver.Merchant{ID: "shop", Name: "Shop", CreatedAt: old}, "hash"); err != nil {
				t.Fatal(err)
			}
			add := func(id, state string, at time.Time) {
				t.Helper()
				err := st.CreateTransaction(ctx, threedsserver.Transaction{ID: id, MerchantID: "shop", MaskedPAN: "400000******7891",
					MessageVersion: "2.2.0", State: state, CreatedAt: at})
				if err != nil {
					t.Fatal(err)
				}
				err = db.RecordExchange(ctx, store.Exchange{ID: "ex-" + id, Role: store.Role3DSS, Direction: store.Out, Peer: "ds",
					MessageType: "AReq", ThreeDSServerTransID: id, Outcome: "Y", StartedAt: at})
				if err != nil {
					t.Fatal(err)
				}
			}
			gone := []string{threedsserver.StateFrictionless, threedsserver.StateFinal, threedsserver.StateError}
			kept := []string{threedsserver.StateStarted, threedsserver.StateSending, threedsserver.StateChallenge}
			for _, s := range append(append([]string{}, gone...), kept...) {
				add("old-"+s, s, old)
			}
			add("young", threedsserver.StateFinal, young)
			// Another role's exchange in the same store is not the 3DS Server's to remove.
			if err := db.RecordExchange(ctx, store.Exchange{ID: "acs-ex", Role: store.RoleACS, Direction: store.In, Peer: "ds",
				MessageType: "AReq", Outcome: "Y", StartedAt: old}); err != nil {
				t.Fatal(err)
			}

			job, err := retention.New(db, threedsserver.RetentionSpec(), retention.Options{MaxAge: 90 * 24 * time.Hour,
				Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			r, err := job.RunNow(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if r.Rows["tdss_transactions"] != 3 || r.Rows["exchanges"] != 3 {
				t.Errorf("report %+v", r)
			}
			for _, s := range gone {
				if _, err := st.Transaction(ctx, "old-"+s); err == nil {
					t.Errorf("an old %s transaction is still there", s)
				}
			}
			for _, id := range []string{"old-started", "old-sending", "old-challenge", "young"} {
				if _, err := st.Transaction(ctx, id); err != nil {
					t.Errorf("transaction %s: %v", id, err)
				}
				if ex, err := db.ExchangesByTransID(ctx, id); err != nil || len(ex) != 1 {
					t.Errorf("exchanges of %s: %d, %v; want its one", id, len(ex), err)
				}
			}
			var n int
			db.Reader().QueryRowContext(ctx, "SELECT count(*) FROM exchanges WHERE id = 'acs-ex'").Scan(&n)
			if n != 1 {
				t.Error("the 3DS Server's retention removed another role's exchange")
			}
		})
	}
}
