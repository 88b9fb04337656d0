package acs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/emv"
)

// decodedAReq is a sample AReq for pan, as the AReq path hands it to the risk engine.
func decodedAReq(tb testing.TB, pan, amount string) *emv.AReq {
	tb.Helper()
	var a emv.AReq
	if err := json.Unmarshal(areq(tb, "2.2.0", "areq-browser-pa", map[string]any{"acctNumber": pan, "purchaseAmount": amount}), &a); err != nil {
		tb.Fatal(err)
	}
	return &a
}

func replays(tb testing.TB, s *acs.SQLStore, q acs.ReplayQuery) []acs.Replay {
	tb.Helper()
	var out []acs.Replay
	if err := s.Replays(context.Background(), q, func(r acs.Replay) error { out = append(out, r); return nil }); err != nil {
		tb.Fatal(err)
	}
	return out
}

func TestRiskInputsAndFraudReportsOnEveryStore(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := acs.NewSQLStore(b.open(t), newKeyring(t).ring(t))
			for _, is := range []acs.Issuer{testIssuer("bank-a", "4000", "4000"), testIssuer("bank-m", "5100", "5100")} {
				if err := s.CreateIssuer(ctx, is); err != nil {
					t.Fatal(err)
				}
			}
			day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
			record := func(id, pan, issuer, amount string, at time.Time, in *acs.RiskInput) {
				t.Helper()
				var n int64
				fmt.Sscan(amount, &n)
				err := s.RecordTransaction(ctx, acs.Transaction{ACSTransID: id, IssuerID: issuer, MaskedPAN: acs.MaskPAN(pan),
					PANHash: s.LookupHash(pan), Amount: n, Currency: "978", LiveDecision: acs.Frictionless, TransStatus: "Y",
					CreatedAt: at, RiskInput: in})
				if err != nil {
					t.Fatal(err)
				}
			}
			const panA, panM = "4000001234547891", "5100002222242228"
			inA := &acs.RiskInput{AReq: decodedAReq(t, panA, "1999"), History: acs.History{TxLastHour: 2, TxLastDay: 5, DeviceKnown: true,
				UsualAmountMax: 4200}, HasDeviceData: true, DeviceIP: "192.0.2.7", DeviceWarnings: []string{"SW01"},
				LocaleCountry: "GB", IPCountry: "FR", Now: day.Add(10 * time.Hour)}
			record("tx-a1", panA, "bank-a", "1999", day.Add(10*time.Hour), inA)
			record("tx-m1", panM, "bank-m", "500", day.Add(11*time.Hour), &acs.RiskInput{AReq: decodedAReq(t, panM, "500"), Now: day.Add(11 * time.Hour)})
			record("tx-a2", panA, "bank-a", "700", day.Add(12*time.Hour), &acs.RiskInput{AReq: decodedAReq(t, panA, "700"), Now: day.Add(12 * time.Hour)})
			record("tx-blocked", panA, "bank-a", "800", day.Add(13*time.Hour), nil) // the engine never saw it
			record("tx-old", panA, "bank-a", "900", day.Add(-48*time.Hour), &acs.RiskInput{AReq: decodedAReq(t, panA, "900"), Now: day.Add(-48 * time.Hour)})
			window := acs.ReplayQuery{Since: day, Until: day.Add(24 * time.Hour)}

			t.Run("a replay sees exactly what the risk engine saw, oldest first, only inside the window", func(t *testing.T) {
				got := replays(t, s, window)
				if len(got) != 3 || got[0].ACSTransID != "tx-a1" || got[1].ACSTransID != "tx-m1" || got[2].ACSTransID != "tx-a2" {
					t.Fatalf("got %+v", got)
				}
				r := got[0]
				if r.IssuerID != "bank-a" || r.MaskedPAN != "400000******7891" || r.LiveDecision != acs.Frictionless || r.FraudType != "" {
					t.Fatalf("replay row %+v", r)
				}
				in := r.Input
				if in.AReq.AcctNumber != panA || in.AReq.PurchaseAmount != "1999" || in.History != inA.History || !in.HasDeviceData ||
					in.DeviceIP != "192.0.2.7" || strings.Join(in.DeviceWarnings, ",") != "SW01" || in.LocaleCountry != "GB" ||
					in.IPCountry != "FR" || !in.Now.Equal(inA.Now) {
					t.Fatalf("input %+v", in)
				}
				if in.AReq.BrowserUserAgent == "" || in.AReq.BrowserUserAgent != inA.AReq.BrowserUserAgent {
					t.Fatalf("the AReq lost its browser data: %q", in.AReq.BrowserUserAgent)
				}
			})
			t.Run("an issuer filter keeps that issuer's transactions", func(t *testing.T) {
				q := window
				q.Issuer = "bank-m"
				if got := replays(t, s, q); len(got) != 1 || got[0].ACSTransID != "tx-m1" {
					t.Fatalf("got %+v", got)
				}
			})

			reports := []acs.FraudReport{
				{ACSTransID: "tx-m1", Type: "stolen", ReportedOn: day.Add(72 * time.Hour)},
				{PAN: panA, Day: day, Amount: 1999, Currency: "978", Type: "card_not_present", ReportedOn: day.Add(96 * time.Hour)},
				{PAN: panA, Day: day.Add(24 * time.Hour), Amount: 1234, Currency: "978", Type: "card_not_present"}, // no such purchase
			}
			t.Run("fraud reports match by acsTransID and by card, date, amount and currency", func(t *testing.T) {
				sum, err := s.ImportFraudReports(ctx, reports)
				if err != nil {
					t.Fatal(err)
				}
				if sum != (acs.FraudImport{New: 3, Matched: 2, Unmatched: 1}) {
					t.Fatalf("summary %+v", sum)
				}
				got := replays(t, s, window)
				if got[0].FraudType != "card_not_present" || got[1].FraudType != "stolen" || got[2].FraudType != "" {
					t.Fatalf("fraud types %q %q %q", got[0].FraudType, got[1].FraudType, got[2].FraudType)
				}
			})
			t.Run("a file imported again counts each report once", func(t *testing.T) {
				sum, err := s.ImportFraudReports(ctx, reports)
				if err != nil || sum != (acs.FraudImport{Duplicates: 3}) {
					t.Fatalf("summary %+v, %v", sum, err)
				}
				if total, matched, err := s.FraudReportCount(ctx); err != nil || total != 3 || matched != 2 {
					t.Fatalf("stored %d (%d matched), %v", total, matched, err)
				}
			})
			t.Run("a report that matched nothing is linked once its transaction is there", func(t *testing.T) {
				record("tx-late", panA, "bank-a", "1234", day.Add(30*time.Hour), nil)
				sum, err := s.ImportFraudReports(ctx, reports[2:])
				if err != nil || sum != (acs.FraudImport{Duplicates: 1, Rematched: 1}) {
					t.Fatalf("summary %+v, %v", sum, err)
				}
			})
			t.Run("the same new report imported by many at once is stored once", func(t *testing.T) {
				r := acs.FraudReport{ACSTransID: "tx-a2", Type: "account_takeover"}
				var wg sync.WaitGroup
				var mu sync.Mutex
				news := 0
				for range 8 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						sum, err := s.ImportFraudReports(ctx, []acs.FraudReport{r})
						if err != nil {
							t.Error(err)
							return
						}
						mu.Lock()
						news += sum.New
						mu.Unlock()
					}()
				}
				wg.Wait()
				if total, _, _ := s.FraudReportCount(ctx); news != 1 || total != 4 {
					t.Fatalf("%d imports counted it new, %d stored", news, total)
				}
			})
			t.Run("pruning drops the inputs before the cutoff and keeps the transactions", func(t *testing.T) {
				n, err := s.PruneRiskInputs(ctx, day, 100)
				if err != nil || n != 1 {
					t.Fatalf("pruned %d, %v", n, err)
				}
				if got := replays(t, s, acs.ReplayQuery{Since: day.Add(-72 * time.Hour), Until: day.Add(72 * time.Hour)}); len(got) != 3 {
					t.Fatalf("%d left", len(got))
				}
				if _, err := s.Transaction(ctx, "tx-old"); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}

// TestTheAReqPathKeepsTheRiskInput sends AReqs through the real listener and replays what was
// stored: the history is the one the engine saw at that moment, not the card's history now.
func TestTheAReqPathKeepsTheRiskInput(t *testing.T) {
	e := newACS(t)
	start := time.Now().Add(-time.Minute)
	for i := range 3 {
		m := post(t, e.ds, e.url, areq(t, "2.2.0", "areq-browser-pa", map[string]any{"acctNumber": panEnrolled,
			"threeDSServerTransID": fmt.Sprintf("8a880dc0-d2d2-4067-bcb1-b08d1690b26%d", i)}))
		if _, ok := m.(*emv.ARes); !ok {
			t.Fatalf("got %T", m)
		}
	}
	post(t, e.ds, e.url, areq(t, "2.2.0", "areq-browser-pa", map[string]any{"acctNumber": panBlocked}))
	got := replays(t, e.store, acs.ReplayQuery{Since: start, Until: time.Now().Add(time.Minute)})
	if len(got) != 3 {
		t.Fatalf("%d risk inputs stored, want 3 (the blocked card's AReq never reached the engine)", len(got))
	}
	for i, r := range got {
		if r.Input.AReq.AcctNumber != panEnrolled || r.Input.History.TxLastHour != i {
			t.Errorf("replay %d: pan ok %v, history %+v", i, r.Input.AReq.AcctNumber == panEnrolled, r.Input.History)
		}
		if tx, err := e.store.Transaction(context.Background(), r.ACSTransID); err != nil || tx.LiveDecision != r.LiveDecision {
			t.Errorf("replay %d does not match its transaction: %+v, %v", i, tx, err)
		}
	}
}

// BenchmarkSealRiskInput measures what keeping the risk input adds to each AReq before its commit:
// encoding the AReq and the facts as JSON and sealing them with the vault.
func BenchmarkSealRiskInput(b *testing.B) {
	s := acs.NewSQLStore(backends[0].open(b), newKeyring(b).ring(b))
	t := acs.Transaction{ACSTransID: "8a880dc0-d2d2-4067-bcb1-b08d1690b26e", RiskInput: &acs.RiskInput{
		AReq: decodedAReq(b, panEnrolled, "1999"), History: acs.History{TxLastHour: 1, TxLastDay: 3, DeviceKnown: true},
		HasDeviceData: true, DeviceIP: "192.0.2.7", LocaleCountry: "GB", IPCountry: "GB", Now: time.Now()}}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		sealed, _, err := s.SealRiskInput(t)
		if err != nil {
			b.Fatal(err)
		}
		n = len(sealed)
	}
	b.ReportMetric(float64(n), "sealed-bytes")
}

