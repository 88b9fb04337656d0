package shop

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzPasskeyLogin sends anything as a passkey sign-in: the shop answers with a problem, never a
// sign-in (no key it holds signed it) and never a 500.
func FuzzPasskeyLogin(f *testing.F) {
	f.Add(`{"id":"cGs","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"AAAA","signature":"AA"}}`)
	f.Add(`{"type":"public-key","response":{}}`)
	f.Add(`[]`)
	f.Add(`{"id":"cGs","type":"public-key","response":{"clientDataJSON":"eyJ0eXBlIjoid2ViYXV0aG4uZ2V0In0","authenticatorData":"o3mm9u6vuaVeN4wRgDTidR5oL6ufLTCrE9ISVYbOGUcFAAAAAQ","signature":"MEUCIQ"}}`)
	s, err := New(Config{APIURL: "https://3dss.example", APIKey: "k", ScriptURL: "https://3dss.example/checkout.js"})
	if err != nil {
		f.Fatal(err)
	}
	// A passkey the shop knows, so that bodies naming it reach the signature check.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s.passkeys.keys["cGs"] = &passkey{pub: &key.PublicKey}
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", "/api/passkey/login", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK || rec.Code >= 500 || len(rec.Result().Cookies()) != 0 {
			t.Fatalf("%q: %d", body, rec.Code)
		}
	})
}
