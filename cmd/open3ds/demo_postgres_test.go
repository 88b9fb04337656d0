package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/open3ds/open3ds/internal/store/storetest"
)

// demoPostgresDSN is the test database's DSN with a search_path of its own, which the demo takes as
// the prefix of its three schemas; they are dropped when the test ends, after the demo has stopped.
func demoPostgresDSN(t *testing.T) (dsn, prefix string) {
	t.Helper()
	base := storetest.SkipWithoutPostgres(t)
	var b [6]byte
	rand.Read(b[:])
	prefix = "open3ds_demo_test_" + hex.EncodeToString(b[:])
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s does not parse as a URL", storetest.PostgresEnv)
	}
	q := u.Query()
	q.Set("search_path", prefix)
	u.RawQuery = q.Encode()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		for _, role := range []string{"ds", "acs", "3dss"} {
			if _, err := admin.Exec("DROP SCHEMA IF EXISTS " + prefix + "_" + role + " CASCADE"); err != nil {
				t.Errorf("drop the demo's schema: %v", err)
			}
		}
	})
	return u.String(), prefix
}

// countRows counts a table's rows in one of the demo's schemas.
func countRows(t *testing.T, schema, table string) int {
	t.Helper()
	db, err := sql.Open("pgx", os.Getenv(storetest.PostgresEnv))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM " + schema + "." + table).Scan(&n); err != nil {
		t.Fatalf("count %s.%s: %v", schema, table, err)
	}
	return n
}

func TestDemoOnPostgresBuysAndKeepsItsDataAcrossARestart(t *testing.T) {
	dsn, prefix := demoPostgresDSN(t)
	dir := filepath.Join(t.TempDir(), "open3ds-data")
	port := freePortBase(t)
	environ := map[string]string{"OPEN3DS_DEMO_POSTGRES": dsn}

	first := startTestDemoEnv(t, dir, port, environ)
	if !strings.Contains(first.stdout.String(), "Stores: the PostgreSQL schemas "+prefix+"_ds, "+prefix+"_acs, "+prefix+"_3dss") {
		t.Errorf("the demo does not say where it stores:\n%s", first.stdout)
	}
	if strings.Contains(first.stdout.String(), "postgres://") {
		t.Errorf("the demo printed its DSN, which may hold a password")
	}
	res := first.buy("4000000000001000", "2400")
	if res["transStatus"] != "Y" {
		t.Fatalf("a frictionless purchase on PostgreSQL: %v", res)
	}
	id := res["id"].(string)
	for _, f := range []string{"ds.db", "acs.db", "3dss.db"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s was made beside the PostgreSQL stores", f)
		}
	}
	// Each role wrote its side of the purchase in its own schema.
	for schema, table := range map[string]string{prefix + "_ds": "ds_transactions", prefix + "_acs": "acs_transactions", prefix + "_3dss": "tdss_transactions"} {
		if n := countRows(t, schema, table); n < 1 {
			t.Errorf("%s.%s holds no row after a purchase", schema, table)
		}
	}
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}

	again := startTestDemoEnv(t, dir, port, environ)
	if !strings.Contains(again.stdout.String(), "data reused") {
		t.Errorf("the second run did not reuse the data:\n%s", again.stdout)
	}
	again.keptAndStops(t, id)

	// The directory now belongs to those schemas: a run on SQLite would find empty files.
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"demo", "--dir", dir, "--port", strconv.Itoa(port)},
		func(string) string { return "" }, strings.NewReader(""), io.Discard, &stderr)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "was set up with its stores in the PostgreSQL schemas") {
		t.Errorf("a run of that directory on SQLite: exit %d, %v", exitCode(err), err)
	}
}

// A schema of the same name that the demo did not make is left alone, and the demo says why.
func TestDemoOnPostgresLeavesASchemaItDidNotMakeAlone(t *testing.T) {
	dsn, prefix := demoPostgresDSN(t)
	admin, err := sql.Open("pgx", os.Getenv(storetest.PostgresEnv))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + prefix + "_acs; CREATE TABLE " + prefix + "_acs.precious (v int)"); err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), []string{"demo", "--dir", filepath.Join(t.TempDir(), "d"), "--port", "0", "--postgres", dsn},
		func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "the schema "+prefix+"_acs exists and was not made by the demo") {
		t.Errorf("a demo over someone else's schema: exit %d, %v", exitCode(err), err)
	}
	if n := countRows(t, prefix+"_acs", "precious"); n != 0 {
		t.Errorf("precious: %d rows", n)
	}
}

