package sdkcrypto_test

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/sdkcrypto"
	"github.com/open3ds/open3ds/internal/sdkcrypto/josepeer"
)

// scheme is one scheme PKI made by pki.Init, shared by the tests of this package.
type scheme struct {
	layout  pki.Layout
	roots   *x509.CertPool
	caPEM   string
	dsKeys  sdkcrypto.DSKeys
	rsaCert string // PEM of the DS's RSA encryption certificate
	ecCert  string
	signer  crypto.Signer // the ACS content-signing key
	chain   []*x509.Certificate
}

const dsID = "A000000003"

var (
	schemeOnce sync.Once
	theScheme  *scheme
	schemeErr  error
)

func testScheme(tb testing.TB) *scheme {
	tb.Helper()
	schemeOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sdkcrypto-pki")
		if err != nil {
			schemeErr = err
			return
		}
		if _, err := pki.Init(dir, pki.InitOptions{}); err != nil {
			schemeErr = err
			return
		}
		l := pki.Paths(dir)
		s := &scheme{layout: l, dsKeys: sdkcrypto.DSKeys{DSID: dsID}}
		if s.roots, schemeErr = pki.LoadPool(l.CA.Cert); schemeErr != nil {
			return
		}
		ca, _ := os.ReadFile(l.CA.Cert)
		s.caPEM = string(ca)
		for i, fp := range []pki.FilePair{l.DSEncryptionRSA, l.DSEncryptionEC} {
			kp, err := pki.LoadKeyPair(fp.Cert, fp.Key)
			if err != nil {
				schemeErr = err
				return
			}
			s.dsKeys.Keys = append(s.dsKeys.Keys, sdkcrypto.DSKey{ID: []string{"ds-rsa-1", "ds-ec-1"}[i], Key: kp.PrivateKey.(crypto.Signer)})
			pem, _ := os.ReadFile(fp.Cert)
			if i == 0 {
				s.rsaCert = string(pem)
			} else {
				s.ecCert = string(pem)
			}
		}
		kp, err := pki.LoadKeyPair(l.ACSSigning.Cert, l.ACSSigning.Key)
		if err != nil {
			schemeErr = err
			return
		}
		s.signer = kp.PrivateKey.(crypto.Signer)
		leaf, err := x509.ParseCertificate(kp.Certificate[0])
		if err != nil {
			schemeErr = err
			return
		}
		s.chain = []*x509.Certificate{leaf}
		theScheme = s
	})
	if schemeErr != nil {
		tb.Fatal(schemeErr)
	}
	return theScheme
}

const deviceInfo = `{"DV":"1.0","DD":{"C001":"Android","C002":"Pixel 8","C004":"14"},"DPNA":{},"SW":["SW01"]}`

// TestTheDSDecryptsSDKEncDataFromAnIndependentSDK: sdkEncData made by the npm jose package to each
// kind of DS key, with each content encryption and (for EC) both headers SDKs use, opens with the
// DS's keys, with and without a kid.
func TestTheDSDecryptsSDKEncDataFromAnIndependentSDK(t *testing.T) {
	s := testScheme(t)
	type tc struct{ name, cert, enc, ecAlg, kid string }
	var cases []tc
	for _, enc := range []string{sdkcrypto.EncA128CBCHS256, sdkcrypto.EncA128GCM} {
		cases = append(cases, tc{"RSA " + enc, s.rsaCert, enc, "", "ds-rsa-1"}, tc{"RSA " + enc + " without kid", s.rsaCert, enc, "", ""})
		for _, alg := range []string{"dir", "ECDH-ES"} {
			cases = append(cases, tc{"EC " + alg + " " + enc, s.ecCert, enc, alg, "ds-ec-1"}, tc{"EC " + alg + " " + enc + " without kid", s.ecCert, enc, alg, ""})
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out struct{ JWE string }
			josepeer.Run(t, "sdkenc", map[string]string{"dsCert": c.cert, "dsID": dsID, "enc": c.enc, "kid": c.kid,
				"plaintext": deviceInfo, "ecAlg": c.ecAlg}, &out)
			got, err := s.dsKeys.DecryptSDKEncData(out.JWE)
			if err != nil || string(got) != deviceInfo {
				t.Fatalf("decrypted %q, %v", got, err)
			}
			// The same data under another DS id (the KDF's PartyVInfo) or another key id does not open.
			other := s.dsKeys
			other.DSID = "A000000004"
			if _, err := other.DecryptSDKEncData(out.JWE); c.ecAlg != "" && !errors.Is(err, sdkcrypto.ErrDecrypt) {
				t.Errorf("EC sdkEncData opened under another DS id: %v", err)
			}
		})
	}
}

