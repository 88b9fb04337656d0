package acs_test

import (
	"context"
	"errors"
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
