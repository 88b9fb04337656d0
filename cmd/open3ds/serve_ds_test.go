package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/pki"
)

// startDS runs `open3ds serve ds` on loopback ports chosen by the kernel, with a PKI from
// pki.Init, and returns the protocol and admin addresses. The server stops when the test ends.
// extra flags go after the ones it sets.
func startDS(t *testing.T, dsn string, extra ...string) (layout pki.Layout, protocol, admin string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pki")
	res, err := pki.Init(dir, pki.InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	layout = res.Layout
	env := map[string]string{"OPEN3DS_DS_ADMIN_TOKEN": "admin-token-for-tests", "OPEN3DS_DS_STAND_IN_KEY": "stand-in-key-for-tests",
		"OPEN3DS_DRAIN_DELAY": "0"}
	addrs := make(chan [2]string, 1)
	dsListening = func(p, a string) { addrs <- [2]string{p, a} }
	t.Cleanup(func() { dsListening = nil })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var stderr bytes.Buffer
	go func() {
		done <- run(ctx, append([]string{"serve", "ds", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--dsn", dsn,
			"--tls.ca", layout.CA.Cert, "--tls.cert", layout.DS.Cert, "--tls.key", layout.DS.Key}, extra...),
			func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, &stderr)
	}()
	select {
	case a := <-addrs:
		protocol, admin = a[0], a[1]
	case err := <-done:
		t.Fatalf("serve ds stopped: %v\n%s", err, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("serve ds did not start")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve ds: %v", err)
		}
		if strings.Contains(stderr.String(), "4000000000001091") {
			t.Error("a full PAN reached the log")
		}
	})
	return layout, protocol, admin
}

// adminCall sends one admin API request and returns the status and body.
func adminCall(t *testing.T, admin, token, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+admin+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

func TestServeDSTakesAdminCallsAndAnswersPReqOverMutualTLS(t *testing.T) {
	for _, b := range dsStores {
		t.Run(b.name, func(t *testing.T) {
			layout, protocol, admin := startDS(t, b.dsn(t))
			const tok = "admin-token-for-tests"
			steps := []struct {
				name, token, method, path, body string
				status                          int
				contains                        string
			}{
				{"a call without the token is refused", "", "GET", "/v1/acs", "", 401, ""},
				{"a call with a wrong token is refused", "admin-token-for-test", "GET", "/v1/acs", "", 401, ""},
				{"an ACS without a URL gets a problem naming url", tok, "POST", "/v1/acs", `{"name":"acs","referenceNumber":"R"}`, 422, `"url"`},
				{"an unknown field gets a problem", tok, "POST", "/v1/acs", `{"nme":"acs"}`, 400, "nme"},
				{"an ACS is added", tok, "POST", "/v1/acs", `{"name":"acs","referenceNumber":"ACS-REF","url":"https://127.0.0.1:1/areq"}`, 201, ""},
				{"the same ACS again conflicts", tok, "POST", "/v1/acs", `{"name":"acs","referenceNumber":"ACS-REF","url":"https://127.0.0.1:1/areq"}`, 409, ""},
				{"a 3DS Server is added", tok, "POST", "/v1/3dss", `{"name":"3dss","referenceNumber":"REF","requestorIds":["R1"]}`, 201, ""},
				{"a range is added", tok, "POST", "/v1/ranges", `{"start":"4000000000000000","end":"4000000000009999","acs":"acs",
					"acsStartProtocolVersion":"2.1.0","acsEndProtocolVersion":"2.3.1","dsStartProtocolVersion":"2.1.0","dsEndProtocolVersion":"2.3.1"}`, 201, ""},
				{"an overlapping range is refused naming the range", tok, "POST", "/v1/ranges", `{"start":"4000000000005000","end":"4000000000019999","acs":"acs",
					"acsStartProtocolVersion":"2.1.0","acsEndProtocolVersion":"2.3.1","dsStartProtocolVersion":"2.1.0","dsEndProtocolVersion":"2.3.1"}`, 409, "4000000000000000–4000000000009999"},
				{"a range is changed", tok, "PUT", "/v1/ranges/4000000000000000", `{"end":"4000000000000999","acs":"acs",
					"acsStartProtocolVersion":"2.2.0","acsEndProtocolVersion":"2.3.1","dsStartProtocolVersion":"2.1.0","dsEndProtocolVersion":"2.3.1"}`, 200, ""},
				{"the scheme takes Mastercard ECIs", tok, "PUT", "/v1/scheme", `{"dsId":"F000000001","referenceNumber":"DS-REF",
					"eci":{"Y":"02","A":"01","N":"00"},"standInNotEnrolled":"attempts","standInUnavailable":"unavailable"}`, 200, `"Y":"02"`},
				{"the ranges list shows the change", tok, "GET", "/v1/ranges", "", 200, `"end":"4000000000000999"`},
				{"removing an unknown ACS is 404", tok, "DELETE", "/v1/acs/ghost", "", 404, ""},
			}
			for _, st := range steps {
				status, body := adminCall(t, admin, st.token, st.method, st.path, st.body)
				if status != st.status || !strings.Contains(body, st.contains) {
					t.Errorf("%s: got %d %s, want %d containing %q", st.name, status, body, st.status, st.contains)
				}
			}

			cert, err := pki.LoadKeyPair(layout.ThreeDSServer.Cert, layout.ThreeDSServer.Key)
			if err != nil {
				t.Fatal(err)
			}
			pool, err := pki.LoadPool(layout.CA.Cert)
			if err != nil {
				t.Fatal(err)
			}
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: pki.ClientConfig(&cert, pool, "")}}
			preq := `{"messageType":"PReq","messageVersion":"2.2.0","threeDSServerTransID":"e8aad98f-50cc-4605-8b35-e476567f9c37",
				"threeDSServerRefNumber":"REF"}`
			resp, err := client.Post("https://"+protocol+"/", "application/json", strings.NewReader(preq))
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			m, err := emv.Parse(data, nil)
			if err != nil {
				t.Fatalf("PRes: %v\n%s", err, data)
			}
			pres, ok := m.(*emv.PRes)
			if !ok || len(pres.CardRangeData) != 1 || pres.CardRangeData[0].ACSStartProtocolVersion != "2.2.0" {
				t.Errorf("PRes = %s", data)
			}

			status, body := adminCall(t, admin, "", "GET", "/metrics", "")
			if status != 200 || !strings.Contains(body, `open3ds_ds_messages_total{outcome="ok",type="PReq"} 1`) {
				t.Errorf("metrics: %d, DS message counter missing", status)
			}
			var sc map[string]any
			_, body = adminCall(t, admin, tok, "GET", "/v1/scheme", "")
			json.Unmarshal([]byte(body), &sc)
			if sc["serial"] != float64(5) {
				t.Errorf("serial after five changes = %v", sc["serial"])
			}
		})
	}
}

