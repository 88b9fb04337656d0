package shop

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/open3ds/open3ds/internal/httpx"
)

// Passkey sign-in (issue 16's FIDO login). The shop, as the 3DS Requestor, lets a shopper sign in
// with a passkey (WebAuthn), checks the assertion itself against the public key it stored when the
// passkey was made, and then sends the login in the AReq (requestorAuthentication, method fido):
// the issuer's ACS reads a recent login with user verification as a reason not to challenge.
//
// The shop keeps passkeys and sign-ins in memory, as it keeps its orders: a demo shop's accounts
// go with it. Registration asks the browser for the key as SubjectPublicKeyInfo
// (AuthenticatorAttestationResponse.getPublicKey()) and ES256 only, so no CBOR is read; the
// attestation itself is not checked (the shop asks for none).

const (
	passkeyChallengeTTL = 5 * time.Minute
	// passkeyLoginTTL is how long a sign-in counts for a purchase; the ACS's fido_login rule gives
	// credit for 15 minutes by default.
	passkeyLoginTTL = 15 * time.Minute
	passkeyCookie   = "shop_login"
	maxPasskeys     = 10000
	coseES256       = -7
)

type passkey struct {
	pub       *ecdsa.PublicKey
	signCount uint32
}

type passkeyLogin struct {
	at        time.Time
	assertion json.RawMessage
}

// passkeys holds the shop's passkeys, its outstanding challenges (each used once) and sign-ins.
type passkeys struct {
	mu         sync.Mutex
	keys       map[string]*passkey // by credential id (base64url)
	challenges map[string]time.Time
	logins     map[string]passkeyLogin // by the digest of the cookie's token
	now        func() time.Time
}

func newPasskeys() *passkeys {
	return &passkeys{keys: map[string]*passkey{}, challenges: map[string]time.Time{}, logins: map[string]passkeyLogin{}, now: time.Now}
}

var b64 = base64.RawURLEncoding

func randomB64(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return b64.EncodeToString(b)
}

// challenge makes a fresh challenge, dropping expired ones.
func (p *passkeys) challenge() (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	for c, exp := range p.challenges {
		if now.After(exp) {
			delete(p.challenges, c)
		}
	}
	if len(p.challenges) >= maxPasskeys {
		return "", httpx.NewProblem(http.StatusServiceUnavailable, "too many sign-ins at once; try again in a minute")
	}
	c := randomB64(32)
	p.challenges[c] = now.Add(passkeyChallengeTTL)
	return c, nil
}

// useChallenge reports whether c was issued and unexpired, and spends it.
func (p *passkeys) useChallenge(c string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	exp, ok := p.challenges[c]
	delete(p.challenges, c)
	return ok && !p.now().After(exp)
}

// clientData is the part of clientDataJSON the shop checks.
type clientData struct {
	Type      string `json:"type"`
	Challenge string `json:"challenge"`
	Origin    string `json:"origin"`
}

// checkClientData decodes clientDataJSON and checks its type, its origin (this shop's) and that
// its challenge is one the shop issued and has not seen used.
func (p *passkeys) checkClientData(raw []byte, kind, origin string) bool {
	var cd clientData
	if json.Unmarshal(raw, &cd) != nil || cd.Type != kind || cd.Origin != origin {
		return false
	}
	return p.useChallenge(cd.Challenge)
}

func rpID(origin string) string {
	u, err := url.Parse(origin)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

type passkeyOptions struct {
	Challenge string `json:"challenge"`
	RPID      string `json:"rpId"`
	RPName    string `json:"rpName"`
	UserID    string `json:"userId"`
}

// passkeyOptionsAPI gives the page a challenge for navigator.credentials.create or get.
func (s *Shop) passkeyOptionsAPI(w http.ResponseWriter, r *http.Request) error {
	c, err := s.passkeys.challenge()
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, passkeyOptions{Challenge: c, RPID: rpID(s.origin(r)), RPName: s.cfg.Name, UserID: randomB64(16)})
}

type registration struct {
	ID                 string `json:"id"`
	ClientDataJSON     string `json:"clientDataJSON"`
	PublicKey          string `json:"publicKey"`
	PublicKeyAlgorithm int    `json:"publicKeyAlgorithm"`
}

