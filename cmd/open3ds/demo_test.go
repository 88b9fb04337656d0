package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/pki"
)

// testDemo is `open3ds demo` running in-process, started through run() as a person starts it.
type testDemo struct {
	t      testing.TB
	net    *demoNetwork
	stdout *netLog
	logs   *netLog
	stop   func() error
	client *http.Client // trusts the demo's CA, as the shop's back end does
	key    string
}

// startTestDemo runs `open3ds demo` with the given data directory and port (0: the kernel picks each
// port) until the test ends.
func startTestDemo(t testing.TB, dir string, port int) *testDemo {
	t.Helper()
	return startTestDemoEnv(t, dir, port, nil)
}

// startTestDemoEnv is startTestDemo with these environment variables.
func startTestDemoEnv(t testing.TB, dir string, port int, environ map[string]string) *testDemo {
	t.Helper()
	return startTestDemoArgs(t, dir, port, environ)
}

// startTestDemoArgs is startTestDemoEnv with these flags besides.
func startTestDemoArgs(t testing.TB, dir string, port int, environ map[string]string, args ...string) *testDemo {
	t.Helper()
	d := &testDemo{t: t, stdout: &netLog{}, logs: &netLog{}}
	started := make(chan *demoNetwork, 1)
	demoStarted = func(n *demoNetwork) { started <- n }
	t.Cleanup(func() { demoStarted = nil })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"demo", "--dir", dir, "--port", strconv.Itoa(port), "--log-level", "info"}, args...),
			func(k string) string { return environ[k] }, strings.NewReader(""), d.stdout, d.logs)
	}()
	select {
	case d.net = <-started:
	case err := <-done:
		cancel()
		t.Fatalf("demo stopped: %v\n%s", err, d.logs)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("demo did not start\n%s", d.logs)
	}
	stopped := false
	d.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(15 * time.Second):
			return fmt.Errorf("demo did not stop")
		}
	}
	t.Cleanup(func() {
		if err := d.stop(); err != nil {
			t.Errorf("demo: %v", err)
		}
		for _, c := range demoCards {
			if strings.Contains(d.logs.String(), c.PAN) {
				t.Errorf("a full PAN reached the demo's log")
			}
		}
	})
	pool, err := pki.LoadPool(d.net.paths.pki.CA.Cert)
	if err != nil {
		t.Fatal(err)
	}
	d.client = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: pki.ClientConfig(nil, pool, "")}}
	t.Cleanup(d.client.CloseIdleConnections)
	key, err := os.ReadFile(d.net.paths.merchantKey)
	if err != nil {
		t.Fatal(err)
	}
	d.key = strings.TrimSpace(string(key))
	return d
}