// TestSDKEncDataThatIsNotOursIsADecryptionFailure: whatever an attacker or a broken SDK sends, the
// answer is ErrDecrypt, never a panic, and nothing opens.
func TestSDKEncDataThatIsNotOursIsADecryptionFailure(t *testing.T) {
	s := testScheme(t)
	good, err := sdkcrypto.EncryptSDKEncData([]byte(deviceInfo), mustPub(t, s.ecCert), "", dsID, sdkcrypto.EncA128CBCHS256, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.dsKeys.DecryptSDKEncData(good); err != nil || string(got) != deviceInfo {
		t.Fatalf("our own sdkEncData: %q, %v", got, err)
	}
	random := make([]byte, 300)
	rand.Read(random)
	parts := strings.Split(good, ".")
	flip := func(i int) string {
		p := append([]string(nil), parts...)
		b := []byte(p[i])
		if b[2] == 'A' {
			b[2] = 'B'
		} else {
			b[2] = 'A'
		}
		p[i] = string(b)
		return strings.Join(p, ".")
	}
	for name, v := range map[string]string{
		"random text":           "bm90IGEgSldF" + string(random[:10]),
		"random base64url":      strings.Repeat("QUJD", 40),
		"four parts":            strings.Join(parts[:4], "."),
		"tampered header":       flip(0),
		"tampered iv":           flip(2),
		"tampered ciphertext":   flip(3),
		"tampered tag":          flip(4),
		"padded base64":         parts[0] + "=." + strings.Join(parts[1:], "."),
		"unknown kid":           reheader(t, good, `"kid":"nope"`),
		"alg none":              reheader(t, good, `"alg":"none"`),
		"RSA alg with EC data":  reheader(t, good, `"alg":"RSA-OAEP-256"`),
		"unsupported enc":       reheader(t, good, `"enc":"A256GCM"`),
		"epk not on the curve":  reheader(t, good, `"epk":{"kty":"EC","crv":"P-256","x":"AQ","y":"AQ"}`),
		"empty":                 "",
		"five empty parts":      "....",
		"header is not JSON":    "bm90IGpzb24..AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA",
		"over the length limit": strings.Repeat("A", sdkcrypto.MaxCompact+1),
	} {
		t.Run(name, func(t *testing.T) {
			if got, err := s.dsKeys.DecryptSDKEncData(v); !errors.Is(err, sdkcrypto.ErrDecrypt) {
				t.Errorf("opened as %q, %v; want ErrDecrypt", got, err)
			}
		})
	}
}

// reheader replaces (or adds) one member of a compact JWE's header, leaving the rest as it was.
func reheader(t *testing.T, compact, member string) string {
	t.Helper()
	parts := strings.Split(compact, ".")
	hj, err := b64Decode(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]json.RawMessage
	json.Unmarshal(hj, &h)
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte("{"+member+"}"), &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range m {
		h[k] = v
	}
	nj, _ := json.Marshal(h)
	parts[0] = b64Encode(nj)
	return strings.Join(parts, ".")
}

func mustPub(t *testing.T, certPEM string) crypto.PublicKey {
	t.Helper()
	c, err := parsePEM(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	return c.PublicKey
}

// TestACSSignedContentInteroperates: the ACS's JWS verifies with jose against the scheme CA, a
// JWS jose signs verifies with VerifyJWS, and a tampered or foreign one does not.
func TestACSSignedContentInteroperates(t *testing.T) {
	s := testScheme(t)
	eph, _ := ecdh.P256().GenerateKey(rand.Reader)
	payload, _ := json.Marshal(map[string]any{"acsURL": "https://acs.example/app", "acsEphemPubKey": sdkcrypto.PublicJWK(eph.PublicKey()),
		"sdkEphemPubKey": sdkcrypto.PublicJWK(eph.PublicKey())})
	jws, err := sdkcrypto.SignJWS(payload, s.signer, s.chain)
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Payload string }
	josepeer.Run(t, "verify-jws", map[string]string{"jws": jws, "ca": s.caPEM}, &v)
	if v.Payload != string(payload) {
		t.Errorf("jose read the payload as %q", v.Payload)
	}
	if got, leaf, err := sdkcrypto.VerifyJWS(jws, s.roots, time.Now()); err != nil || string(got) != string(payload) || leaf == nil {
		t.Errorf("our own JWS: %q, %v", got, err)
	}

	key, _ := os.ReadFile(s.layout.ACSSigning.Key)
	cert, _ := os.ReadFile(s.layout.ACSSigning.Cert)
	var signed struct{ JWS string }
	josepeer.Run(t, "sign-jws", map[string]any{"payload": string(payload), "key": string(key), "chain": []string{string(cert)}}, &signed)
	if got, _, err := sdkcrypto.VerifyJWS(signed.JWS, s.roots, time.Now()); err != nil || string(got) != string(payload) {
		t.Errorf("jose's JWS: %q, %v", got, err)
	}

	parts := strings.Split(jws, ".")
	other, _ := json.Marshal(map[string]string{"acsURL": "https://evil.example/app"})
	tampered := parts[0] + "." + b64Encode(other) + "." + parts[2]
	if _, _, err := sdkcrypto.VerifyJWS(tampered, s.roots, time.Now()); !errors.Is(err, sdkcrypto.ErrDecrypt) {
		t.Errorf("a JWS with another payload verified: %v", err)
	}
	if failed, _ := josepeer.Fails(t, "verify-jws", map[string]string{"jws": tampered, "ca": s.caPEM}); !failed {
		t.Errorf("jose verified a JWS with another payload: the test's peer checks nothing")
	}
	foreign := x509.NewCertPool() // a CA the SDK does not trust
	if _, _, err := sdkcrypto.VerifyJWS(jws, foreign, time.Now()); !errors.Is(err, sdkcrypto.ErrDecrypt) {
		t.Errorf("a JWS verified without its CA: %v", err)
	}
	if _, _, err := sdkcrypto.VerifyJWS(jws, s.roots, time.Now().AddDate(50, 0, 0)); !errors.Is(err, sdkcrypto.ErrDecrypt) {
		t.Errorf("a JWS verified after its certificate expired: %v", err)
	}
	none := b64Encode([]byte(`{"alg":"none","x5c":[]}`)) + "." + parts[1] + "."
	if _, _, err := sdkcrypto.VerifyJWS(none, s.roots, time.Now()); !errors.Is(err, sdkcrypto.ErrDecrypt) {
		t.Errorf("alg none verified: %v", err)
	}
}

// TestTheChallengeSessionInteroperates: a CReq jose seals from the SDK's side opens on ours, and a
// CRes we seal opens on jose's, with each content encryption; the two directions' keys differ
// under A128GCM, so a message does not open in the other direction.
func TestTheChallengeSessionInteroperates(t *testing.T) {
	const sdkRef = "3DS_LOA_SDK_OPEN_020100_00001"
	var sdk struct{ Priv map[string]string }
	josepeer.Run(t, "keygen", nil, &sdk)
	sdkPubJSON, _ := json.Marshal(map[string]string{"kty": "EC", "crv": "P-256", "x": sdk.Priv["x"], "y": sdk.Priv["y"]})
	sdkPub, err := sdkcrypto.ParseJWK(sdkPubJSON)
	if err != nil {
		t.Fatal(err)
	}
	acsPriv, _ := ecdh.P256().GenerateKey(rand.Reader)
	acsPub := sdkcrypto.PublicJWK(acsPriv.PublicKey())
	sess, err := sdkcrypto.DeriveSession(acsPriv, sdkPub, sdkRef)
	if err != nil {
		t.Fatal(err)
	}
	for _, enc := range []string{sdkcrypto.EncA128CBCHS256, sdkcrypto.EncA128GCM} {
		t.Run(enc, func(t *testing.T) {
			creq := `{"messageType":"CReq","sdkCounterStoA":"000"}`
			var sealed struct{ JWE string }
			josepeer.Run(t, "seal", map[string]any{"priv": sdk.Priv, "peer": acsPub, "sdkRef": sdkRef, "dir": "StoA", "enc": enc,
				"kid": "acs-trans-1", "plaintext": creq}, &sealed)
			got, h, err := sess.Open(sdkcrypto.SDKToACS, sealed.JWE)
			if err != nil || string(got) != creq || h.Enc != enc || h.Kid != "acs-trans-1" {
				t.Fatalf("the CReq opened as %q %+v, %v", got, h, err)
			}
			if enc == sdkcrypto.EncA128GCM {
				if _, _, err := sess.Open(sdkcrypto.ACSToSDK, sealed.JWE); !errors.Is(err, sdkcrypto.ErrDecrypt) {
					t.Errorf("a CReq opened with the ACS-to-SDK key: %v", err)
				}
			}
			cres := `{"messageType":"CRes","acsCounterAtoS":"000"}`
			jwe, err := sess.Seal(sdkcrypto.ACSToSDK, enc, "acs-trans-1", 0, []byte(cres))
			if err != nil {
				t.Fatal(err)
			}
			var opened struct {
				Plaintext string
				Header    map[string]string
			}
			josepeer.Run(t, "open", map[string]any{"priv": sdk.Priv, "peer": acsPub, "sdkRef": sdkRef, "dir": "AtoS", "jwe": jwe}, &opened)
			if opened.Plaintext != cres || opened.Header["alg"] != "dir" || opened.Header["kid"] != "acs-trans-1" {
				t.Errorf("jose opened the CRes as %q %v", opened.Plaintext, opened.Header)
			}
			// Another SDK reference number (PartyVInfo) gives another key.
			wrong, _ := sdkcrypto.DeriveSession(acsPriv, sdkPub, "3DS_LOA_SDK_OTHER")
			if _, _, err := wrong.Open(sdkcrypto.SDKToACS, sealed.JWE); !errors.Is(err, sdkcrypto.ErrDecrypt) {
				t.Errorf("the CReq opened under another sdkReferenceNumber: %v", err)
			}
		})
	}
}

// TestES256SignedContentInteroperates: an ACS whose content-signing key is P-256 signs ES256, which
// jose verifies against its CA, and a JWS jose signs with such a key verifies with VerifyJWS.
func TestES256SignedContentInteroperates(t *testing.T) {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ES256 test CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "acs signing"},
		KeyUsage: x509.KeyUsageDigitalSignature, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(leafDER)
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	caPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))
	payload := []byte(`{"acsURL":"https://acs.example/app"}`)

	jws, err := sdkcrypto.SignJWS(payload, leafKey, []*x509.Certificate{leaf})
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := b64Decode(strings.Split(jws, ".")[0]); !strings.Contains(string(h), `"alg":"ES256"`) {
		t.Fatalf("a P-256 key signed %s", h)
	}
	var v struct{ Payload string }
	josepeer.Run(t, "verify-jws", map[string]string{"jws": jws, "ca": caPEM}, &v)
	if v.Payload != string(payload) {
		t.Errorf("jose read %q", v.Payload)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(leafKey)
	var signed struct{ JWS string }
	josepeer.Run(t, "sign-jws", map[string]any{"payload": string(payload),
		"key":   string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})),
		"chain": []string{string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}))}}, &signed)
	if got, _, err := sdkcrypto.VerifyJWS(signed.JWS, roots, now); err != nil || string(got) != string(payload) {
		t.Errorf("jose's ES256 JWS: %q, %v", got, err)
	}
}
