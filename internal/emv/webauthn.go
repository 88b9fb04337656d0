package emv

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"sync/atomic"
)

// FIDO logins. When the requestor says its cardholder logged in with a FIDO authenticator
// (threeDSReqAuthMethod 06, or 07 from 2.2.0: FIDO with the assurance data signed), our sources
// say threeDSReqAuthData carries the FIDO data but not how it is written [U]. Our choice, which is
// what a browser hands a merchant's page after navigator.credentials.get():
//
//   - the value is a JSON object, either written as it is or base64url-encoded (padded or not);
//   - the object is PublicKeyCredential.toJSON()'s shape, {"id", "rawId", "type": "public-key",
//     "response": {"clientDataJSON", "authenticatorData", "signature", "userHandle"}}, or the same
//     members flat at the top level (id, clientDataJSON, authenticatorData, signature, userHandle);
//   - the byte members are base64url (padded or not; standard base64 is tolerated);
//   - a JWS compact serialisation whose payload is that object is accepted too, as 07 (FIDO with
//     the assurance data signed) may send it; we read it for 06 as well rather than refuse a
//     signed form of the same data. The signature over it is not checked: we hold no requestor keys.
//
// What is checked is what lets an issuer rely on it: clientDataJSON decodes to a JSON object whose
// type is "webauthn.get" (an assertion, not a registration), with a non-empty challenge and an
// origin (an https origin, or an app's "android:apk-key-hash:" origin); authenticatorData holds at
// least the 37 bytes of the RP ID hash, the flags and the signature counter; signature is present.
// The assertion's signature cannot be verified by the ACS, which does not hold the public key of
// the requestor's credential.
//
// A scheme whose requestors put something else in threeDSReqAuthData (an attestation, a vendor
// token) can turn on SetOpaqueFIDOAuthData at program start (`serve ds|acs --fido-auth-data
// opaque`): the data is then any string, as for the other methods, and the risk engine gives such a
// login no credit.
var opaqueFIDO atomic.Bool

// SetOpaqueFIDOAuthData makes the FIDO methods' threeDSReqAuthData free-form (on) or a WebAuthn
// assertion (off, the default), for every message this process checks.
func SetOpaqueFIDOAuthData(on bool) { opaqueFIDO.Store(on) }

// OpaqueFIDOAuthData reports what SetOpaqueFIDOAuthData last set.
func OpaqueFIDOAuthData() bool { return opaqueFIDO.Load() }

// WebAuthnAssertion is the part of a FIDO login an issuer's risk engine reads.
type WebAuthnAssertion struct {
	CredentialID string // as sent, base64url
	Type         string // clientDataJSON's type: always "webauthn.get" once parsed
	Challenge    string // clientDataJSON's challenge, base64url
	Origin       string // clientDataJSON's origin: where the login took place
	RPIDHash     [32]byte
	Flags        byte
	SignCount    uint32
}

// The authenticatorData flag bits (WebAuthn §6.1).
const (
	webauthnUP = 0x01 // user present
	webauthnUV = 0x04 // user verified (PIN, biometric)
)

// UserPresent reports the authenticator's UP flag: someone touched it.
func (a *WebAuthnAssertion) UserPresent() bool { return a.Flags&webauthnUP != 0 }

// UserVerified reports the UV flag: the authenticator verified who touched it (biometric or PIN).
func (a *WebAuthnAssertion) UserVerified() bool { return a.Flags&webauthnUV != 0 }

// IsFIDOMethod reports whether threeDSReqAuthMethod m is a FIDO login (06, or 07 with the FIDO
// assurance data signed). Our sources do not say what 2.3.1's 09 is [U]; we do not read it as FIDO.
func IsFIDOMethod(m string) bool { return m == "06" || m == "07" }

// errWebAuthn is the one error ParseWebAuthnAssertion returns; the caller names the element.
var errWebAuthn = errors.New("threeDSReqAuthData is not WebAuthn assertion data")

// maxWebAuthnData bounds the input as the dictionary bounds threeDSReqAuthData.
const maxWebAuthnData = 20000

