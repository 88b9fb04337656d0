package shop_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

var enc = base64.RawURLEncoding.EncodeToString

// authenticator is a passkey on a phone, as the shop's page drives it through WebAuthn.
type authenticator struct {
	key   *ecdsa.PrivateKey
	id    string
	count uint32
}

func newAuthenticator(t *testing.T) *authenticator {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &authenticator{key: key, id: enc([]byte("passkey-" + t.Name()))}
}

func (s *testShop) challenge(t *testing.T) string {
	t.Helper()
	resp, body := s.do(t, "POST", "/api/passkey/options", "{}")
	var o struct{ Challenge, RPID string }
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &o) != nil || o.Challenge == "" {
		t.Fatalf("options: %d %s", resp.StatusCode, body)
	}
	if u, _ := url.Parse(s.url); o.RPID != u.Hostname() {
		t.Fatalf("rpId %q, want the shop's host", o.RPID)
	}
	return o.Challenge
}

func clientJSON(kind, challenge, origin string) []byte {
	b, _ := json.Marshal(map[string]string{"type": kind, "challenge": challenge, "origin": origin})
	return b
}

// register makes the passkey at the shop; it answers the HTTP status.
func (a *authenticator) register(t *testing.T, s *testShop) int {
	t.Helper()
	spki, _ := x509.MarshalPKIXPublicKey(&a.key.PublicKey)
	body, _ := json.Marshal(map[string]any{"id": a.id, "clientDataJSON": enc(clientJSON("webauthn.create", s.challenge(t), s.url)),
		"publicKey": enc(spki), "publicKeyAlgorithm": -7})
	resp, _ := s.do(t, "POST", "/api/passkey/register", string(body))
	return resp.StatusCode
}

// assertion signs a sign-in; edit may spoil it.
func (a *authenticator) assertion(t *testing.T, s *testShop, flags byte, client []byte) string {
	t.Helper()
	u, _ := url.Parse(s.url)
	rp := sha256.Sum256([]byte(u.Hostname()))
	a.count++
	ad := binary.BigEndian.AppendUint32(append(rp[:], flags), a.count)
	ch := sha256.Sum256(client)
	digest := sha256.Sum256(append(append([]byte{}, ad...), ch[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"id": a.id, "rawId": a.id, "type": "public-key", "response": map[string]string{
		"clientDataJSON": enc(client), "authenticatorData": enc(ad), "signature": enc(sig)}})
	return string(b)
}

func (s *testShop) signIn(t *testing.T, assertion string) (*http.Response, string) {
	t.Helper()
	return s.do(t, "POST", "/api/passkey/login", assertion)
}

func TestAPasskeySignInTheShopVerifiedGoesWithThePurchase(t *testing.T) {
	api := newFakeAPI(t)
	s := newShop(t, api, nil)
	a := newAuthenticator(t)
	if code := a.register(t, s); code != http.StatusNoContent {
		t.Fatalf("register: %d", code)
	}
	assertion := a.assertion(t, s, 0x05, clientJSON("webauthn.get", s.challenge(t), s.url))
	resp, body := s.signIn(t, assertion)
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "shop_login" {
			cookie = c
		}
	}
	if resp.StatusCode != 200 || cookie == nil || !cookie.HttpOnly {
		t.Fatalf("sign-in: %d %s, cookie %v", resp.StatusCode, body, cookie)
	}
	if _, page := s.do(t, "GET", "/", "", "Cookie", "shop_login="+cookie.Value); !strings.Contains(page, "Signed in with your passkey.") {
		t.Error("the shop page does not say the shopper is signed in")
	}
	s.startOrder(t)
	if resp, body := s.do(t, "POST", "/api/authenticate/"+enrolledID, checkoutBody(nil), "Cookie", "shop_login="+cookie.Value); resp.StatusCode != 200 {
		t.Fatalf("authenticate: %d %s", resp.StatusCode, body)
	}
	login, _ := api.sentFor(enrolledID)["requestorAuthentication"].(map[string]any)
	data, _ := json.Marshal(login["data"])
	var sent, signed any
	json.Unmarshal(data, &sent)
	json.Unmarshal([]byte(assertion), &signed)
	if login["method"] != "fido" || login["time"] == nil || string(mustJSON(sent)) != string(mustJSON(signed)) {
		t.Fatalf("the 3DS Server got the login %v, want fido with the assertion the shop checked", login)
	}
	// The same sign-in sent again (its challenge spent, its counter not above the last) is refused.
	if resp, _ := s.signIn(t, assertion); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a replayed sign-in: %d, want 401", resp.StatusCode)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func TestTheShopRefusesASignInItCannotVerify(t *testing.T) {
	s := newShop(t, newFakeAPI(t), nil)
	a := newAuthenticator(t)
	if code := a.register(t, s); code != http.StatusNoContent {
		t.Fatalf("register: %d", code)
	}
	other := newAuthenticator(t)
	other.id = a.id // the same credential id, another key: a forged signature
	for _, c := range []struct {
		name      string
		assertion func() string
		want      int
	}{
		{"no user verification (a touch only)", func() string {
			return a.assertion(t, s, 0x01, clientJSON("webauthn.get", s.challenge(t), s.url))
		}, http.StatusUnauthorized},
		{"another site's origin", func() string {
			return a.assertion(t, s, 0x05, clientJSON("webauthn.get", s.challenge(t), "https://evil.example"))
		}, http.StatusUnauthorized},
		{"a challenge the shop never gave", func() string {
			return a.assertion(t, s, 0x05, clientJSON("webauthn.get", enc([]byte("made up")), s.url))
		}, http.StatusUnauthorized},
		{"a registration in place of a sign-in", func() string {
			return a.assertion(t, s, 0x05, clientJSON("webauthn.create", s.challenge(t), s.url))
		}, http.StatusUnauthorized},
		{"a signature by another key", func() string {
			return other.assertion(t, s, 0x05, clientJSON("webauthn.get", s.challenge(t), s.url))
		}, http.StatusUnauthorized},
		{"a passkey the shop does not know", func() string {
			n := newAuthenticator(t)
			n.id = enc([]byte("unknown"))
			return n.assertion(t, s, 0x05, clientJSON("webauthn.get", s.challenge(t), s.url))
		}, http.StatusNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			if resp, body := s.signIn(t, c.assertion()); resp.StatusCode != c.want || len(resp.Cookies()) != 0 {
				t.Errorf("%d %s, want %d and no sign-in", resp.StatusCode, body, c.want)
			}
		})
	}
	t.Run("a registration with another site's origin", func(t *testing.T) {
		spki, _ := x509.MarshalPKIXPublicKey(&a.key.PublicKey)
		body, _ := json.Marshal(map[string]any{"id": enc([]byte("x")), "clientDataJSON": enc(clientJSON("webauthn.create", s.challenge(t), "https://evil.example")),
			"publicKey": enc(spki), "publicKeyAlgorithm": -7})
		if resp, out := s.do(t, "POST", "/api/passkey/register", string(body)); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(out, "clientDataJSON") {
			t.Errorf("%d %s, want 422 naming clientDataJSON", resp.StatusCode, out)
		}
	})
}
