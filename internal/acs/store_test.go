package acs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/store"
)

func TestStoreContract(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			kr := newKeyring(t)
			v := kr.ring(t)
			db := b.open(t)
			s := acs.NewSQLStore(db, v)

			if err := s.CreateIssuer(ctx, testIssuer("bank-a", "400000", "400099")); err != nil {
				t.Fatal(err)
			}
			t.Run("an overlapping range of another issuer is a conflict", func(t *testing.T) {
				err := s.CreateIssuer(ctx, testIssuer("bank-b", "4000500000000000", "4001"))
				if !errors.Is(err, store.ErrConflict) {
					t.Fatalf("got %v, want ErrConflict", err)
				}
			})
			t.Run("a PAN in the range finds its issuer, one outside finds none", func(t *testing.T) {
				is, err := s.IssuerForPAN(ctx, "4000001234567891")
				if err != nil || is.ID != "bank-a" || is.ECIStyle != "visa" || is.OTP.Length != 6 {
					t.Fatalf("got %+v, %v", is, err)
				}
				if _, err := s.IssuerForPAN(ctx, "5100001234567891"); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("outside: %v", err)
				}
			})
			ch, err := s.CreateCardholder(ctx, acs.Cardholder{IssuerID: "bank-a", PAN: "4000001234567891", Expiry: "2812",
				Mobiles: []string{"+447700900123", "+447700900456"}, Emails: []string{"a@example.com"}})
			if err != nil {
				t.Fatal(err)
			}
			t.Run("a cardholder reads back by PAN with every contact", func(t *testing.T) {
				got, err := s.CardholderByPAN(ctx, "4000001234567891")
				if err != nil {
					t.Fatal(err)
				}
				if got.ID != ch.ID || got.PAN != "4000001234567891" || got.MaskedPAN != "400000******7891" ||
					len(got.Mobiles) != 2 || got.Emails[0] != "a@example.com" || got.Status != acs.StatusEnrolled || got.KeyID != 1 {
					t.Fatalf("got %+v", got)
				}
			})
			t.Run("the same PAN twice is a conflict", func(t *testing.T) {
				_, err := s.CreateCardholder(ctx, acs.Cardholder{IssuerID: "bank-a", PAN: "4000001234567891"})
				if !errors.Is(err, store.ErrConflict) {
					t.Fatalf("got %v", err)
				}
			})
			t.Run("a change keeps the PAN and changes the status", func(t *testing.T) {
				c := ch
				c.Status = acs.StatusBlocked
				if err := s.UpdateCardholder(ctx, c); err != nil {
					t.Fatal(err)
				}
				got, _ := s.Cardholder(ctx, ch.ID)
				if got.Status != acs.StatusBlocked || got.PAN != ch.PAN {
					t.Fatalf("got %+v", got)
				}
			})
			t.Run("a listing shows masked PANs only", func(t *testing.T) {
				list, err := s.Cardholders(ctx, "bank-a")
				if err != nil || len(list) != 1 || list[0].PAN != "" || list[0].MaskedPAN != "400000******7891" {
					t.Fatalf("got %+v, %v", list, err)
				}
			})
			t.Run("an issuer with cardholders cannot be removed", func(t *testing.T) {
				if err := s.DeleteIssuer(ctx, "bank-a"); !errors.Is(err, store.ErrConflict) {
					t.Fatalf("got %v", err)
				}
			})
			t.Run("rotation re-seals every PAN under the new key and they stay readable", func(t *testing.T) {
				session := bytes.Repeat([]byte{7}, 32)
				if err := s.RecordAReq(ctx, acs.AReqRecord{Transaction: acs.Transaction{ACSTransID: "t-rot", PAN: "4000001234567891",
					MaskedPAN: "400000******7891", TransStatus: "C", CreatedAt: time.Now().Add(-100 * 24 * time.Hour),
					RiskInput: &acs.RiskInput{AReq: decodedAReq(t, "4000001234567891", "100"), Now: time.Now()}},
					App: &acs.AppRow{ACSTransID: "t-rot", Session: session, UIType: "01", Interface: "01"}}); err != nil {
					t.Fatal(err)
				}
				kr.add()
				s := acs.NewSQLStore(db, kr.ring(t))
				for i, want := range []int{1, 1, 1, 1, 0} { // the cardholder, the transaction, its app session key, its risk input, then nothing
					if n, err := s.Rotate(ctx, 10); err != nil || n != want {
						t.Fatalf("pass %d rotated %d (%v), want %d", i, n, err, want)
					}
				}
				delete(kr.keys, 1)
				s = acs.NewSQLStore(db, kr.ring(t)) // the old key is gone: only re-sealed rows open
				got, err := s.CardholderByPAN(ctx, "4000001234567891")
				if err != nil || got.KeyID != 2 || got.PAN != "4000001234567891" {
					t.Fatalf("got %+v, %v", got, err)
				}
				if pan, err := s.TransactionPAN(ctx, "t-rot"); err != nil || pan != "4000001234567891" {
					t.Fatalf("the transaction's PAN after rotation: %v", err)
				}
				if app, err := s.AppChallenge(ctx, "t-rot"); err != nil || !bytes.Equal(app.Session, session) {
					t.Fatalf("the app session key after rotation: %v", err)
				}
				q := acs.ReplayQuery{Since: time.Now().Add(-101 * 24 * time.Hour), Until: time.Now().Add(-99 * 24 * time.Hour)}
				if got := replays(t, s, q); len(got) != 1 || got[0].Input.AReq.AcctNumber != "4000001234567891" {
					t.Fatalf("the risk input after rotation: %+v", got)
				}
			})
			t.Run("history counts the card's recent transactions", func(t *testing.T) {
				now := time.Now()
				h := v.LookupHash("4000001234567891")
				for i, age := range []time.Duration{time.Minute, 2 * time.Hour, 30 * time.Hour} {
					tx := acs.Transaction{ACSTransID: "t" + string(rune('0'+i)), PANHash: h, MaskedPAN: "400000******7891",
						Amount: int64(1000 * (i + 1)), TransStatus: "Y", DeviceKey: "dev1", CreatedAt: now.Add(-age),
						ChallengeFailed: i == 1}
					if err := s.RecordTransaction(ctx, tx); err != nil {
						t.Fatal(err)
					}
				}
				got, err := s.History(ctx, h, "dev1", now)
				want := acs.History{TxLastHour: 1, TxLastDay: 2, FailedChallenges24h: 1, DeviceKnown: true, UsualAmountMax: 3000}
				if err != nil || got != want {
					t.Fatalf("got %+v, %v; want %+v", got, err, want)
				}
				if used, err := s.UseAuthValue(ctx, "t0", now); used || err != nil {
					t.Fatalf("first use: %v %v", used, err)
				}
				if used, err := s.UseAuthValue(ctx, "t0", now); !used || err != nil {
					t.Fatalf("second use: %v %v", used, err)
				}
				if _, err := s.UseAuthValue(ctx, "nope", now); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("unknown: %v", err)
				}
			})
			t.Run("an AReq reads its card, its 3DS Method and the card's history in one", func(t *testing.T) {
				now := time.Now()
				const pan = "4000001111111116"
				if _, err := s.CreateCardholder(ctx, acs.Cardholder{IssuerID: "bank-a", PAN: pan, Expiry: "2812"}); err != nil {
					t.Fatal(err)
				}
				h := v.LookupHash(pan)
				for i, age := range []time.Duration{time.Minute, 30 * time.Hour} {
					if err := s.RecordTransaction(ctx, acs.Transaction{ACSTransID: fmt.Sprintf("facts-%d", i), PANHash: h,
						MaskedPAN: acs.MaskPAN(pan), Amount: 2500, TransStatus: "Y", DeviceKey: "dev-known", CreatedAt: now.Add(-age)}); err != nil {
						t.Fatal(err)
					}
				}
				want, err := s.History(ctx, h, "dev-known", now)
				if err != nil || !want.DeviceKnown || want.TxLastHour != 1 || want.TxLastDay != 1 {
					t.Fatalf("history: %+v, %v", want, err)
				}
				f, err := s.CardForAReq(ctx, h, "", "dev-known", now)
				if err != nil || f.History != want || f.Cardholder.PAN != pan || f.Cardholder.Expiry != "2812" || f.MethodRan {
					t.Fatalf("without a 3DS Method: %+v, %v", f, err)
				}
				// The key the 3DS Method stored names the device, whatever the AReq's own would be.
				if err := s.SaveDeviceData(ctx, acs.DeviceData{ThreeDSServerTransID: "m-1", DeviceKey: "dev-known", IP: "192.0.2.9"}); err != nil {
					t.Fatal(err)
				}
				f, err = s.CardForAReq(ctx, h, "m-1", "another-device", now)
				if err != nil || !f.MethodRan || f.Method.DeviceKey != "dev-known" || f.Method.IP != "192.0.2.9" || f.History != want {
					t.Fatalf("after a 3DS Method on a known device: %+v, %v", f, err)
				}
				f, err = s.CardForAReq(ctx, h, "m-none", "another-device", now)
				if err != nil || f.MethodRan || f.History.DeviceKnown || f.History.TxLastDay != 1 {
					t.Fatalf("a new device without a 3DS Method: %+v, %v", f, err)
				}
				if _, err := s.CardForAReq(ctx, v.LookupHash("4000000000000002"), "m-1", "dev-known", now); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("a card not enrolled: %v", err)
				}
			})
			t.Run("a card tested far more than any rule counts saturates at the history window", func(t *testing.T) {
				now := time.Now()
				h := v.LookupHash("4000009999999999")
				for i := range acs.HistoryWindow + 30 {
					tx := acs.Transaction{ACSTransID: fmt.Sprintf("busy-%d", i), PANHash: h, MaskedPAN: "400000******9999",
						Amount: 500, TransStatus: "N", CreatedAt: now.Add(-time.Duration(i) * time.Second)}
					if err := s.RecordTransaction(ctx, tx); err != nil {
						t.Fatal(err)
					}
				}
				got, err := s.History(ctx, h, "", now)
				if err != nil || got.TxLastHour != acs.HistoryWindow || got.TxLastDay != acs.HistoryWindow || got.DeviceKnown {
					t.Fatalf("got %+v, %v; want both counts at %d", got, err, acs.HistoryWindow)
				}
			})
			t.Run("an ended authentication queues one RReq that one sender leases", func(t *testing.T) {
				now := time.Now()
				end := acs.Ended{ACSTransID: "t1", TransStatus: "N", Reason: "01", ECI: "07", At: now}
				if err := s.EndTransaction(ctx, end, acs.OutboxRow{URL: "https://ds.example/rreq", Body: []byte(`{}`)}); err != nil {
					t.Fatal(err)
				}
				if err := s.EndTransaction(ctx, end, acs.OutboxRow{}); !errors.Is(err, store.ErrConflict) {
					t.Fatalf("ending twice: %v", err)
				}
				a, err := s.LeaseRReqs(ctx, "a", now, 30*time.Second, 10)
				if err != nil || len(a) != 1 || a[0].URL != "https://ds.example/rreq" {
					t.Fatalf("lease a: %+v %v", a, err)
				}
				if b, _ := s.LeaseRReqs(ctx, "b", now, 30*time.Second, 10); len(b) != 0 {
					t.Fatalf("a leased row was leased again: %+v", b)
				}
				if err := s.RReqFailed(ctx, a[0], "busy", now.Add(time.Minute)); err != nil {
					t.Fatal(err)
				}
				b, _ := s.LeaseRReqs(ctx, "b", now.Add(2*time.Minute), 30*time.Second, 10)
				if len(b) != 1 || b[0].Attempts != 1 {
					t.Fatalf("a failed row was not due again: %+v", b)
				}
				if err := s.RReqSent(ctx, b[0], "01", now); err != nil {
					t.Fatal(err)
				}
				row, _ := s.Outbox(ctx, "t1")
				tx, _ := s.Transaction(ctx, "t1")
				if row.SentAt.IsZero() || row.ResultsStatus != "01" || tx.TransStatus != "N" || tx.EndedAt.IsZero() {
					t.Errorf("row %+v, transaction %+v", row, tx)
				}
			})
			t.Run("device data reads back by transaction", func(t *testing.T) {
				if err := s.SaveDeviceData(ctx, acs.DeviceData{ThreeDSServerTransID: "x", DeviceKey: "k", Data: "{}"}); err != nil {
					t.Fatal(err)
				}
				if d, err := s.DeviceData(ctx, "x"); err != nil || d.DeviceKey != "k" {
					t.Fatalf("got %+v %v", d, err)
				}
			})
		})
	}
}

