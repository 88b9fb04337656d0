package main

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/pki"
)

// TestServeACSPublicListenerServesTheThreeDSMethod runs `open3ds serve acs --public-listen` and posts
// a 3DS Method form to it over HTTPS, as a shopper's browser would.
func TestServeACSPublicListenerServesTheThreeDSMethod(t *testing.T) {
	dir := t.TempDir()
	if _, err := pki.Init(filepath.Join(dir, "pki"), pki.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	l := pki.Paths(filepath.Join(dir, "pki"))
	c := newACSCLI(t)
	for k, v := range map[string]string{"OPEN3DS_ACS_LISTEN": "127.0.0.1:0", "OPEN3DS_ACS_ADMIN_LISTEN": "127.0.0.1:0",
		"OPEN3DS_ACS_TLS_CA": l.CA.Cert, "OPEN3DS_ACS_TLS_CERT": l.ACS.Cert, "OPEN3DS_ACS_TLS_KEY": l.ACS.Key,
		"OPEN3DS_ACS_ADMIN_TOKEN": "tok", "OPEN3DS_ACS_PUBLIC_LISTEN": "127.0.0.1:0",
		"OPEN3DS_ACS_OTP_KEY": strings.Repeat("o", 32)} {
		c.environ[k] = v
	}
	public := make(chan string, 1)
	acsPublicListening = func(a string) { public <- a }
	t.Cleanup(func() { acsPublicListening = nil })
	ctx, cancel := context.WithCancel(context.Background())
	var logs strings.Builder
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "acs"}, func(k string) string { return c.environ[k] }, strings.NewReader(""), io.Discard, &logs)
	}()
	var addr string
	select {
	case addr = <-public:
	case err := <-done:
		t.Fatalf("serve acs ended: %v\n%s", err, logs.String())
	case <-time.After(10 * time.Second):
		t.Fatal("serve acs did not start")
	}
	defer func() {
		cancel()
		<-done
	}()
	pool, _ := pki.LoadPool(l.CA.Cert)
	browser := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}}
	data := base64.RawURLEncoding.EncodeToString([]byte(`{"threeDSServerTransID":"3dfc51f7-a5f7-440a-b848-ab95222dd6c8","threeDSMethodNotificationURL":"https://m.example/n"}`))
	resp, err := browser.PostForm("https://"+addr+"/method", url.Values{"threeDSMethodData": {data}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `action="https://m.example/n"`) {
		t.Errorf("3DS Method: %d %s", resp.StatusCode, body)
	}
}
