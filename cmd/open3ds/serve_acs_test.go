package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
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

// TestServeACSAnswersAnAReqFromTheDSAndVerifiesItsValue runs `open3ds serve acs` in-process on loopback
// ports, enrols a card with the CLI, sends an AReq with the DS certificate and verifies the value.
func TestServeACSAnswersAnAReqFromTheDSAndVerifiesItsValue(t *testing.T) {
	dir := t.TempDir()
	if _, err := pki.Init(filepath.Join(dir, "pki"), pki.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	l := pki.Paths(filepath.Join(dir, "pki"))
	c := newACSCLI(t)
	av, _ := authvalue.NewRandomSpec()
	for k, v := range map[string]string{"OPEN3DS_ACS_LISTEN": "127.0.0.1:0", "OPEN3DS_ACS_ADMIN_LISTEN": "127.0.0.1:0",
		"OPEN3DS_ACS_TLS_CA": l.CA.Cert, "OPEN3DS_ACS_TLS_CERT": l.ACS.Cert, "OPEN3DS_ACS_TLS_KEY": l.ACS.Key,
		"OPEN3DS_ACS_ADMIN_TOKEN": "tok", "OPEN3DS_ACS_AUTHVALUE_KEYS_BANK_A": av, "OPEN3DS_LOG_LEVEL": "debug"} {
		c.environ[k] = v
	}
	c.must("enrol", "issuer", "add", "--id", "bank-a", "--name", "Bank A", "--ranges", "400000-400000")
	if _, _, err := c.run("4000001234547891\n", "enrol", "cardholder", "add", "--issuer", "bank-a", "--pan", "-"); err != nil {
		t.Fatal(err)
	}

	addrs := make(chan [2]string, 1)
	acsListening = func(p, a string) { addrs <- [2]string{p, a} }
	t.Cleanup(func() { acsListening = nil })
	ctx, cancel := context.WithCancel(context.Background())
	var logs bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "acs"}, func(k string) string { return c.environ[k] }, strings.NewReader(""), io.Discard, &logs)
	}()
	var addr [2]string
	select {
	case addr = <-addrs:
	case err := <-done:
		t.Fatalf("serve acs ended: %v\n%s", err, logs.String())
	case <-time.After(10 * time.Second):
		t.Fatal("serve acs did not start")
	}
	defer func() {
		cancel()
		<-done
	}()

	cert, _ := pki.LoadKeyPair(l.DS.Cert, l.DS.Key)
	pool, _ := pki.LoadPool(l.CA.Cert)
	ds := &http.Client{Transport: &http.Transport{TLSClientConfig: pki.ClientConfig(&cert, pool, "127.0.0.1")}}
	raw, _ := os.ReadFile("../../internal/emv/testdata/valid/2.2.0/areq-browser-pa.json")
	var m map[string]any
	json.Unmarshal(raw, &m)
	m["acctNumber"], m["purchaseAmount"] = "4000001234547891", "1500"
	body, _ := json.Marshal(m)
	resp, err := ds.Post("https://"+addr[0]+"/areq", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	msg, err := emv.ParseAs(out, emv.TypeARes, nil)
	if err != nil {
		t.Fatalf("not an ARes: %v\n%s", err, out)
	}
	res := msg.(*emv.ARes)
	if res.TransStatus != "Y" {
		t.Fatalf("transStatus %s %s, want Y from the default policy for a small amount", res.TransStatus, res.TransStatusReason)
	}
	{
		ask, _ := json.Marshal(map[string]string{"pan": "4000001234547891", "amount": "1500", "currency": "978", "authenticationValue": res.AuthenticationValue})
		req, _ := http.NewRequest("POST", "http://"+addr[1]+"/v1/authentication-values/verify", bytes.NewReader(ask))
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
	if strings.Contains(logs.String(), "4000001234547891") {
		t.Errorf("the server's log holds the PAN")
	}
}

func TestServeACSListsEveryConfigurationProblemAtOnce(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"serve", "acs", "--challenge-url", "http://plain", "--method-mode", "script",
		"--acs-signing.cert", "signing.pem", "--app-url", "http://plain/app"}, func(string) string { return "" },
		strings.NewReader(""), io.Discard, &stderr)
	if exitCode(err) != 2 {
		t.Fatalf("exit %d (%v), want 2", exitCode(err), err)
	}
	for _, want := range []string{"dsn", "tls", "admin_token", "vault_keys", "challenge_url", "method_mode", "acs_signing", "app_url"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the problems do not name %s: %v", want, err)
		}
	}
}