// passkeyRegisterAPI stores a new passkey's public key.
func (s *Shop) passkeyRegisterAPI(w http.ResponseWriter, r *http.Request) error {
	var req registration
	if err := httpx.DecodeJSON(r, 16<<10, &req); err != nil {
		return err
	}
	cd, err1 := b64.DecodeString(req.ClientDataJSON)
	spki, err2 := b64.DecodeString(req.PublicKey)
	id, err3 := b64.DecodeString(req.ID)
	if err1 != nil || err2 != nil || err3 != nil || len(id) == 0 || len(id) > 1023 {
		return httpx.Invalid(httpx.FieldError{Field: "publicKey", Detail: "id, clientDataJSON and publicKey must be base64url"})
	}
	if req.PublicKeyAlgorithm != coseES256 {
		return httpx.Invalid(httpx.FieldError{Field: "publicKeyAlgorithm", Detail: "the shop takes ES256 passkeys only (-7)"})
	}
	key, err := x509.ParsePKIXPublicKey(spki)
	pub, ok := key.(*ecdsa.PublicKey)
	if err != nil || !ok {
		return httpx.Invalid(httpx.FieldError{Field: "publicKey", Detail: "must be an EC public key (SubjectPublicKeyInfo)"})
	}
	if !s.passkeys.checkClientData(cd, "webauthn.create", s.origin(r)) {
		return httpx.Invalid(httpx.FieldError{Field: "clientDataJSON", Detail: "is not a registration for this shop with a challenge it gave"})
	}
	p := s.passkeys
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.keys) >= maxPasskeys {
		return httpx.NewProblem(http.StatusServiceUnavailable, "the demo shop holds as many passkeys as it can")
	}
	p.keys[b64.EncodeToString(id)] = &passkey{pub: pub}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// assertion is PublicKeyCredential.toJSON() of a navigator.credentials.get().
type assertion struct {
	ID       string `json:"id"`
	RawID    string `json:"rawId"`
	Type     string `json:"type"`
	Response struct {
		ClientDataJSON    string `json:"clientDataJSON"`
		AuthenticatorData string `json:"authenticatorData"`
		Signature         string `json:"signature"`
		UserHandle        string `json:"userHandle,omitempty"`
	} `json:"response"`
}

// passkeyLoginAPI checks an assertion as a relying party does (WebAuthn §7.2): a passkey the shop
// knows, clientDataJSON of type webauthn.get with a challenge the shop gave and its origin, the
// RP ID hash of its host, the user present and verified, the ES256 signature over authenticatorData
// || SHA-256(clientDataJSON) by the stored key, and a signature counter that went up (or is not
// kept). Then the shopper is signed in: a cookie names the sign-in, whose time and assertion go
// with the next purchase.
func (s *Shop) passkeyLoginAPI(w http.ResponseWriter, r *http.Request) error {
	var body json.RawMessage
	if err := httpx.DecodeJSON(r, 16<<10, &body); err != nil {
		return err
	}
	var a assertion
	if json.Unmarshal(body, &a) != nil || a.Type != "public-key" {
		return httpx.Invalid(httpx.FieldError{Field: "type", Detail: "must be a public-key credential"})
	}
	refuse := httpx.NewProblem(http.StatusUnauthorized, "this passkey sign-in could not be verified")
	cd, err1 := b64.DecodeString(a.Response.ClientDataJSON)
	ad, err2 := b64.DecodeString(a.Response.AuthenticatorData)
	sig, err3 := b64.DecodeString(a.Response.Signature)
	if err1 != nil || err2 != nil || err3 != nil || len(ad) < 37 {
		return refuse
	}
	p := s.passkeys
	p.mu.Lock()
	key := p.keys[a.ID]
	p.mu.Unlock()
	if key == nil {
		return httpx.NewProblem(http.StatusNotFound, "the shop does not know this passkey; create one")
	}
	origin := s.origin(r)
	rp := sha256.Sum256([]byte(rpID(origin)))
	flags := ad[32]
	cdHash := sha256.Sum256(cd)
	signed := sha256.Sum256(append(append([]byte{}, ad...), cdHash[:]...))
	if subtle.ConstantTimeCompare(ad[:32], rp[:]) != 1 || flags&0x01 == 0 || flags&0x04 == 0 ||
		!ecdsa.VerifyASN1(key.pub, signed[:], sig) || !p.checkClientData(cd, "webauthn.get", origin) {
		return refuse
	}
	count := binary.BigEndian.Uint32(ad[33:37])
	p.mu.Lock()
	if count != 0 || key.signCount != 0 {
		if count <= key.signCount {
			p.mu.Unlock()
			return refuse // a cloned authenticator, or a replay
		}
		key.signCount = count
	}
	token := randomB64(32)
	digest := sha256.Sum256([]byte(token))
	now := p.now()
	for k, l := range p.logins {
		if now.Sub(l.at) > passkeyLoginTTL {
			delete(p.logins, k)
		}
	}
	var compact bytes.Buffer
	json.Compact(&compact, body)
	p.logins[string(digest[:])] = passkeyLogin{at: now, assertion: compact.Bytes()}
	p.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: passkeyCookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: r.TLS != nil, MaxAge: int(passkeyLoginTTL / time.Second)})
	return httpx.WriteJSON(w, http.StatusOK, map[string]bool{"signedIn": true})
}

// login is the shopper's recent sign-in, if the request carries one.
func (s *Shop) login(r *http.Request) (passkeyLogin, bool) {
	c, err := r.Cookie(passkeyCookie)
	if err != nil {
		return passkeyLogin{}, false
	}
	digest := sha256.Sum256([]byte(c.Value))
	p := s.passkeys
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.logins[string(digest[:])]
	return l, ok && p.now().Sub(l.at) <= passkeyLoginTTL
}
