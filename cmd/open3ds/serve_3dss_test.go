package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/vault"
)

// start3DSS runs `open3ds serve 3dss` against the DS at dsProtocol, with the PKI layout of that DS,
// and returns the api, public and admin addresses.
func start3DSS(t *testing.T, layout pki.Layout, dsProtocol, dsn string) (api, public, admin string) {
	t.Helper()
	s := start3DSSWith(t, layout, dsProtocol, dsn)
	return s.api, s.public, s.admin
}

// served3DSS is a `serve 3dss` running in the test's process.
type served3DSS struct {
	api, public, admin string
	signal             func()        // ends its context, as SIGTERM does
	wait               func() string // waits until it has stopped and gives its log
}

// start3DSSWith is start3DSS with more flags, giving the means to stop the server and read its log.
func start3DSSWith(t *testing.T, layout pki.Layout, dsProtocol, dsn string, args ...string) *served3DSS {
	t.Helper()
	spec, err := vault.NewRandomSpec()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"OPEN3DS_3DSS_ADMIN_TOKEN": "3dss-admin-token", "OPEN3DS_VAULT_KEYS": spec, "OPEN3DS_DRAIN_DELAY": "0"}
	addrs := make(chan [4]string, 1)
	tdssListening = func(p, a, pub, adm string) { addrs <- [4]string{p, a, pub, adm} }
	t.Cleanup(func() { tdssListening = nil })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	stderr := &netLog{}
	go func() {
		done <- run(ctx, append([]string{"serve", "3dss", "--listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0",
			"--public-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--dsn", dsn, "--ds-url", "https://" + dsProtocol + "/", "--reference-number", "REF",
			"--tls.ca", layout.CA.Cert, "--tls.cert", layout.ThreeDSServer.Cert, "--tls.key", layout.ThreeDSServer.Key}, args...),
			func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, stderr)
	}()
	s := &served3DSS{signal: cancel}
	select {
	case a := <-addrs:
		s.api, s.public, s.admin = a[1], a[2], a[3]
	case err := <-done:
		t.Fatalf("serve 3dss stopped: %v\n%s", err, stderr)
	case <-time.After(10 * time.Second):
		t.Fatal("serve 3dss did not start")
	}
	var once sync.Once
	s.wait = func() string {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve 3dss: %v", err)
			}
			if strings.Contains(stderr.String(), "4000000000001000") {
				t.Error("a full PAN reached the log")
			}
		})
		return stderr.String()
	}
	t.Cleanup(func() { s.wait() })
	return s
}

