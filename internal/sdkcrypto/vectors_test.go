package sdkcrypto_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"os"
	"testing"

	"github.com/open3ds/open3ds/internal/sdkcrypto"
)

// privateJWK is a P-256 private key as the vectors hold it.
type privateJWK struct {
	X, Y, D string
}

func (k privateJWK) ecdsa(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	dec := func(s string) *big.Int {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return new(big.Int).SetBytes(b)
	}
	return &ecdsa.PrivateKey{PublicKey: ecdsa.PublicKey{Curve: elliptic.P256(), X: dec(k.X), Y: dec(k.Y)}, D: dec(k.D)}
}

// TestTheCommittedVectorsOpen reads sdkEncData and CReqs that the independent npm jose peer made
// once (testdata/jose-vectors.json) and opens them with our code alone, so that a change which
// breaks the interoperability fails even where Node is missing.
func TestTheCommittedVectorsOpen(t *testing.T) {
	raw, err := os.ReadFile("testdata/jose-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		DSID, SDKReferenceNumber, DeviceInfo, CReq string
		DSKey, SDKKey, ACSKey                      privateJWK
		SDKEncData, CReqJWE                        map[string]string
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	ds := sdkcrypto.DSKeys{DSID: v.DSID, Keys: []sdkcrypto.DSKey{{ID: "vector-ec", Key: v.DSKey.ecdsa(t)}}}
	if len(v.SDKEncData) != 2 || len(v.CReqJWE) != 2 {
		t.Fatalf("the vectors file holds %d sdkEncData and %d CReqs, want 2 and 2", len(v.SDKEncData), len(v.CReqJWE))
	}
	for name, jwe := range v.SDKEncData {
		if got, err := ds.DecryptSDKEncData(jwe); err != nil || string(got) != v.DeviceInfo {
			t.Errorf("sdkEncData %s: %q, %v", name, got, err)
		}
	}
	acsPriv, err := v.ACSKey.ecdsa(t).ECDH()
	if err != nil {
		t.Fatal(err)
	}
	sdkPub, err := v.SDKKey.ecdsa(t).PublicKey.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	sess, err := sdkcrypto.DeriveSession(acsPriv, sdkPub, v.SDKReferenceNumber)
	if err != nil {
		t.Fatal(err)
	}
	for enc, jwe := range v.CReqJWE {
		got, h, err := sess.Open(sdkcrypto.SDKToACS, jwe)
		if err != nil || string(got) != v.CReq || h.Enc != enc {
			t.Errorf("CReq %s: %q %+v, %v", enc, got, h, err)
		}
	}
}