// api calls the 3DS Server's merchant API with the demo merchant's key.
func (d *testDemo) api(method, path string, body any, out any) int {
	d.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, d.net.urls.TDSSAPI+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+d.key)
	req.Header.Set("Content-Type", "application/json")
	res, err := d.client.Do(req)
	if err != nil {
		d.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if out != nil && json.Unmarshal(raw, out) != nil {
		d.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	return res.StatusCode
}

// buy authenticates a purchase of amount (minor units of euro) as the shop's back end would, without
// the 3DS Method, and returns the 3DS Server's answer.
// keptAndStops checks, after a restart, that the first run's purchase id still reads Y and that a
// new purchase goes through, then stops the demo.
func (d *testDemo) keptAndStops(t testing.TB, id string) {
	t.Helper()
	var got map[string]any
	if code := d.api("GET", "/v1/authentications/"+id, nil, &got); code != http.StatusOK || got["transStatus"] != "Y" {
		t.Errorf("the first run's purchase is gone after the restart: %d %v", code, got)
	}
	if res := d.buy("4000000000001000", "2400"); res["transStatus"] != "Y" {
		t.Errorf("a purchase after the restart: %v", res)
	}
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
}

func (d *testDemo) buy(pan, amount string) map[string]any {
	d.t.Helper()
	var started map[string]any
	if code := d.api("POST", "/v1/authentications", map[string]string{"cardNumber": pan}, &started); code != http.StatusCreated {
		d.t.Fatalf("start: %d %v", code, started)
	}
	var res map[string]any
	js := true
	body := map[string]any{"amount": amount, "currency": "978", "threeDSCompInd": "U", "cardExpiryDate": demoYYMM(demoExpiry),
		"browser": map[string]any{"acceptHeader": "text/html", "ip": "127.0.0.1", "language": "en-GB", "colorDepth": "24",
			"screenHeight": "900", "screenWidth": "1440", "tz": "0", "userAgent": "Mozilla/5.0 (X11; Linux x86_64)", "javascriptEnabled": js}}
	if code := d.api("POST", "/v1/authentications/"+started["id"].(string)+"/authenticate", body, &res); code != http.StatusOK {
		d.t.Fatalf("authenticate: %d %v", code, res)
	}
	return res
}

// flow runs a demo row's shop flow through the merchant API as the shop's back end does: a purchase
// then its monthly subscription (3RI) twice, or a card saved without payment.
func (d *testDemo) flow(c demoCard, amount string) {
	d.t.Helper()
	switch c.Flow {
	case demoFlowSubscribe:
		purchase := d.buy(c.PAN, amount)
		monthly := map[string]any{"channel": "3ri", "cardNumber": c.PAN, "threeRIInd": "recurring", "amount": amount,
			"currency": "978", "priorAuthentication": map[string]any{"id": purchase["id"]},
			"recurring": map[string]any{"expiry": time.Now().AddDate(1, 0, 0).Format("20060102"), "frequency": 30}}
		var first, second map[string]any
		if code := d.api("POST", "/v1/authentications", monthly, &first); code != http.StatusCreated || first["transStatus"] != c.Want ||
			first["channel"] != "3ri" || first["eci"] != "05" || first["authenticationValue"] == nil {
			d.t.Errorf("%s: the first monthly payment: %d %v, want %s with a value", c.Ending, code, first, c.Want)
		}
		if d.api("POST", "/v1/authentications", monthly, &second); second["transStatus"] != "N" || second["transStatusReason"] != "04" {
			d.t.Errorf("%s: the next monthly payment at once: %v, want N 04", c.Ending, second)
		}
	case demoFlowSaveCard:
		var started, res map[string]any
		d.api("POST", "/v1/authentications", map[string]string{"cardNumber": c.PAN}, &started)
		body := map[string]any{"messageCategory": "non-payment", "threeDSCompInd": "U", "cardExpiryDate": demoYYMM(demoExpiry),
			"browser": map[string]any{"acceptHeader": "text/html", "ip": "127.0.0.1", "language": "en-GB", "userAgent": "Mozilla/5.0",
				"javascriptEnabled": false}}
		if code := d.api("POST", "/v1/authentications/"+started["id"].(string)+"/authenticate", body, &res); code != http.StatusOK ||
			res["transStatus"] != c.Want || res["messageCategory"] != "non-payment" {
			d.t.Errorf("%s: %d %v, want a non-payment %s", c.Ending, code, res, c.Want)
		}
	case demoFlowPasskey:
		// The shop's back end after a passkey sign-in it verified: the road bike with the login.
		var started, res map[string]any
		d.api("POST", "/v1/authentications", map[string]string{"cardNumber": c.PAN}, &started)
		body := map[string]any{"amount": amount, "currency": "978", "threeDSCompInd": "U", "cardExpiryDate": demoYYMM(demoExpiry),
			"browser": map[string]any{"acceptHeader": "text/html", "ip": "127.0.0.1", "language": "en-GB", "colorDepth": "24",
				"screenHeight": "900", "screenWidth": "1440", "tz": "0", "userAgent": "Mozilla/5.0 (X11; Linux x86_64)", "javascriptEnabled": true},
			"requestorAuthentication": map[string]any{"method": "fido", "time": time.Now().Add(-time.Minute).Format(time.RFC3339),
				"data": demoAssertion(d.t, d.net.urls.Shop)}}
		if code := d.api("POST", "/v1/authentications/"+started["id"].(string)+"/authenticate", body, &res); code != http.StatusOK ||
			res["transStatus"] != c.Want || res["eci"] != "05" {
			reasons := []string{"no ACS transaction"}
			if id, ok := res["acsTransID"].(string); ok {
				reasons = d.acsReasons(id)
			}
			d.t.Fatalf("%s: %d %v, want %s; the ACS's reasons: %q", c.Ending, code, res, c.Want, reasons)
		}
		if reasons := d.acsReasons(res["acsTransID"].(string)); !strings.Contains(strings.Join(reasons, "; "), "FIDO login") {
			d.t.Errorf("%s: the ACS's reasons %q do not name the FIDO login", c.Ending, reasons)
		}
	default:
		d.t.Fatalf("unknown demo flow %q", c.Flow)
	}
}

// demoAssertion is a passkey sign-in on the shop at origin, as a browser hands it to the page
// (PublicKeyCredential.toJSON()): user present and verified, signed by a fresh ES256 key.
func demoAssertion(t testing.TB, origin string) map[string]any {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(origin)
	enc := base64.RawURLEncoding.EncodeToString
	client, _ := json.Marshal(map[string]string{"type": "webauthn.get", "challenge": enc([]byte("the shop's challenge")), "origin": origin})
	rp := sha256.Sum256([]byte(u.Hostname()))
	auth := append(rp[:], 0x05, 0, 0, 0, 1)
	cd := sha256.Sum256(client)
	digest := sha256.Sum256(append(append([]byte{}, auth...), cd[:]...))
	sig, err := ecdsa.SignASN1(crand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{"id": enc([]byte("passkey")), "rawId": enc([]byte("passkey")), "type": "public-key",
		"response": map[string]string{"clientDataJSON": enc(client), "authenticatorData": enc(auth), "signature": enc(sig)}}
}

// acsReasons are the reasons the ACS stored for its transaction, read from its admin API.
func (d *testDemo) acsReasons(acsTransID string) []string {
	d.t.Helper()
	req, _ := http.NewRequest("GET", d.net.urls.ACSAdmin+"/v1/transactions/"+acsTransID, nil)
	req.Header.Set("Authorization", "Bearer "+d.net.secrets.ACSAdmin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct{ Reasons []string }
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK {
		d.t.Fatalf("the ACS's transaction %s: %d %v", acsTransID, res.StatusCode, err)
	}
	return out.Reasons
}

// verify asks the ACS's admin API, as the issuer's authorisation system would, whether an
// authentication value is one it issued for this card and amount.
func (d *testDemo) verify(pan, amount string, value any) map[string]any {
	d.t.Helper()
	b, _ := json.Marshal(map[string]any{"pan": pan, "amount": amount, "currency": "978", "authenticationValue": value})
	req, _ := http.NewRequest("POST", d.net.urls.ACSAdmin+"/v1/authentication-values/verify", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+d.net.secrets.ACSAdmin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		d.t.Fatal(err)
	}
	return out
}

func TestDemoStartsWithTheWholeNetworkAndEachCardEndsAsTheTableSays(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "open3ds-data")
	d := startTestDemo(t, dir, 0)
	out := d.stdout.String()
	for _, want := range []string{"open3ds demo is ready", "data created", d.net.urls.Shop, d.net.outboxURL(), "4000 0000 0000 1000", "open3ds sdk buy --card"} {
		if !strings.Contains(out, want) {
			t.Errorf("the start-up message lacks %q:\n%s", want, out)
		}
	}
	if res, err := http.Get(d.net.urls.Shop + "/"); err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("the shop does not answer: %v %v", res, err)
	}
	if res, err := http.Get(d.net.urls.TDSSPublic + "/checkout.js"); err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("the checkout script does not load: %v %v", res, err)
	}

	// Every card whose ending needs no browser ends as the README's table says; the challenge cards
	// are sent to their challenge (the browser tests complete them).
	for _, c := range demoCards {
		amount := "8900"
		if c.Product == demoHighValue {
			amount = "145000"
		}
		if c.Flow != "" {
			d.flow(c, amount)
			continue
		}
		res := d.buy(c.PAN, amount)
		want := c.Want
		// Without the merchant's consent to decoupled authentication (buy gives none), the
		// decoupled bank challenges in the browser: never D to a requestor that did not allow it.
		if c.Kind == "challenge" || c.Product == demoHighValue || c.Locked || c.Decoupled {
			want = "C"
		}
		if res["transStatus"] != want {
			t.Errorf("%s (%s): transStatus %v, want %s; %v", c.PAN, c.Ending, res["transStatus"], want, res)
		}
		if want == "C" {
			ch, _ := res["challenge"].(map[string]any)
			if ch == nil || !strings.HasPrefix(ch["acsURL"].(string), d.net.urls.ACSPublic+"/") {
				t.Errorf("%s: the challenge is not at the demo ACS's pages: %v", c.PAN, res)
			}
		}
		if (want == "Y" || want == "A") && res["authenticationValue"] == nil {
			t.Errorf("%s: %s without an authentication value", c.PAN, want)
		}
	}

	// demo.json tells `open3ds bench` where everything is.
	var info demoInfo
	raw, err := os.ReadFile(filepath.Join(dir, "demo.json"))
	if err != nil || json.Unmarshal(raw, &info) != nil {
		t.Fatalf("demo.json: %v %s", err, raw)
	}
	if info.PID != os.Getpid() || info.TDSS["api"] != d.net.urls.TDSSAPI || len(info.Cards["frictionless"]) < 5 || info.MerchantKeyFile == "" {
		t.Errorf("demo.json = %+v", info)
	}
	if strings.Contains(string(raw), d.key) {
		t.Errorf("demo.json holds the merchant's API key")
	}
	for _, name := range []string{"demo-state.json", "merchant.key", "pki/ca.key", "demo.json"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s: mode %v: secrets must be readable by their owner only", name, fi.Mode())
		}
	}
}

