package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/backtest"
	"github.com/open3ds/open3ds/internal/store"
)

func riskRun(args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	err = run(context.Background(), append([]string{"risk"}, args...), func(string) string { return "" },
		strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

// TestTheBacktestRunsOnTheDemosTraffic is the test: the demo runs, `open3ds bench e2e`
// buys through the merchant API, the issuer imports fraud reports naming some of those purchases,
// and a backtest with a stricter rule file, run with no flag but the rules in the demo's folder,
// shows fewer frictionless purchases and more fraud caught for the demo bank and its BIN.
func TestTheBacktestRunsOnTheDemosTraffic(t *testing.T) {
	top := t.TempDir()
	dir := filepath.Join(top, benchDemoDefault)
	d := startTestDemo(t, dir, 0)
	r := benchJSON(t, "e2e", "--demo", dir, "--count", "24", "-c", "3", "--warmup", "0").Target
	if r.OK != r.Requests || r.Requests != 24 {
		t.Fatalf("bench e2e: %d of %d ok, errors %v\n%s", r.OK, r.Requests, r.Errors, d.logs)
	}

	// The issuer's fraud team names three purchases by acsTransID and one by card, day, amount and
	// currency, as a chargeback file does.
	db, err := store.Open(context.Background(), demoPathsIn(dir).acs, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Reader().Query(`SELECT acs_trans_id, masked_pan, amount, currency, created_at FROM acs_transactions
		WHERE issuer_id = ? AND live_decision = 'frictionless' ORDER BY created_at LIMIT 4`, demoIssuer)
	if err != nil {
		t.Fatal(err)
	}
	type tx struct {
		id, masked, currency string
		amount               int64
		at                   store.Time
	}
	var picked []tx
	for rows.Next() {
		var x tx
		if err := rows.Scan(&x.id, &x.masked, &x.amount, &x.currency, &x.at); err != nil {
			t.Fatal(err)
		}
		picked = append(picked, x)
	}
	rows.Close()
	db.Close()
	if len(picked) != 4 {
		t.Fatalf("the bench left %d frictionless Demo Bank purchases, want at least 4", len(picked))
	}
	card := ""
	for _, p := range demoBenchCards() {
		if acs.MaskPAN(p) == picked[3].masked {
			card = p
		}
	}
	if card == "" {
		t.Fatalf("no bench card is %s", picked[3].masked)
	}
	day := time.Time(picked[3].at).UTC().Format(time.DateOnly)
	csv := "acs_trans_id,card_number,purchase_date,amount,currency,fraud_type,reported_date\n" +
		picked[0].id + ",,,,,card_not_present," + day + "\n" +
		picked[1].id + ",,,,,account_takeover," + day + "\n" +
		picked[2].id + ",,,,,stolen," + day + "\n" +
		"," + card + "," + day + "," + itoa64(picked[3].amount) + "," + picked[3].currency + ",card_not_present," + day + "\n"
	fraudFile := filepath.Join(top, "fraud.csv")
	mustWrite(t, fraudFile, csv)

	// Inside the demo's folder no flag is needed.
	t.Chdir(top)
	out, errOut, err := riskRun("fraud", "import", "fraud.csv")
	if err != nil || !strings.Contains(out, "4 imported (4 matched a transaction, 0 unmatched)") {
		t.Fatalf("fraud import: %v\n%s%s", err, out, errOut)
	}
	if out, _, err := riskRun("fraud", "import", "fraud.csv"); err != nil || !strings.Contains(out, "0 imported") || !strings.Contains(out, "4 imported before") {
		t.Fatalf("a second import: %v\n%s", err, out)
	}

	// The stricter rules: the demo's, with the large-amount line at 10.00 instead of 1000.00.
	strict := strings.Replace(demoRisk, "large_amount: {over: 1000, points: 300}", "large_amount: {over: 10, points: 300}", 1)
	if strict == demoRisk {
		t.Fatal("the demo's risk file changed: this test's stricter rule no longer applies")
	}
	mustWrite(t, filepath.Join(top, "strict.yaml"), strict)
	out, errOut, err = riskRun("backtest", "--rules", "strict.yaml", "--since", "1h", "--json", "--html", "report.html")
	if err != nil {
		t.Fatalf("backtest: %v\n%s", err, errOut)
	}
	var rep backtest.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	bank := riskGroupRow(t, rep.Issuers, demoIssuer)
	bin := riskGroupRow(t, rep.BINs, "400000")
	for name, c := range map[string]backtest.Counts{"issuer " + demoIssuer: bank, "BIN 400000": bin} {
		if c.Transactions < 24 || c.FrictionlessNew >= c.FrictionlessLive || c.Fraud != 4 || c.CaughtNew <= c.CaughtLive {
			t.Errorf("%s: %+v: want fewer frictionless and more of the 4 frauds caught", name, c)
		}
		if c.NewlyChallenged == 0 {
			t.Errorf("%s: the stricter rules cost good purchases nothing? %+v", name, c)
		}
	}
	html, err := os.ReadFile(filepath.Join(top, "report.html"))
	if err != nil || !bytes.Contains(html, []byte(`data-bar="demo-bank/new"`)) || !bytes.Contains(html, []byte(`data-bar="400000/new"`)) {
		t.Fatalf("the HTML report lacks the demo bank's bars: %v", err)
	}

	// Outside the demo's folder, `serve acs`'s configuration file finds the same store and keys.
	var st demoState
	raw, _ := os.ReadFile(demoPathsIn(dir).state)
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(top, "vault.keys"), st.Secrets.VaultKeys)
	mustWrite(t, filepath.Join(top, "acs.yaml"), "dsn: "+demoPathsIn(dir).acs+"\nvault_keys_file: "+filepath.Join(top, "vault.keys")+"\n")
	t.Chdir(t.TempDir())
	out, errOut, err = riskRun("backtest", "--config", filepath.Join(top, "acs.yaml"), "--rules", filepath.Join(top, "strict.yaml"), "--since", "1h", "--json")
	var viaConfig backtest.Report
	if err != nil || json.Unmarshal([]byte(out), &viaConfig) != nil || viaConfig.Total != rep.Total {
		t.Fatalf("with --config: %v %s\n%s", err, errOut, out)
	}
	t.Chdir(top)

	out, _, err = riskRun("backtest", "--rules", "strict.yaml", "--since", "1h", "--issuer", demoIssuer)
	if err != nil || !strings.Contains(out, "By issuer") || !strings.Contains(out, demoIssuer) || strings.Contains(out, demoIssuerStepUp) {
		t.Fatalf("the table for one issuer: %v\n%s", err, out)
	}
	// Pruning what is older than an hour leaves this traffic; pruning everything empties the window.
	if out, _, err := riskRun("prune", "--older-than", "1h"); err != nil || !strings.HasPrefix(out, "0 risk inputs") {
		t.Fatalf("prune 1h: %v %s", err, out)
	}
	defer func() {
		if out, _, err := riskRun("prune", "--older-than", "-1m"); err == nil || exitCode(err) != 2 {
			t.Errorf("a negative span: %v %s", err, out)
		}
		if out, _, err := riskRun("prune", "--older-than", "2099-01-01"); err != nil || strings.HasPrefix(out, "0 ") {
			t.Errorf("prune all: %v %s", err, out)
		}
		if out, _, _ := riskRun("backtest", "--rules", "strict.yaml", "--since", "1h"); !strings.Contains(out, "nothing to replay") {
			t.Errorf("after pruning everything:\n%s", out)
		}
	}()
	if _, _, err := riskRun("backtest", "--rules", "strict.yaml", "--issuer", "no-such-bank"); exitCode(err) != 2 || !strings.Contains(err.Error(), `no issuer "no-such-bank"`) {
		t.Errorf("an unknown issuer: exit %d, %v", exitCode(err), err)
	}
	t.Logf("open3ds risk backtest --rules strict.yaml --since 1h --issuer %s:\n%s", demoIssuer, out)
	if strings.Contains(out+errOut+d.logs.String(), card) {
		t.Errorf("a card number reached the output or the log")
	}
}

func riskGroupRow(t *testing.T, gs []backtest.Group, key string) backtest.Counts {
	t.Helper()
	for _, g := range gs {
		if g.Key == key {
			return g.Counts
		}
	}
	t.Fatalf("no row %s in %+v", key, gs)
	return backtest.Counts{}
}

func itoa64(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestRiskCommandsRefuseBadFlagsWithExitTwo(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	mustWrite(t, "rules.yaml", demoRisk)
	mustWrite(t, "acs.yaml", "dsn: sqlite:acs.db\n")
	mustWrite(t, "broken.yaml", "default:\n  live: {frictionless_below: 2000}\n")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no rules", []string{"backtest"}, "--rules is required"},
		{"a window start that is not a time", []string{"backtest", "--rules", "rules.yaml", "--since", "last week"}, "--since \"last week\""},
		{"a window that ends before it starts", []string{"backtest", "--rules", "rules.yaml", "--since", "2026-11-02", "--until", "2026-11-01"}, "must be after --since"},
		{"a rule file that does not parse", []string{"backtest", "--rules", "broken.yaml"}, "frictionless_below"},
		{"a rule file that is not there", []string{"backtest", "--rules", "nope.yaml"}, "nope.yaml"},
		{"an unknown flag", []string{"backtest", "--rules", "rules.yaml", "--sinse", "3d"}, ""},
		{"no store and no demo folder", []string{"backtest", "--rules", "rules.yaml"}, "needs the ACS store"},
		{"fraud without import", []string{"fraud", "load", "x.csv"}, "fraud needs: import FILE.csv"},
		{"fraud import without a file", []string{"fraud", "import"}, "needs one FILE.csv"},
		{"fraud import of a missing file", []string{"fraud", "import", "missing.csv"}, "missing.csv"},
		{"prune without a period", []string{"prune"}, "--older-than is required"},
		{"a configuration file without the keys", []string{"backtest", "--rules", "rules.yaml", "--config", "acs.yaml"}, "vault_keys"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := riskRun(c.args...)
			if exitCode(err) != 2 || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("exit %d, %v; want 2 and %q", exitCode(err), err, c.want)
			}
		})
	}
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
