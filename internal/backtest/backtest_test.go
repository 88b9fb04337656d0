package backtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/backtest"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/risk"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/store/storetest"
	"github.com/open3ds/open3ds/internal/vault"
)

// The live rules challenge purchases over 1000.00; the new ones over 100.00.
const liveRules = `
default:
  live: {name: live, frictionless_below: 300, rules: {large_amount: {over: 1000, points: 400}}}
`
const newRules = `
default:
  live: {name: stricter, frictionless_below: 300, rules: {large_amount: {over: 100, points: 400}}}
`

func openStore(tb testing.TB, open func(testing.TB) *store.DB) *acs.SQLStore {
	tb.Helper()
	spec, err := vault.NewRandomSpec()
	if err != nil {
		tb.Fatal(err)
	}
	ring, err := vault.ParseKeyring(spec)
	if err != nil {
		tb.Fatal(err)
	}
	s := acs.NewSQLStore(open(tb), acs.Vault(ring))
	for _, is := range []acs.Issuer{
		{ID: "bank-a", Name: "Bank A", Ranges: []acs.CardRange{{Start: "4000", End: "4000"}}},
		{ID: "bank-m", Name: "Bank M", Ranges: []acs.CardRange{{Start: "5100", End: "5100"}}},
	} {
		if err := s.CreateIssuer(context.Background(), is); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

func sampleAReq(tb testing.TB, pan string, amount int64) *emv.AReq {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "emv", "testdata", "valid", "2.2.0", "areq-browser-pa.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var a emv.AReq
	if err := json.Unmarshal(raw, &a); err != nil {
		tb.Fatal(err)
	}
	a.AcctNumber, a.PurchaseAmount, a.PurchaseExponent = pan, fmt.Sprint(amount), "2"
	return &a
}

// purchase is one stored AReq of the test traffic.
type purchase struct {
	id, pan string
	amount  int64 // minor units
	day     int   // days after the window's start
}

var traffic = []purchase{
	{"a1", "4000001234547891", 5000, 0}, {"a2", "4000001234547891", 5000, 0}, {"a3", "4000009876543217", 5000, 1},
	{"a4", "4000001234547891", 50000, 1}, {"a5", "4000009876543217", 50000, 2}, // over 100.00: the new rules challenge
	{"a6", "4000001234547891", 500000, 2}, // over 1000.00: both challenge
	{"m1", "5100002222242228", 50000, 0}, {"m2", "5100002222242228", 2000, 1},
}

// record stores the traffic with the live rules' decisions, as the ACS would have.
func record(tb testing.TB, s *acs.SQLStore, start time.Time) {
	tb.Helper()
	live, err := risk.ParseSet([]byte(liveRules))
	if err != nil {
		tb.Fatal(err)
	}
	engine := acs.Risk(live)
	for i, p := range traffic {
		at := start.Add(time.Duration(p.day)*24*time.Hour + time.Duration(i)*time.Minute)
		in := &acs.RiskInput{AReq: sampleAReq(tb, p.pan, p.amount), HasDeviceData: true, Now: at}
		res, _ := engine.Evaluate("", *in)
		issuer := "bank-a"
		if p.pan[0] == '5' {
			issuer = "bank-m"
		}
		if err := s.RecordTransaction(context.Background(), acs.Transaction{ACSTransID: p.id, IssuerID: issuer,
			MaskedPAN: acs.MaskPAN(p.pan), PANHash: s.LookupHash(p.pan), Amount: p.amount, Currency: "978",
			LiveDecision: res.Outcome, TransStatus: "Y", CreatedAt: at, RiskInput: in}); err != nil {
			tb.Fatal(err)
		}
	}
}

// fraudFile names a4 by its id, a6 and m1 by card, day, amount and currency.
func fraudFile(start time.Time) string {
	d := func(n int) string { return start.Add(time.Duration(n) * 24 * time.Hour).Format(time.DateOnly) }
	return "acs_trans_id,card_number,purchase_date,amount,currency,fraud_type,reported_date\n" +
		"a4,,,,,card_not_present," + d(5) + "\n" +
		",4000001234547891," + d(2) + ",500000,978,stolen," + d(6) + "\n" +
		",5100 0022 2224 2228," + d(0) + ",50000,978,account_takeover," + d(6) + "\n"
}

func runReport(tb testing.TB, s *acs.SQLStore, start time.Time, issuer string) *backtest.Report {
	tb.Helper()
	rules, err := risk.ParseSet([]byte(newRules))
	if err != nil {
		tb.Fatal(err)
	}
	rep, err := backtest.Run(context.Background(), s, backtest.Options{Rules: rules, RulesName: "new.yaml", Since: start,
		Until: start.Add(3 * 24 * time.Hour), Issuer: issuer}, start.Add(4*24*time.Hour))
	if err != nil {
		tb.Fatal(err)
	}
	return rep
}

func TestABacktestCountsWhatTheNewRulesChangeOnEveryStore(t *testing.T) {
	for _, b := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{"sqlite", storetest.OpenSQLite}, {"postgres", storetest.OpenPostgres}} {
		t.Run(b.name, func(t *testing.T) {
			start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
			s := openStore(t, b.open)
			record(t, s, start)
			reports, bad, err := backtest.ParseFraudCSV(strings.NewReader(fraudFile(start)))
			if err != nil || len(bad) != 0 {
				t.Fatalf("parsing: %v %v", bad, err)
			}
			if sum, err := s.ImportFraudReports(context.Background(), reports); err != nil || sum.Matched != 3 {
				t.Fatalf("import %+v, %v", sum, err)
			}
			rep := runReport(t, s, start, "")

			want := backtest.Counts{Transactions: 8, FrictionlessLive: 7, FrictionlessNew: 4, ChallengeLive: 1, ChallengeNew: 4,
				Fraud: 3, CaughtLive: 1, CaughtNew: 3, NewlyChallenged: 1, Changed: 3}
			if rep.Total != want {
				t.Fatalf("total\n got %+v\nwant %+v", rep.Total, want)
			}
			if len(rep.Issuers) != 2 || rep.Issuers[0].Key != "bank-a" || rep.Issuers[0].FrictionlessLive != 5 || rep.Issuers[0].FrictionlessNew != 3 {
				t.Fatalf("by issuer %+v", rep.Issuers)
			}
			if len(rep.BINs) != 2 || rep.BINs[1].Key != "510000" || rep.BINs[1].CaughtLive != 0 || rep.BINs[1].CaughtNew != 1 {
				t.Fatalf("by BIN %+v", rep.BINs)
			}
			if len(rep.Days) != 3 || rep.Days[2].Key != "2026-11-03" || rep.Days[2].Transactions != 2 {
				t.Fatalf("by day %+v", rep.Days)
			}

			var out bytes.Buffer
			if err := backtest.WriteTable(&out, rep); err != nil {
				t.Fatal(err)
			}
			text := out.String()
			for _, want := range []string{"By issuer", "By BIN", "bank-a", "510000", "87.5% → 50.0%", "1 → 3"} {
				if !strings.Contains(text, want) {
					t.Errorf("the table lacks %q:\n%s", want, text)
				}
			}
			if strings.Contains(text, "4000001234547891") || strings.Contains(text, "1234547891") {
				t.Errorf("the table shows a card number")
			}
		})
	}
}

func TestAnIssuerFilterAndAnEmptyWindow(t *testing.T) {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	s := openStore(t, storetest.OpenSQLite)
	record(t, s, start)
	if rep := runReport(t, s, start, "bank-m"); rep.Total.Transactions != 2 || len(rep.Issuers) != 1 {
		t.Fatalf("bank-m only: %+v", rep.Total)
	}
	rep := runReport(t, s, start.Add(-30*24*time.Hour), "")
	var out bytes.Buffer
	backtest.WriteTable(&out, rep)
	if rep.Total.Transactions != 0 || !strings.Contains(out.String(), "nothing to replay") {
		t.Fatalf("empty window: %+v\n%s", rep.Total, out.String())
	}
	rules, _ := risk.ParseSet([]byte(newRules))
	_, err := backtest.Run(context.Background(), s, backtest.Options{Rules: rules, Since: start, Until: start.Add(time.Hour), Issuer: "nobody"}, start)
	if err == nil || !strings.Contains(err.Error(), `no issuer "nobody"`) {
		t.Fatalf("unknown issuer: %v", err)
	}
}