// ParseWebAuthnAssertion reads threeDSReqAuthData as a FIDO login, in the encodings described at
// SetOpaqueFIDOAuthData. It returns an error, never panics, for anything else.
func ParseWebAuthnAssertion(data string) (*WebAuthnAssertion, error) {
	data = strings.TrimSpace(data)
	if data == "" || len(data) > maxWebAuthnData {
		return nil, errWebAuthn
	}
	raw := []byte(data)
	if data[0] != '{' {
		if parts := strings.Split(data, "."); len(parts) == 3 {
			data = parts[1] // a JWS: its payload is the assertion
		}
		b, ok := decodeB64(data)
		if !ok {
			return nil, errWebAuthn
		}
		raw = b
	}
	var cred struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		Response *struct {
			ClientDataJSON    string `json:"clientDataJSON"`
			AuthenticatorData string `json:"authenticatorData"`
			Signature         string `json:"signature"`
		} `json:"response"`
		ClientDataJSON    string `json:"clientDataJSON"`
		AuthenticatorData string `json:"authenticatorData"`
		Signature         string `json:"signature"`
	}
	if err := json.Unmarshal(raw, &cred); err != nil {
		return nil, errWebAuthn
	}
	if cred.Response != nil {
		if cred.Type != "" && cred.Type != "public-key" {
			return nil, errWebAuthn
		}
		cred.ClientDataJSON = cred.Response.ClientDataJSON
		cred.AuthenticatorData = cred.Response.AuthenticatorData
		cred.Signature = cred.Response.Signature
	}
	a := &WebAuthnAssertion{CredentialID: cred.ID}
	if !a.readClientData(cred.ClientDataJSON) || !a.readAuthenticatorData(cred.AuthenticatorData) {
		return nil, errWebAuthn
	}
	if sig, ok := decodeB64(cred.Signature); !ok || len(sig) == 0 {
		return nil, errWebAuthn
	}
	return a, nil
}

func (a *WebAuthnAssertion) readClientData(s string) bool {
	b, ok := decodeB64(s)
	if !ok {
		return false
	}
	var cd struct {
		Type      string `json:"type"`
		Challenge string `json:"challenge"`
		Origin    string `json:"origin"`
	}
	if json.Unmarshal(b, &cd) != nil || cd.Type != "webauthn.get" || !validOrigin(cd.Origin) {
		return false
	}
	if ch, ok := decodeB64(cd.Challenge); !ok || len(ch) == 0 {
		return false
	}
	a.Type, a.Challenge, a.Origin = cd.Type, cd.Challenge, cd.Origin
	return true
}

func (a *WebAuthnAssertion) readAuthenticatorData(s string) bool {
	b, ok := decodeB64(s)
	if !ok || len(b) < 37 {
		return false
	}
	copy(a.RPIDHash[:], b[:32])
	a.Flags = b[32]
	a.SignCount = binary.BigEndian.Uint32(b[33:37])
	return true
}

// validOrigin accepts a web origin (https, host, optional port, no path beyond "/", no query) or an
// Android app's origin, which is how a FIDO login inside an app reports where it happened.
func validOrigin(o string) bool {
	if rest, ok := strings.CutPrefix(o, "android:apk-key-hash:"); ok {
		return rest != ""
	}
	return IsOrigin(o)
}

// IsOrigin reports whether s is an https web origin: scheme, host and optional port, nothing more
// (a trailing "/" is tolerated). http to a loopback host passes where AllowLoopbackHTTP is on, as
// browsers treat it as a secure context.
func IsOrigin(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Hostname() == "" || u.User != nil || (u.Path != "" && u.Path != "/") ||
		u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || u.Opaque != "" {
		return false
	}
	return u.Scheme == "https" || (u.Scheme == "http" && loopbackHTTP.Load() && isLoopbackHost(u.Hostname()))
}

// decodeB64 decodes a byte member: base64url as WebAuthn writes it, or another base64 a peer chose.
func decodeB64(s string) ([]byte, bool) {
	b, err := DecodeBase64Lenient(s)
	return b, err == nil
}
