package sdkcrypto_test

import (
	"crypto/ecdh"
	"crypto/rand"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/sdkcrypto"
)

// BenchmarkDecryptSDKEncData is the DS's cost per app AReq for each kind of DS key.
func BenchmarkDecryptSDKEncData(b *testing.B) {
	s := testScheme(b)
	for _, kind := range []struct{ name, cert string }{{"RSA", s.rsaCert}, {"EC", s.ecCert}} {
		jwe, err := sdkcrypto.EncryptSDKEncData([]byte(deviceInfo), mustPubB(b, kind.cert), "", dsID, sdkcrypto.EncA128CBCHS256, "")
		if err != nil {
			b.Fatal(err)
		}
		b.Run(kind.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.dsKeys.DecryptSDKEncData(jwe); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkACSSignedContent is the ACS's cost per app challenge it opens: an ephemeral key, the
// session key and the JWS.
func BenchmarkACSSignedContent(b *testing.B) {
	s := testScheme(b)
	sdk, _ := ecdh.P256().GenerateKey(rand.Reader)
	payload := []byte(`{"acsURL":"https://acs.example/app"}`)
	for b.Loop() {
		eph, _ := ecdh.P256().GenerateKey(rand.Reader)
		if _, err := sdkcrypto.DeriveSession(eph, sdk.PublicKey(), "3DS_LOA_SDK_OPEN"); err != nil {
			b.Fatal(err)
		}
		if _, err := sdkcrypto.SignJWS(payload, s.signer, s.chain); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyJWS is the SDK's check of acsSignedContent.
func BenchmarkVerifyJWS(b *testing.B) {
	s := testScheme(b)
	jws, _ := sdkcrypto.SignJWS([]byte(`{"acsURL":"https://acs.example/app"}`), s.signer, s.chain)
	now := time.Now()
	for b.Loop() {
		if _, _, err := sdkcrypto.VerifyJWS(jws, s.roots, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChallengeMessage is one CReq opened and one CRes sealed, per content encryption.
func BenchmarkChallengeMessage(b *testing.B) {
	a, _ := ecdh.P256().GenerateKey(rand.Reader)
	c, _ := ecdh.P256().GenerateKey(rand.Reader)
	acs, _ := sdkcrypto.DeriveSession(a, c.PublicKey(), "ref")
	sdk, _ := sdkcrypto.DeriveSession(c, a.PublicKey(), "ref")
	msg := []byte(`{"messageType":"CReq","messageVersion":"2.2.0","sdkCounterStoA":"001","challengeDataEntry":"123456"}`)
	for _, enc := range []string{sdkcrypto.EncA128CBCHS256, sdkcrypto.EncA128GCM} {
		creq, _ := sdk.Seal(sdkcrypto.SDKToACS, enc, "kid", 1, msg)
		b.Run(enc, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := acs.Open(sdkcrypto.SDKToACS, creq); err != nil {
					b.Fatal(err)
				}
				if _, err := acs.Seal(sdkcrypto.ACSToSDK, enc, "kid", 1, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func mustPubB(b *testing.B, certPEM string) any {
	b.Helper()
	c, err := parsePEM(certPEM)
	if err != nil {
		b.Fatal(err)
	}
	return c.PublicKey
}