func TestTheSQLiteFileHoldsNoPlaintextPAN(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "acs.db")
	db, err := store.Open(ctx, "sqlite:"+path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := acs.NewSQLStore(db, newKeyring(t).ring(t))
	if err := s.CreateIssuer(ctx, testIssuer("bank-a", "4000", "4000")); err != nil {
		t.Fatal(err)
	}
	pans := []string{"4000001234567891", "4000009876543210", "4000005555555555"}
	for _, p := range pans {
		if _, err := s.CreateCardholder(ctx, acs.Cardholder{IssuerID: "bank-a", PAN: p}); err != nil {
			t.Fatal(err)
		}
	}
	// A challenged transaction keeps its PAN sealed for the value its RReq will carry.
	// Its risk input (the AReq with the card number, for the backtest) is sealed too.
	if err := s.RecordTransaction(ctx, acs.Transaction{ACSTransID: "t-c", PAN: pans[0], MaskedPAN: acs.MaskPAN(pans[0]),
		TransStatus: "C", CreatedAt: time.Now(), RiskInput: &acs.RiskInput{AReq: decodedAReq(t, pans[1], "100"), Now: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.TransactionPAN(ctx, "t-c"); err != nil || got != pans[0] {
		t.Fatalf("the transaction's PAN does not open: %v", err)
	}
	db.Close()
	var all []byte
	matches, _ := filepath.Glob(path + "*")
	for _, m := range matches {
		b, _ := os.ReadFile(m)
		all = append(all, b...)
	}
	for _, p := range pans {
		if bytes.Contains(all, []byte(p)) || bytes.Contains(all, []byte(p[6:])) {
			t.Errorf("database files hold %s in clear", acs.MaskPAN(p))
		}
	}
	if !bytes.Contains(all, []byte("400000******7891")) {
		t.Errorf("masked PAN missing: the scan may not be reading the data")
	}
}

func TestTwoSendersLeasingAtOnceNeverShareARow(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := acs.NewSQLStore(b.open(t), newKeyring(t).ring(t))
			now := time.Now()
			const rows = 40
			for i := range rows {
				id := fmt.Sprintf("t%02d", i)
				if err := s.RecordTransaction(ctx, acs.Transaction{ACSTransID: id, TransStatus: "C", CreatedAt: now}); err != nil {
					t.Fatal(err)
				}
				if err := s.EndTransaction(ctx, acs.Ended{ACSTransID: id, TransStatus: "N", At: now}, acs.OutboxRow{Body: []byte("{}")}); err != nil {
					t.Fatal(err)
				}
			}
			var mu sync.Mutex
			seen := map[string]string{}
			var wg sync.WaitGroup
			for _, owner := range []string{"a", "b", "c", "d"} {
				wg.Go(func() {
					for range 40 {
						got, err := s.LeaseRReqs(ctx, owner, now, time.Minute, 4)
						if err != nil || len(got) == 0 {
							if err != nil {
								t.Error(err)
							}
							return
						}
						mu.Lock()
						for _, r := range got {
							if prev, dup := seen[r.ACSTransID]; dup {
								t.Errorf("%s leased by %s and %s", r.ACSTransID, prev, owner)
							}
							seen[r.ACSTransID] = owner
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if len(seen) != rows {
				t.Errorf("%d of %d rows leased", len(seen), rows)
			}
		})
	}
}

// TestIssuerChangesReachTheAReqPath checks the issuer look-up every AReq makes: a change made through
// an ACS instance shows on that instance at once, and on another instance sharing the database
// within its IssuerTTL.
func TestIssuerChangesReachTheAReqPath(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			v := newKeyring(t).ring(t)
			db := b.open(t)
			here := acs.NewSQLStore(db, v)
			there := acs.NewSQLStore(db, v)
			there.IssuerTTL = 300 * time.Millisecond
			uncached := acs.NewSQLStore(db, v)
			uncached.IssuerTTL = 0

			is := testIssuer("bank-c", "410000", "410099")
			if err := here.CreateIssuer(ctx, is); err != nil {
				t.Fatal(err)
			}
			const newPAN = "4200001234567891"
			for _, s := range []*acs.SQLStore{here, there, uncached} {
				if _, err := s.IssuerForPAN(ctx, newPAN); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("before the change: %v", err)
				}
			}

			is.Ranges = append(is.Ranges, acs.CardRange{Start: "420000", End: "420099"})
			is.Brand.SupportText = "Call 0800 111"
			if err := here.UpdateIssuer(ctx, is); err != nil {
				t.Fatal(err)
			}
			for name, s := range map[string]*acs.SQLStore{"the instance that made it": here, "an instance without a cache": uncached} {
				got, err := s.IssuerForPAN(ctx, newPAN)
				if err != nil || got.ID != "bank-c" || got.Brand.SupportText != "Call 0800 111" {
					t.Errorf("%s does not see the new range at once: %+v, %v", name, got, err)
				}
			}
			if got, err := here.Issuer(ctx, "bank-c"); err != nil || got.Brand.SupportText != "Call 0800 111" || len(got.Ranges) != 2 {
				t.Errorf("the issuer by id on the instance that changed it: %+v, %v", got, err)
			}
			deadline := time.Now().Add(there.IssuerTTL + 5*time.Second)
			for {
				got, err := there.IssuerForPAN(ctx, newPAN)
				if err == nil && got.ID == "bank-c" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("another instance still misses the new range well after its IssuerTTL: %v", err)
				}
				time.Sleep(20 * time.Millisecond)
			}

			got, _ := here.IssuerForPAN(ctx, newPAN)
			got.Ranges[0].Start = "999999"
			if again, _ := here.IssuerForPAN(ctx, newPAN); again.Ranges[0].Start == "999999" {
				t.Errorf("a caller changing its issuer changed the cached one")
			}

			if err := here.DeleteIssuer(ctx, "bank-c"); err != nil {
				t.Fatal(err)
			}
			if got, err := here.IssuerForPAN(ctx, "4100001234567891"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a deleted issuer still answers on the instance that deleted it: %+v, %v", got, err)
			}
			if _, err := here.Issuer(ctx, "bank-c"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a deleted issuer still found by id: %v", err)
			}
		})
	}
}
