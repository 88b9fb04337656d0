package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/authvalue"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/pki"
)

// newServeACSCLI makes a scheme PKI and a CLI whose environment runs `serve acs` on loopback ports
// with the ACS's certificate and the admin token "tok"; extra adds to that environment.
func newServeACSCLI(t *testing.T, extra map[string]string) (*acsCLI, pki.Layout) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pki")
	if _, err := pki.Init(dir, pki.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	l := pki.Paths(dir)
	c := newACSCLI(t)
	for k, v := range map[string]string{"OPEN3DS_ACS_LISTEN": "127.0.0.1:0", "OPEN3DS_ACS_ADMIN_LISTEN": "127.0.0.1:0",
		"OPEN3DS_ACS_TLS_CA": l.CA.Cert, "OPEN3DS_ACS_TLS_CERT": l.ACS.Cert, "OPEN3DS_ACS_TLS_KEY": l.ACS.Key,
		"OPEN3DS_ACS_ADMIN_TOKEN": "tok"} {
		c.environ[k] = v
	}
	maps.Copy(c.environ, extra)
	return c, l
}

// servedACS is a `serve acs` running in the test's process.
type servedACS struct {
	protocol, admin string
	public          string        // empty unless the environment asks for a public listener
	stop            func() string // ends the server, once it has, and gives its whole log
}

// startServeACS runs `serve acs` with c's environment and returns once every listener it was asked
// for is open. The server stops when the test ends, if stop has not stopped it before.
func startServeACS(t *testing.T, c *acsCLI) *servedACS {
	t.Helper()
	addrs, public := make(chan [2]string, 1), make(chan string, 1)
	acsListening = func(p, a string) { addrs <- [2]string{p, a} }
	acsPublicListening = func(a string) { public <- a }
	t.Cleanup(func() { acsListening, acsPublicListening = nil, nil })
	ctx, cancel := context.WithCancel(context.Background())
	var logs bytes.Buffer
	var runErr error
	ended := make(chan struct{})
	go func() {
		runErr = run(ctx, []string{"serve", "acs"}, func(k string) string { return c.environ[k] }, strings.NewReader(""), io.Discard, &logs)
		close(ended)
	}()
	s := &servedACS{stop: func() string {
		cancel()
		<-ended
		return logs.String()
	}}
	t.Cleanup(func() { s.stop() })
	wantPublic := c.environ["OPEN3DS_ACS_PUBLIC_LISTEN"] != ""
	for s.protocol == "" || wantPublic && s.public == "" {
		select {
		case a := <-addrs:
			s.protocol, s.admin = a[0], a[1]
		case s.public = <-public:
		case <-ended:
			t.Fatalf("serve acs ended: %v\n%s", runErr, logs.String())
		case <-time.After(10 * time.Second):
			t.Fatal("serve acs did not start")
		}
	}
	return s
}

// postAReq sends the golden AReq file (under internal/emv/testdata/valid), with set's fields
// changed, to the ACS at protocol as the scheme's DS does, and gives the ARes it answers.
func postAReq(t *testing.T, l pki.Layout, protocol, golden string, set map[string]any) *emv.ARes {
	t.Helper()
	cert, err := pki.LoadKeyPair(l.DS.Cert, l.DS.Key)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pki.LoadPool(l.CA.Cert)
	if err != nil {
		t.Fatal(err)
	}
	ds := &http.Client{Transport: &http.Transport{TLSClientConfig: pki.ClientConfig(&cert, pool, "127.0.0.1")}}
	raw, err := os.ReadFile(filepath.Join("..", "..", "internal", "emv", "testdata", "valid", golden))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	maps.Copy(m, set)
	body, _ := json.Marshal(m)
	resp, err := ds.Post("https://"+protocol+"/areq", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	msg, err := emv.ParseAs(out, emv.TypeARes, nil)
	if err != nil {
		t.Fatalf("not an ARes: %v\n%s", err, out)
	}
	return msg.(*emv.ARes)
}

// TestServeACSAnswersAnAReqFromTheDSAndVerifiesItsValue runs `open3ds serve acs` in-process on loopback
// ports, enrols a card with the CLI, sends an AReq with the DS certificate and verifies the value.
func TestServeACSAnswersAnAReqFromTheDSAndVerifiesItsValue(t *testing.T) {
	av, _ := authvalue.NewRandomSpec()
	c, l := newServeACSCLI(t, map[string]string{"OPEN3DS_ACS_AUTHVALUE_KEYS_BANK_A": av, "OPEN3DS_LOG_LEVEL": "debug"})
	c.must("enrol", "issuer", "add", "--id", "bank-a", "--name", "Bank A", "--ranges", "400000-400000")
	if _, _, err := c.run("4000001234547891\n", "enrol", "cardholder", "add", "--issuer", "bank-a", "--pan", "-"); err != nil {
		t.Fatal(err)
	}
	srv := startServeACS(t, c)

	res := postAReq(t, l, srv.protocol, "2.2.0/areq-browser-pa.json", map[string]any{"acctNumber": "4000001234547891", "purchaseAmount": "1500"})
	if res.TransStatus != "Y" {
		t.Fatalf("transStatus %s %s, want Y from the default policy for a small amount", res.TransStatus, res.TransStatusReason)
	}
	{
		ask, _ := json.Marshal(map[string]string{"pan": "4000001234547891", "amount": "1500", "currency": "978", "authenticationValue": res.AuthenticationValue})
		req, _ := http.NewRequest("POST", "http://"+srv.admin+"/v1/authentication-values/verify", bytes.NewReader(ask))
		req.Header.Set("Authorization", "Bearer tok")
		req.Header.Set("Content-Type", "application/json")
		vr, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got struct{ Valid bool }
		json.NewDecoder(vr.Body).Decode(&got)
		vr.Body.Close()
		if !got.Valid {
			t.Errorf("the value the ACS issued does not verify")
		}
	}
	// The console serves the risk pages (internal/backtest), behind its sign-in.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if resp, err := noFollow.Get("http://" + srv.admin + "/console/risk"); err != nil {
		t.Error(err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/sign-in?next=%2Fconsole%2Frisk" {
		t.Errorf("the risk page before sign-in answered %d → %s, want the sign-in", resp.StatusCode, resp.Header.Get("Location"))
	}
	if strings.Contains(srv.stop(), "4000001234547891") {
		t.Errorf("the server's log holds the PAN")
	}
}

func TestServeACSListsEveryConfigurationProblemAtOnce(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"serve", "acs", "--challenge-url", "http://plain", "--method-mode", "script",
		"--acs-signing.cert", "signing.pem", "--app-url", "http://plain/app", "--fido-auth-data", "jws", "--decoupled-url", "http://plain/decoupled",
		"--decoupled-max", "5m", "--decoupled-min", "10m"}, func(string) string { return "" },
		strings.NewReader(""), io.Discard, &stderr)
	if exitCode(err) != 2 {
		t.Fatalf("exit %d (%v), want 2", exitCode(err), err)
	}
	for _, want := range []string{"dsn", "tls", "admin_token", "vault_keys", "challenge_url", "method_mode", "acs_signing", "app_url",
		"fido_auth_data", "decoupled_url", "decoupled_min"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the problems do not name %s: %v", want, err)
		}
	}
}