// TestReplaysPageThroughRowsOfTheSameInstant stores more risk inputs than one page, all at the
// same instant (a busy second, or a clock of coarse resolution), and replays each exactly once.
func TestReplaysPageThroughRowsOfTheSameInstant(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := acs.NewSQLStore(b.open(t), newKeyring(t).ring(t))
			at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
			a := decodedAReq(t, panEnrolled, "100")
			const n = 1003 // two full pages of 500 and a part
			for i := range n {
				if err := s.RecordTransaction(ctx, acs.Transaction{ACSTransID: fmt.Sprintf("tx-%04d", i), IssuerID: "bank-a",
					MaskedPAN: acs.MaskPAN(panEnrolled), LiveDecision: acs.Frictionless, CreatedAt: at,
					RiskInput: &acs.RiskInput{AReq: a, Now: at}}); err != nil {
					t.Fatal(err)
				}
			}
			got := replays(t, s, acs.ReplayQuery{Since: at, Until: at.Add(time.Second)})
			seen := map[string]bool{}
			for _, r := range got {
				if seen[r.ACSTransID] {
					t.Fatalf("%s replayed twice", r.ACSTransID)
				}
				seen[r.ACSTransID] = true
			}
			if len(seen) != n {
				t.Fatalf("%d of %d replayed", len(seen), n)
			}
		})
	}
}