// freePortBase finds a --port whose whole span of demo ports is free right now.
func freePortBase(t testing.TB) int {
	t.Helper()
	for try := 0; try < 50; try++ {
		base := 20000 + rand.IntN(40000)
		var lns []net.Listener
		ok := true
		for _, off := range demoPorts {
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(base+off))
			if err != nil {
				ok = false
				break
			}
			lns = append(lns, ln)
		}
		closeAll(lns)
		if ok {
			return base
		}
	}
	t.Fatal("no free span of ports")
	return 0
}

func TestDemoKeepsItsDataBetweenRunsAndRefusesOtherPorts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "open3ds-data")
	port := freePortBase(t)
	first := startTestDemo(t, dir, port)
	pprofStatus := func(d *testDemo) int {
		t.Helper()
		resp, err := http.Get(d.net.urls.ACSAdmin + "/debug/pprof/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := pprofStatus(first); code != http.StatusNotFound {
		t.Errorf("profiles served without OPEN3DS_PPROF: %d", code)
	}
	id := first.buy("4000000000001000", "2400")["id"].(string)
	key := first.key
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}

	again := startTestDemoEnv(t, dir, port, map[string]string{"OPEN3DS_PPROF": "1"})
	if code := pprofStatus(again); code != http.StatusOK {
		t.Errorf("with OPEN3DS_PPROF=1 the ACS's admin listener answers /debug/pprof/ with %d", code)
	}
	if !strings.Contains(again.stdout.String(), "data reused") {
		t.Errorf("the second run did not reuse the data:\n%s", again.stdout)
	}
	if again.key != key {
		t.Errorf("the merchant's API key changed between runs")
	}
	again.keptAndStops(t, id)

	var stderr bytes.Buffer
	err := run(context.Background(), []string{"demo", "--dir", dir, "--port", strconv.Itoa(freePortBase(t))},
		func(string) string { return "" }, strings.NewReader(""), io.Discard, &stderr)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "same --host and --port") {
		t.Errorf("a run on other ports: exit %d, %v", exitCode(err), err)
	}
}

// demoCardRows are the README's test-card table rows, made from demoCards.
func demoCardRows() string {
	var b strings.Builder
	for _, c := range demoCards {
		product := "any"
		switch {
		case c.Flow == demoFlowPasskey:
			product = "**Sign in with a passkey**, then the road bike (€1,450)"
		case c.Product == demoHighValue:
			product = "the road bike (€1,450)"
		case c.Product == demoChallengeFirst:
			product = "the wireless headphones (€89)"
		case c.Flow == demoFlowSubscribe:
			product = "any, then **Subscribe monthly** on the result page"
		case c.Flow == demoFlowSaveCard:
			product = "none: **Save card without paying**"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", groupPAN(c.PAN), product, c.Ending)
	}
	return b.String()
}

func TestREADMEListsEveryDemoCard(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(raw), "<!-- demo-cards:")
	table, _, ok2 := strings.Cut(rest, "<!-- /demo-cards -->")
	if !ok || !ok2 {
		t.Fatal("README.md lacks the demo-cards block")
	}
	if want := demoCardRows(); !strings.Contains(table, want) {
		t.Errorf("README.md's test cards are not those of demo_cards.go; the rows should read:\n%s", want)
	}
}