func TestServe3DSSEnrolsAMerchantLoadsTheRangesAndStartsAnAuthentication(t *testing.T) {
	layout, dsProtocol, dsAdmin := startDS(t, dsStores[0].dsn(t))
	const dsTok = "admin-token-for-tests"
	for _, call := range [][3]string{
		{"/v1/acs", `{"name":"acs","referenceNumber":"ACS-REF","url":"https://127.0.0.1:1/areq"}`},
		{"/v1/3dss", `{"name":"3dss","referenceNumber":"REF","requestorIds":["R1"]}`},
		{"/v1/ranges", `{"start":"4000000000000000","end":"4000000000009999","acs":"acs","threeDSMethodURL":"https://acs.example/method",
			"acsStartProtocolVersion":"2.1.0","acsEndProtocolVersion":"2.2.0","dsStartProtocolVersion":"2.1.0","dsEndProtocolVersion":"2.3.1"}`},
	} {
		if status, body := adminCall(t, dsAdmin, dsTok, "POST", call[0], call[1]); status != 201 {
			t.Fatalf("DS admin %s: %d %s", call[0], status, body)
		}
	}
	api, _, admin := start3DSS(t, layout, dsProtocol, dsStores[0].dsn(t))

	if status, _ := adminCall(t, admin, "", "GET", "/v1/merchants", ""); status != 401 {
		t.Fatalf("the admin API without a token answered %d; want 401", status)
	}
	status, body := adminCall(t, admin, "3dss-admin-token", "POST", "/v1/merchants", `{"id":"shop","name":"Shop","requestorId":"R1",
		"requestorName":"Shop","requestorUrl":"https://shop.example","acquirerBin":"412345","acquirerMerchantId":"M1","mcc":"5732","country":"250"}`)
	var created struct{ APIKey string }
	json.Unmarshal([]byte(body), &created)
	if status != 201 || !strings.HasPrefix(created.APIKey, "o3ds_") {
		t.Fatalf("adding a merchant answered %d %s; want 201 with its API key", status, body)
	}
	if _, list := adminCall(t, admin, "3dss-admin-token", "GET", "/v1/merchants", ""); strings.Contains(list, created.APIKey) {
		t.Fatal("the merchant list shows the API key")
	}

	// The refresher sends the first PReq at start; the enrolled range shows up once it is cached.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // the test's own CA, checked elsewhere
	deadline := time.Now().Add(5 * time.Second)
	for {
		req, _ := http.NewRequest("POST", "https://"+api+"/v1/authentications", strings.NewReader(`{"cardNumber":"4000000000001000"}`))
		req.Header.Set("Authorization", "Bearer "+created.APIKey)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 201 {
			t.Fatalf("start: %d %s", resp.StatusCode, data)
		}
		if strings.Contains(string(data), `"enrolled":true`) {
			if !strings.Contains(string(data), `"messageVersion":"2.2.0"`) || !strings.Contains(string(data), `"url":"https://acs.example/method"`) {
				t.Fatalf("start answered %s; want version 2.2.0 and the Method form", data)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the range never became enrolled: %s", data)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if status, body := adminCall(t, admin, "", "GET", "/metrics", ""); status != 200 || !strings.Contains(body, "open3ds_3dss_messages_total") {
		t.Fatalf("metrics: %d", status)
	}
	// The console serves the 3DS Server's pages, behind its sign-in.
	if status, body := adminCall(t, admin, "", "GET", "/console/merchants", ""); status != 200 || !strings.Contains(body, `name="token"`) ||
		strings.Contains(body, "Shop") {
		t.Fatalf("the merchants page before sign-in: %d\n%s", status, body)
	}
}

func TestServe3DSSListsEveryConfigurationProblemAtOnce(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"serve", "3dss", "--preq-every", "30m"}, func(string) string { return "" },
		strings.NewReader(""), io.Discard, &stderr)
	if err == nil {
		t.Fatal("serve 3dss started without configuration")
	}
	for _, field := range []string{"dsn", "ds_url", "tls", "admin_token", "vault_keys", "preq_every"} {
		if !strings.Contains(err.Error()+stderr.String(), field) {
			t.Errorf("the error does not name %s: %v", field, err)
		}
	}
}

func TestServe3DSSRefusesAProtocolURLThatWouldMisrouteEveryRReq(t *testing.T) {
	tests := []struct {
		name, url string
		want      []string // in the error; nil when the URL is fine
	}{
		{"a URL already ending in the RReq route", "https://3dss.example:10443/3ds/rreq",
			[]string{"protocol_url", "--protocol-url", "ends in /3ds/rreq", "https://3dss.example:10443"}},
		{"the same with a trailing slash", "https://3dss.example/3ds/rreq/", []string{"protocol_url", "ends in /3ds/rreq"}},
		{"a plain HTTP URL, which the DS cannot reach over mutual TLS", "http://3dss.example", []string{"protocol_url", "https://"}},
		{"a URL with a query", "https://3dss.example/?x=1", []string{"protocol_url", "no query"}},
		{"a base URL", "https://3dss.example:10443", nil},
		{"a base URL under a proxy's prefix", "https://gw.example/3dss/", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			// The rest of the configuration is missing too: every problem is listed at once, so the
			// error shows whether protocol_url is among them.
			err := run(context.Background(), []string{"serve", "3dss", "--protocol-url", tt.url}, func(string) string { return "" },
				strings.NewReader(""), io.Discard, &stderr)
			if err == nil {
				t.Fatal("serve 3dss started without configuration")
			}
			msg := err.Error() + stderr.String()
			if tt.want == nil && strings.Contains(msg, "protocol_url") {
				t.Fatalf("a good URL was refused: %v", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("the error does not say %q: %v", w, msg)
				}
			}
		})
	}
}