func TestDemoRefusesSeveralACSInstancesOnSQLite(t *testing.T) {
	err := run(context.Background(), []string{"demo", "--dir", filepath.Join(t.TempDir(), "d"), "--port", "0", "--acs-instances", "2"},
		func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "--acs-instances: more than one ACS instance needs a shared store: give --postgres") {
		t.Errorf("two instances on SQLite: exit %d, %v", exitCode(err), err)
	}
}

// With two ACS instances the DS's AReqs go through the balancer to both, which share one store.
func TestDemoSpreadsAReqsOverTwoACSInstances(t *testing.T) {
	dsn, prefix := demoPostgresDSN(t)
	d := startTestDemoArgs(t, filepath.Join(t.TempDir(), "open3ds-data"), 0, map[string]string{"OPEN3DS_DEMO_POSTGRES": dsn}, "--acs-instances", "2")
	if len(d.net.acsInstances) != 2 || d.net.runtimes["acs-2"] == nil {
		t.Fatalf("the demo started %d ACS instances", len(d.net.acsInstances))
	}
	info, err := os.ReadFile(d.net.paths.info)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(info), `"protocolInstances": "`+d.net.acsInstances[0].protocol+","+d.net.acsInstances[1].protocol+`"`) {
		t.Errorf("demo.json does not list the instances:\n%s", info)
	}
	// The balancer spreads connections, and the DS keeps its connections: purchases made together
	// make it open several, which alternate between the instances.
	bought := 0
	for round := 0; round < 10 && (areqsOn(t, d, "acs") == 0 || areqsOn(t, d, "acs-2") == 0); round++ {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res := d.buy("4000000000001000", "2400")
				mu.Lock()
				defer mu.Unlock()
				if res["transStatus"] != "Y" {
					t.Errorf("a purchase with two ACS instances: %v", res)
				}
				bought++
			}()
		}
		wg.Wait()
	}
	one, two := areqsOn(t, d, "acs"), areqsOn(t, d, "acs-2")
	if one == 0 || two == 0 {
		t.Errorf("AReqs answered by instance 1: %v, by instance 2: %v; want both", one, two)
	}
	if int(one+two) != bought {
		t.Errorf("the instances answered %v AReqs for %d purchases", one+two, bought)
	}
	// Both wrote to the one ACS store.
	if n := countRows(t, prefix+"_acs", "acs_transactions"); n != bought {
		t.Errorf("the shared ACS store holds %d transactions, want %d", n, bought)
	}
	// bench can skip the balancer and take the instances in turn itself.
	one, two = areqsOn(t, d, "acs"), areqsOn(t, d, "acs-2")
	var out, errOut bytes.Buffer
	urls := d.net.acsInstances[0].protocol + "/areq," + d.net.acsInstances[1].protocol + "/areq"
	if err := run(context.Background(), []string{"bench", "acs-areq", "--demo", d.net.paths.dir, "--url", urls, "--count", "40", "-c", "4", "--warmup", "0s"},
		func(string) string { return "" }, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("bench over both instances: %v\n%s", err, errOut.String())
	}
	if got1, got2 := areqsOn(t, d, "acs")-one, areqsOn(t, d, "acs-2")-two; got1 < 20 || got2 < 20 {
		t.Errorf("bench --url a,b sent %v AReqs to instance 1 and %v to instance 2, want at least 20 each\n%s", got1, got2, out.String())
	}

	// Each instance has its own admin listener, with its own metrics.
	resp, err := http.Get(d.net.acsInstances[1].admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `route="POST /areq"`) {
		t.Errorf("instance 2's /metrics does not count its AReqs: %d", resp.StatusCode)
	}
}

// areqsOn counts the AReqs an ACS instance answered, from its metrics.
func areqsOn(t *testing.T, d *testDemo, name string) float64 {
	t.Helper()
	families, err := d.net.runtimes[name].reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, f := range families {
		if f.GetName() != "open3ds_http_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "route" && l.GetValue() == "POST /areq" {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}
