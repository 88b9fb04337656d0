package main

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
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
	"github.com/open3ds/open3ds/internal/sdkcrypto"
)

// TestServeACSSignsTheAppChallengeWithItsConfiguredKey: `serve acs` given acs_signing and app_url
// answers an app AReq that needs a challenge with C and acsSignedContent that verifies against the
// scheme CA and names the app URL.
func TestServeACSSignsTheAppChallengeWithItsConfiguredKey(t *testing.T) {
	dir := t.TempDir()
	if _, err := pki.Init(filepath.Join(dir, "pki"), pki.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	l := pki.Paths(filepath.Join(dir, "pki"))
	c := newACSCLI(t)
	av, _ := authvalue.NewRandomSpec()
	for k, v := range map[string]string{"OPEN3DS_ACS_LISTEN": "127.0.0.1:0", "OPEN3DS_ACS_ADMIN_LISTEN": "127.0.0.1:0",
		"OPEN3DS_ACS_TLS_CA": l.CA.Cert, "OPEN3DS_ACS_TLS_CERT": l.ACS.Cert, "OPEN3DS_ACS_TLS_KEY": l.ACS.Key,
		"OPEN3DS_ACS_SIGNING_CERT": l.ACSSigning.Cert, "OPEN3DS_ACS_SIGNING_KEY": l.ACSSigning.Key,
		"OPEN3DS_ACS_APP_URL":     "https://acs.example/app",
		"OPEN3DS_ACS_ADMIN_TOKEN": "tok", "OPEN3DS_ACS_AUTHVALUE_KEYS_BANK_A": av} {
		c.environ[k] = v
	}
	c.must("enrol", "issuer", "add", "--id", "bank-a", "--name", "Bank A", "--ranges", "400000-400000")
	if _, _, err := c.run("4000001234567899\n", "enrol", "cardholder", "add", "--issuer", "bank-a", "--pan", "-",
		"--mobiles", "+447700900123", "--app-ui", "01"); err != nil {
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
	raw, _ := os.ReadFile("../../internal/emv/testdata/valid/2.2.0/areq-app-pa.json")
	var m map[string]any
	json.Unmarshal(raw, &m)
	sdkKey, _ := ecdh.P256().GenerateKey(rand.Reader)
	m["acctNumber"], m["purchaseAmount"], m["sdkEphemPubKey"] = "4000001234567899", "250000", sdkcrypto.PublicJWK(sdkKey.PublicKey())
	m["dsTransID"] = "d2b3d9c9-22e8-49c1-965f-257e4c61034a"
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
	if res.TransStatus != "C" || res.ACSRenderingType == nil || res.ACSRenderingType.ACSUiTemplate != "01" {
		t.Fatalf("ARes %s %s %+v, want C with the cardholder's code screen", res.TransStatus, res.TransStatusReason, res.ACSRenderingType)
	}
	payload, _, err := sdkcrypto.VerifyJWS(res.ACSSignedContent, pool, time.Now())
	if err != nil {
		t.Fatalf("acsSignedContent: %v", err)
	}
	var content struct{ ACSURL string }
	json.Unmarshal(payload, &content)
	if content.ACSURL != "https://acs.example/app" {
		t.Errorf("acsURL %q", content.ACSURL)
	}
}