func TestServeDSListsEveryConfigurationProblemAtOnce(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"serve", "ds", "--stand-in-unavailable", "maybe", "--sdk-key", "k1=a,k1=b,k2=", "--fido-auth-data", "jws"},
		func(string) string { return "" }, strings.NewReader(""), io.Discard, &stderr)
	if exitCode(err) != 2 {
		t.Fatalf("got %v, want a usage error", err)
	}
	for _, want := range []string{"dsn", "tls", "admin_token", "stand_in_key", "stand_in_unavailable", "fido_auth_data",
		`key id "k1" is given twice`, `"k2=" names no file prefix`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %s: %v", want, err)
		}
	}
}

func TestServeDSLoadsItsSDKKeysAndRefusesWhatItCannotUse(t *testing.T) {
	l, err := pki.Init(filepath.Join(t.TempDir(), "pki"), pki.InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := dsSDKKeys([]string{"rsa-1=" + l.Layout.DSEncryptionRSA.Prefix(), l.Layout.DSEncryptionEC.Prefix()})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].ID != "rsa-1" || len(keys[1].ID) != 16 {
		t.Errorf("keys %q and %q, want rsa-1 then a derived id", keys[0].ID, keys[1].ID)
	}
	// A P-384 key pair: a kind no SDK encrypts to.
	p384 := filepath.Join(t.TempDir(), "p384")
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for path, block := range map[string]*pem.Block{p384 + ".crt": {Type: "CERTIFICATE", Bytes: der}, p384 + ".key": {Type: "PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for name, items := range map[string][]string{
		"a prefix with no files": {filepath.Join(t.TempDir(), "missing")},
		"the same key twice":     {l.Layout.DSEncryptionEC.Prefix(), l.Layout.DSEncryptionEC.Prefix()},
		"a P-384 key":            {p384},
	} {
		if _, err := dsSDKKeys(items); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}
