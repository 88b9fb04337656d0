package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/bench"
	"github.com/open3ds/open3ds/internal/store/storetest"
)

// benchCards enrols n fresh cards with Bank A of the test network and returns them. A load test
// needs many: the risk engine challenges a card seen more than three times in an hour.
func benchCards(t *testing.T, n *netNetwork, count int) []string {
	t.Helper()
	var csv strings.Builder
	csv.WriteString("issuer,pan\n")
	pans := make([]string, count)
	for i := range pans {
		pans[i] = luhnComplete(fmt.Sprintf("400000770%06d", i))
		fmt.Fprintf(&csv, "bank-a,%s\n", pans[i])
	}
	file := filepath.Join(t.TempDir(), "cards.csv")
	if err := os.WriteFile(file, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	n.netRun("enrol", "cardholder", "import", "--dsn", n.acsDSN, file)
	return pans
}

// benchRun runs `open3ds bench` in-process, as the shell would.
func benchRun(args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	err = run(context.Background(), append([]string{"bench"}, args...), func(string) string { return "" },
		strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

// benchJSON runs the bench with --json and decodes its report.
func benchJSON(t *testing.T, args ...string) bench.Comparison {
	t.Helper()
	out, errOut, err := benchRun(append(args, "--json")...)
	if err != nil {
		t.Fatalf("open3ds bench %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	var c bench.Comparison
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("--json printed no JSON report: %v\n%s", err, out)
	}
	return c
}

// benchTargets are the two protocol modes against the test network, each with what it needs.
func benchTargets(n *netNetwork, cards []string) map[string][]string {
	common := []string{"--pki", n.layout.Dir, "--cards", strings.Join(cards, ","), "--warmup", "0", "-c", "4"}
	return map[string][]string{
		"acs-areq": append([]string{"acs-areq", "--url", "https://" + n.acs.protocol + "/areq"}, common...),
		"ds-areq": append([]string{"ds-areq", "--url", "https://" + n.ds.protocol + "/", "--requestor-id", netRequestor,
			"--ref-number", netTDSSRef, "--threeds-server-url", n.results}, common...),
	}
}

func TestBenchDrivesTheRealACSAndDSWithoutErrors(t *testing.T) {
	n := netStartNetwork(t, storetest.SQLiteDSN(t), storetest.SQLiteDSN(t))
	cards := benchCards(t, n, 300)
	targets := benchTargets(n, cards)
	for _, mode := range []string{"acs-areq", "ds-areq"} {
		t.Run(mode, func(t *testing.T) {
			c := benchJSON(t, append(targets[mode], "--count", "200", "--pid", strconv.Itoa(os.Getpid()))...)
			r := c.Target
			if r.Requests != 200 || r.OK != 200 || len(r.Errors) != 0 {
				t.Fatalf("%d operations, %d ok, errors %v %v\nACS log:\n%s", r.Requests, r.OK, r.Errors, r.Examples, n.acs.logs)
			}
			if r.Scenario != mode || r.Throughput <= 0 || r.Latency.P50 <= 0 || r.Latency.P99 < r.Latency.P50 || r.Latency.Max < r.Latency.P99 {
				t.Errorf("the report is not sensible: %+v", r)
			}
			// The network runs in this process, so this process is the server the report measures.
			if s := r.Server; s == nil || s.PID != os.Getpid() || s.Problem != "" || s.CPUSeconds <= 0 || s.PeakRSSMiB <= 0 {
				t.Errorf("server usage %+v", s)
			}
			if c.Ceiling != nil || c.Ratio != nil {
				t.Errorf("a ceiling without --ceiling")
			}
		})
	}

	t.Run("the human table", func(t *testing.T) {
		out, errOut, err := benchRun(append(targets["acs-areq"], "--count", "50")...)
		if err != nil {
			t.Fatalf("%v\n%s", err, errOut)
		}
		for _, want := range []string{"acs-areq → https://" + n.acs.protocol + "/areq", "throughput /s", "p50 ms", "p99 ms", "p99.9 ms", "max ms"} {
			if !strings.Contains(out, want) {
				t.Errorf("the table lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("with --ceiling", func(t *testing.T) {
		c := benchJSON(t, append(targets["acs-areq"], "--count", "100", "--ceiling")...)
		if c.Ceiling == nil || c.Ratio == nil {
			t.Fatalf("no ceiling in the report")
		}
		if c.Ceiling.OK != 100 || len(c.Ceiling.Errors) != 0 || c.Target.OK != 100 {
			t.Errorf("ceiling %d ok, errors %v; target %d ok", c.Ceiling.OK, c.Ceiling.Errors, c.Target.OK)
		}
		want := c.Target.Throughput / c.Ceiling.Throughput
		if c.Ratio.Throughput <= 0 || c.Ratio.Throughput != want {
			t.Errorf("throughput ratio %v, want %v", c.Ratio.Throughput, want)
		}
		if c.Ceiling.Target == c.Target.Target || !strings.HasPrefix(c.Ceiling.Target, "https://127.0.0.1:") {
			t.Errorf("the ceiling ran at %s", c.Ceiling.Target)
		}
	})
}

func TestBenchCountsAnAResThatIsNotYAsAnErrorOfItsStatus(t *testing.T) {
	n := netStartNetwork(t, storetest.SQLiteDSN(t), storetest.SQLiteDSN(t))
	// Bank A answers N (13) for a card of its range it has not enrolled, and R for a blocked one.
	args := benchTargets(n, []string{netPANNotEnrolled, netPANBlocked})["acs-areq"]
	r := benchJSON(t, append(args, "--count", "20")...).Target
	if r.OK != 0 || r.Errors["transStatus N"] != 10 || r.Errors["transStatus R"] != 10 {
		t.Errorf("ok %d, errors %v", r.OK, r.Errors)
	}
	if !strings.Contains(r.Examples["transStatus N"], "13") {
		t.Errorf("the example of transStatus N does not give its reason: %q", r.Examples["transStatus N"])
	}
	// --expect makes N the answer wanted.
	r = benchJSON(t, append(args, "--count", "4", "--expect", "N,R")...).Target
	if r.OK != 4 {
		t.Errorf("with --expect N,R: ok %d, errors %v", r.OK, r.Errors)
	}
}

func TestBenchRefusesBadFlagsNamingTheFlag(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		flag string
	}{
		{"an unknown mode", []string{"acs-fast"}, "mode"},
		{"no mode", []string{"-c", "2"}, "mode"},
		{"both a concurrency and a rate", []string{"acs-areq", "-c", "4", "--rate", "100"}, "-c"},
		{"a concurrency of zero", []string{"acs-areq", "-c", "0"}, "-c"},
		{"a rate of zero", []string{"ds-areq", "--rate", "0"}, "--rate"},
		{"both a duration and a count", []string{"acs-areq", "--duration", "1s", "--count", "5"}, "--count"},
		{"a ceiling for the merchant API", []string{"e2e", "--ceiling"}, "--ceiling"},
		{"no URL and no demo", []string{"acs-areq", "--demo", "", "--cards", netPANEnrolled}, "--url"},
		{"a demo directory without demo.json", []string{"acs-areq", "--demo", "/nonexistent"}, "--demo"},
		{"ds-areq without a requestor", []string{"ds-areq", "--url", "https://127.0.0.1:1/", "--pki", "/nonexistent", "--cards", netPANEnrolled}, "--requestor-id"},
		{"ds-areq without a reference number", []string{"ds-areq", "--url", "https://127.0.0.1:1/", "--pki", "/nonexistent", "--cards", netPANEnrolled,
			"--requestor-id", netRequestor}, "--ref-number"},
		{"e2e without an API key", []string{"e2e", "--api-url", "http://127.0.0.1:1", "--cards", netPANEnrolled}, "--api-key"},
	} {
		_, errOut, err := benchRun(c.args...)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), c.flag) {
			t.Errorf("%s: exit %d, %v (%s); want exit 2 naming %s", c.name, exitCode(err), err, errOut, c.flag)
		}
	}
}