// TestRiskInputsWrittenDeflatedStillRead: for one day main deflated the input before sealing it;
// such a row opens to the same facts as one written now.
func TestRiskInputsWrittenDeflatedStillRead(t *testing.T) {
	s := acs.NewSQLStore(backends[0].open(t), newKeyring(t).ring(t))
	now := time.Now().UTC().Truncate(time.Second)
	tx := acs.Transaction{ACSTransID: "8a880dc0-d2d2-4067-bcb1-b08d1690b26e", RiskInput: &acs.RiskInput{
		AReq: decodedAReq(t, panEnrolled, "1999"), History: acs.History{TxLastHour: 1, TxLastDay: 3, DeviceKnown: true},
		HasDeviceData: true, DeviceIP: "192.0.2.7", LocaleCountry: "GB", IPCountry: "GB", Now: now}}
	plain, _, err := s.SealRiskInput(tx)
	if err != nil {
		t.Fatal(err)
	}
	deflated, err := s.SealRiskInputDeflated(tx)
	if err != nil {
		t.Fatal(err)
	}
	for name, sealed := range map[string]string{"as written now": plain, "deflated": deflated} {
		in, err := s.OpenRiskInput(tx.ACSTransID, sealed)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if in.AReq.AcctNumber != panEnrolled || in.AReq.PurchaseAmount != "1999" || in.History != tx.RiskInput.History ||
			in.DeviceIP != "192.0.2.7" || !in.Now.Equal(now) {
			t.Errorf("%s: opened %+v", name, in)
		}
	}
}
