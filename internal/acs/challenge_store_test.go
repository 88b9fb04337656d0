package acs_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/otp"
	"github.com/open3ds/open3ds/internal/store"
)

func TestChallengeStoreContract(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			st := acs.NewSQLStore(b.open(t), newKeyring(t).ring(t))
			now := time.Now().UTC().Truncate(time.Millisecond)
			row := acs.ChallengeRow{ACSTransID: "0c25afb2-246f-40c3-a162-9c82c19d3c90", NotificationURL: "https://m.example/n",
				BrowserLanguage: "ja-JP", MerchantName: "Shop", Exponent: 2, Step: acs.StepWaiting, Token: "tok",
				OTP: otp.State{TransactionID: "0c25afb2-246f-40c3-a162-9c82c19d3c90"}, AResAt: now, LastActivity: now}
			if err := st.CreateChallenge(ctx, row); err != nil {
				t.Fatal(err)
			}
			got, err := st.Challenge(ctx, row.ACSTransID)
			if err != nil || got.NotificationURL != row.NotificationURL || !got.AResAt.Equal(now) || got.OTP.TransactionID != row.ACSTransID {
				t.Fatalf("read back %+v, %v", got, err)
			}
			got.Step, got.LastActivity, got.OTP.Wrong = acs.StepCode, now.Add(time.Minute), 2
			if err := st.UpdateChallenge(ctx, got); err != nil {
				t.Fatal(err)
			}
			if err := st.UpdateChallenge(ctx, got); !errors.Is(err, store.ErrConflict) {
				t.Errorf("a second update from the same read: %v, want ErrConflict", err)
			}
			again, _ := st.Challenge(ctx, row.ACSTransID)
			if again.Version != 1 || again.OTP.Wrong != 2 || again.Step != acs.StepCode {
				t.Errorf("after the update %+v", again)
			}
			stale, err := st.StaleChallenges(ctx, now, now.Add(2*time.Minute), 10)
			if err != nil || len(stale) != 1 {
				t.Errorf("stale %d, %v; want the idle one", len(stale), err)
			}
			if stale, _ := st.StaleChallenges(ctx, now, now, 10); len(stale) != 0 {
				t.Errorf("a challenge active since then is listed as stale")
			}
			if _, err := st.Challenge(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("unknown challenge: %v", err)
			}
			if _, _, err := st.ChallengeWithTransaction(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("unknown challenge with its transaction: %v", err)
			}
			for _, at := range []time.Time{now.Add(-25 * time.Hour), now.Add(-time.Hour), now} {
				if err := st.RecordOTPFailure(ctx, "hash", at); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := st.OTPFailures(ctx, "hash", now.Add(-24*time.Hour)); err != nil || n != 2 {
				t.Errorf("failures in 24 h: %d, %v; want 2", n, err)
			}
			if err := st.UpdateDeviceData(ctx, "3dfc51f7-a5f7-440a-b848-ab95222dd6c8", "k", "{}"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("device data never stored: %v", err)
			}
		})
	}
}

// TestEndingAChallengeClosesItInTheSameCommit checks the usual end of a browser challenge: the
// transaction's result, its RReq and the challenge's last step go in together, and a challenge
// that moved on since it was read leaves the transaction as it was.
func TestEndingAChallengeClosesItInTheSameCommit(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			st := acs.NewSQLStore(b.open(t), newKeyring(t).ring(t))
			now := time.Now().UTC().Truncate(time.Millisecond)
			open := func(id string) acs.ChallengeRow {
				t.Helper()
				row := acs.ChallengeRow{ACSTransID: id, NotificationURL: "https://m.example/n", BrowserLanguage: "en",
					MerchantName: "Shop", Exponent: 2, Step: acs.StepCode, Token: "tok", OTP: otp.State{TransactionID: id},
					AResAt: now, LastActivity: now}
				tx := acs.Transaction{ACSTransID: id, PANHash: "h", MaskedPAN: "400000******1000", TransStatus: "C", CreatedAt: now}
				if err := st.RecordAReq(ctx, acs.AReqRecord{Transaction: tx, Challenge: &row}); err != nil {
					t.Fatal(err)
				}
				return row
			}

			row := open("6a1f0d0e-1b7e-4a43-9a4c-0d6f7c2b5e01")
			done := row
			done.Step, done.Result = acs.StepDone, "Y"
			end := acs.Ended{ACSTransID: row.ACSTransID, TransStatus: "Y", ECI: "05", AuthValue: "AAAA", At: now, Challenge: &done}
			if err := st.EndTransaction(ctx, end, acs.OutboxRow{URL: "https://ds.example/rreq", Body: []byte(`{}`)}); err != nil {
				t.Fatal(err)
			}
			got, tx, err := st.ChallengeWithTransaction(ctx, row.ACSTransID)
			if err != nil {
				t.Fatal(err)
			}
			if alone, _ := st.Challenge(ctx, row.ACSTransID); !reflect.DeepEqual(alone, got) {
				t.Errorf("read with its transaction %+v, alone %+v", got, alone)
			}
			if alone, _ := st.Transaction(ctx, row.ACSTransID); alone.MaskedPAN != tx.MaskedPAN || !alone.EndedAt.Equal(tx.EndedAt) {
				t.Errorf("transaction read with its challenge %+v, alone %+v", tx, alone)
			}
			if got.Step != acs.StepDone || got.Result != "Y" || got.Version != 1 || tx.TransStatus != "Y" || tx.EndedAt.IsZero() {
				t.Errorf("after the end: challenge %+v, transaction %+v", got, tx)
			}

			moved := open("6a1f0d0e-1b7e-4a43-9a4c-0d6f7c2b5e02")
			other := moved
			other.OTP.Wrong = 1
			if err := st.UpdateChallenge(ctx, other); err != nil { // another request got there first
				t.Fatal(err)
			}
			done = moved
			done.Step, done.Result = acs.StepDone, "Y"
			end = acs.Ended{ACSTransID: moved.ACSTransID, TransStatus: "Y", At: now, Challenge: &done}
			if err := st.EndTransaction(ctx, end, acs.OutboxRow{Body: []byte(`{}`)}); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("ending from a stale read of the challenge: %v, want ErrConflict", err)
			}
			if tx, _ := st.Transaction(ctx, moved.ACSTransID); tx.TransStatus != "C" || !tx.EndedAt.IsZero() {
				t.Errorf("the refused end changed the transaction: %+v", tx)
			}
		})
	}
}
