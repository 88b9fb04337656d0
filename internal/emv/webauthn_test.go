package emv_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/emv"
)

var b64 = base64.RawURLEncoding.EncodeToString

// assertionJSON builds the JSON of a FIDO login as PublicKeyCredential.toJSON() writes it, with the
// authenticator flags given and the clientDataJSON members of cd (type, challenge, origin).
func assertionJSON(flags byte, cd map[string]string) string {
	auth := make([]byte, 37)
	auth[32] = flags
	auth[36] = 7 // signature counter
	clientData, _ := json.Marshal(cd)
	cred, _ := json.Marshal(map[string]any{
		"id": "cred-1", "rawId": "cred-1", "type": "public-key",
		"response": map[string]string{
			"clientDataJSON":    b64(clientData),
			"authenticatorData": b64(auth),
			"signature":         b64([]byte("30440220signature")),
		},
	})
	return string(cred)
}

func loginAt(origin string) map[string]string {
	return map[string]string{"type": "webauthn.get", "challenge": b64([]byte("challenge-0123456789")), "origin": origin}
}

func TestParseWebAuthnAssertion(t *testing.T) {
	good := assertionJSON(0x05, loginAt("https://www.shop.example.com"))
	var nested struct{ Response map[string]string }
	_ = json.Unmarshal([]byte(good), &nested)
	nested.Response["id"] = "cred-1"
	flatJSON, _ := json.Marshal(nested.Response)
	flat := string(flatJSON)
	jws := b64([]byte(`{"alg":"ES256"}`)) + "." + b64([]byte(good)) + "." + b64([]byte("sig"))
	cases := []struct {
		name   string
		data   string
		ok     bool
		uv, up bool
	}{
		{"the JSON of PublicKeyCredential.toJSON() is read, user verified", good, true, true, true},
		{"the same base64url-encoded is read", b64([]byte(good)), true, true, true},
		{"the same with padding is read", base64.URLEncoding.EncodeToString([]byte(good)), true, true, true},
		{"the members flat at the top level are read", flat, true, true, true},
		{"a JWS whose payload is the assertion is read", jws, true, true, true},
		{"a login with the user present but not verified says so", assertionJSON(0x01, loginAt("https://shop.example.com")), true, false, true},
		{"an Android app's origin is accepted", assertionJSON(0x05, loginAt("android:apk-key-hash:abc")), true, true, true},
		{"a registration (webauthn.create) is refused", assertionJSON(0x05, map[string]string{"type": "webauthn.create", "challenge": "YWJj", "origin": "https://a.example"}), false, false, false},
		{"a login without a challenge is refused", assertionJSON(0x05, map[string]string{"type": "webauthn.get", "origin": "https://a.example"}), false, false, false},
		{"an origin with a path is refused", assertionJSON(0x05, loginAt("https://a.example/login")), false, false, false},
		{"a plain http origin is refused", assertionJSON(0x05, loginAt("http://a.example")), false, false, false},
		{"authenticator data of 36 bytes is refused", strings.Replace(good, b64(append(make([]byte, 32), 5, 0, 0, 0, 7)), b64(make([]byte, 36)), 1), false, false, false},
		{"a missing signature is refused", strings.Replace(good, `"signature":"`+b64([]byte("30440220signature"))+`"`, `"signature":""`, 1), false, false, false},
		{"a password is refused", "hunter2", false, false, false},
		{"a JSON array is refused", "[1,2]", false, false, false},
		{"an empty string is refused", "", false, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := emv.ParseWebAuthnAssertion(tc.data)
			if !tc.ok {
				if err == nil {
					t.Fatalf("accepted %q", tc.data)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.UserVerified() != tc.uv || a.UserPresent() != tc.up || a.SignCount != 7 || a.Type != "webauthn.get" {
				t.Fatalf("got %+v, want UV %v UP %v and counter 7", a, tc.uv, tc.up)
			}
		})
	}
}

// FuzzParseWebAuthnAssertion: whatever a requestor puts in threeDSReqAuthData, the parser answers
// without panicking, and what it accepts has its 37 bytes of authenticator data and an assertion type.
func FuzzParseWebAuthnAssertion(f *testing.F) {
	good := assertionJSON(0x05, loginAt("https://www.shop.example.com"))
	for _, s := range []string{good, b64([]byte(good)), "{}", `{"response":{}}`, "a.b.c", "hunter2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := emv.ParseWebAuthnAssertion(s)
		if err != nil {
			return
		}
		if a.Type != "webauthn.get" || a.Challenge == "" || a.Origin == "" {
			t.Fatalf("accepted %q as %+v", s, a)
		}
	})
}
