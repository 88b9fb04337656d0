package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/store/storetest"
	"github.com/open3ds/open3ds/internal/vault"
)

// acsCLI runs open3ds in-process with a store DSN and PAN keys in its environment.
type acsCLI struct {
	t       *testing.T
	environ map[string]string
}

func newACSCLI(t *testing.T) *acsCLI {
	spec, err := vault.NewRandomSpec()
	if err != nil {
		t.Fatal(err)
	}
	return &acsCLI{t: t, environ: map[string]string{"OPEN3DS_DSN": storetest.SQLiteDSN(t), "OPEN3DS_VAULT_KEYS": spec,
		"OPEN3DS_DRAIN_DELAY": "0"}}
}

func (c *acsCLI) run(stdin string, args ...string) (string, string, error) {
	c.t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return c.environ[k] }, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

func (c *acsCLI) must(args ...string) string {
	c.t.Helper()
	out, errOut, err := c.run("", args...)
	if err != nil {
		c.t.Fatalf("open3ds %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

func TestEnrolIssuerAndCardholders(t *testing.T) {
	c := newACSCLI(t)
	c.must("enrol", "issuer", "add", "--id", "bank-a", "--name", "Bank A", "--ranges", "400000-400099", "--not-enrolled", "A")
	t.Run("a changed issuer keeps what was not given", func(t *testing.T) {
		c.must("enrol", "issuer", "change", "--id", "bank-a", "--eci", "mastercard")
		out := c.must("enrol", "issuer", "list")
		if !strings.Contains(out, "bank-a") || !strings.Contains(out, "Bank A") || !strings.Contains(out, "mastercard") ||
			!strings.Contains(out, "400000-400099") || !strings.Contains(out, " A ") {
			t.Errorf("list:\n%s", out)
		}
	})
	t.Run("the 3RI and non-payment refusals are set and kept by change", func(t *testing.T) {
		c.must("enrol", "issuer", "change", "--id", "bank-a", "--refuse-3ri", "--refuse-npa")
		c.must("enrol", "issuer", "change", "--id", "bank-a", "--refuse-npa=false")
		db, err := store.Open(context.Background(), c.environ["OPEN3DS_DSN"], store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		is, err := acs.NewSQLStore(db, nil).Issuer(context.Background(), "bank-a")
		if err != nil || !is.Refuse3RI || is.RefuseNonPayment || is.ECIStyle != "mastercard" {
			t.Fatalf("issuer %+v (%v); want 3RI refused, non-payment allowed, the ECI style kept", is, err)
		}
	})
	t.Run("a PAN read from stdin is enrolled and listed masked", func(t *testing.T) {
		out, _, err := c.run("4000001234567891\n", "enrol", "cardholder", "add", "--issuer", "bank-a", "--pan", "-", "--mobiles", "+447700900123")
		if err != nil || !strings.Contains(out, "400000******7891") {
			t.Fatalf("%v %s", err, out)
		}
		list := c.must("enrol", "cardholder", "list")
		if strings.Contains(list, "4000001234567891") || !strings.Contains(list, "400000******7891") {
			t.Errorf("list:\n%s", list)
		}
	})
	t.Run("an import adds good rows and names each bad row's line and field", func(t *testing.T) {
		csv := "issuer,pan,expiry,status,mobiles,emails\n" +
			"bank-a,4000005555555555,2812,enrolled,+447700900001;+447700900002,a@example.com\n" +
			"bank-a,40000,2812,,,\n" +
			"bank-a,4000006666666666,2813,,,\n" +
			"bank-a,4000007777777777,,blocked,,not-an-address\n" +
			"bank-a,4000001234567891,,,,\n" +
			"bank-a,4000008888888888,,not_enrolled,,\n"
		path := filepath.Join(t.TempDir(), "cards.csv")
		os.WriteFile(path, []byte(csv), 0o600)
		out, errOut, err := c.run("", "enrol", "cardholder", "import", path)
		if exitCode(err) != 1 || !strings.Contains(out, "imported 2 cardholders, refused 4") {
			t.Errorf("err %v, out %q", err, out)
		}
		for _, want := range []string{"line 3: pan:", "line 4: expiry:", "line 5: emails[0]:", "line 6: pan: already enrolled"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("stderr lacks %q:\n%s", want, errOut)
			}
		}
		if strings.Contains(errOut, "4000") {
			t.Errorf("stderr shows card digits:\n%s", errOut)
		}
	})
	t.Run("an issuer with cardholders cannot be removed", func(t *testing.T) {
		if _, _, err := c.run("", "enrol", "issuer", "remove", "--id", "bank-a"); exitCode(err) != 1 {
			t.Errorf("got %v", err)
		}
	})
	t.Run("keys rotate re-seals every PAN under a new current key", func(t *testing.T) {
		old := c.environ["OPEN3DS_VAULT_KEYS"]
		fresh, _ := vault.NewRandomSpec()
		c.environ["OPEN3DS_VAULT_KEYS"] = addKey(t, old, fresh)
		out := c.must("keys", "rotate")
		if !strings.Contains(out, "re-sealed 3 PANs") {
			t.Errorf("rotate: %s", out)
		}
		if out := c.must("keys", "rotate"); !strings.Contains(out, "re-sealed 0 PANs") {
			t.Errorf("second rotate: %s", out)
		}
	})
}

// addKey makes a spec holding old's keys plus one more, made current.
func addKey(t *testing.T, old, fresh string) string {
	t.Helper()
	parts := map[string]string{}
	for _, p := range strings.Split(old, ";") {
		k, v, _ := strings.Cut(p, "=")
		parts[k] = v
	}
	var freshKey string
	for _, p := range strings.Split(fresh, ";") {
		k, v, _ := strings.Cut(p, "=")
		if k != "current" && k != "lookup" {
			freshKey = v
		}
	}
	var out []string
	next := 0
	for k, v := range parts {
		if k != "current" && k != "lookup" {
			out = append(out, k+"="+v)
			var n int
			for _, ch := range k {
				n = n*10 + int(ch-'0')
			}
			next = max(next, n)
		}
	}
	id := string(rune('0' + next + 1))
	out = append(out, id+"="+freshKey, "current="+id, "lookup="+parts["lookup"])
	return strings.Join(out, ";")
}
