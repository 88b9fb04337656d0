package ds_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/sdkcrypto"
	"github.com/open3ds/open3ds/internal/sdkcrypto/josepeer"
)

// deviceJSON is device information as an SDK writes it: data version, device data, parameters not
// available, warnings.
const deviceJSON = `{"DV":"1.7","DD":{"C001":"Android","C002":"Pixel 8","C004":"14","C017":"Europe/Paris"},` +
	`"DPNA":{"C010":"RE03"},"SW":["SW02"]}`

// schemeDSID is the DS id migration 0003 gives the scheme: the PartyVInfo of EC sdkEncData.
const schemeDSID = "F000000001"

// goldenSDKRefs are the sdkReferenceNumbers of the golden app AReqs of package emv.
var goldenSDKRefs = []string{"3DS_LOA_SDK_OPNS_020100_00003", "3DS_LOA_SDK_OPNS_020200_00003", "3DS_LOA_SDK_OPNS_020301_00003"}

// encKey is one DS encryption key as both sides see it: the certificate an SDK bundles, and the
// key the DS holds under an id.
type encKey struct {
	id      string
	certPEM string
	key     crypto.Signer
}

func (k encKey) dsKey() sdkcrypto.DSKey { return sdkcrypto.DSKey{ID: k.id, Key: k.key} }

// pkiEncKeys are the DS encryption keys pki.Init made for the test scheme, as "ds-rsa-1" and "ds-ec-1".
func pkiEncKeys(tb testing.TB) (rsaKey, ecKey encKey) {
	tb.Helper()
	testCA(tb)
	l := pki.Paths(pkiDir)
	load := func(fp pki.FilePair, id string) encKey {
		kp, err := pki.LoadKeyPair(fp.Cert, fp.Key)
		must(tb, err)
		certPEM, err := os.ReadFile(fp.Cert)
		must(tb, err)
		return encKey{id: id, certPEM: string(certPEM), key: kp.PrivateKey.(crypto.Signer)}
	}
	return load(l.DSEncryptionRSA, "ds-rsa-1"), load(l.DSEncryptionEC, "ds-ec-1")
}

// testSDKKeys are the keys a test network's DS holds unless the test says otherwise.
func testSDKKeys(tb testing.TB) []sdkcrypto.DSKey {
	r, e := pkiEncKeys(tb)
	return []sdkcrypto.DSKey{r.dsKey(), e.dsKey()}
}

// freshEncKey makes another DS encryption key, for rotation. Its certificate is self-signed: the
// jose peer reads only the public key from it, as an SDK's bundled certificate serves it.
func freshEncKey(tb testing.TB, ec bool, id string) encKey {
	tb.Helper()
	var key crypto.Signer
	var err error
	if ec {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	} else {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	must(tb, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: id},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageKeyEncipherment}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	must(tb, err)
	return encKey{id: id, certPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), key: key}
}

// peerSDKEncData has the npm jose peer encrypt plaintext to k under the test scheme's DS id, as an
// independent SDK would. ecAlg is the EC header's alg ("dir" or "ECDH-ES"); kid may be empty.
func peerSDKEncData(tb testing.TB, k encKey, enc, ecAlg, kid, plaintext string) string {
	tb.Helper()
	var out struct{ JWE string }
	josepeer.Run(tb, "sdkenc", map[string]string{"dsCert": k.certPEM, "dsID": schemeDSID, "enc": enc, "kid": kid,
		"plaintext": plaintext, "ecAlg": ecAlg}, &out)
	if out.JWE == "" {
		tb.Fatal("the jose peer made no JWE")
	}
	return out.JWE
}

// appAReq is the golden app AReq of version as the test network's 3DS Server sends it: a fresh
// transaction id, a card in the bank's range, its reference number, no DS stamps, and sdkEncData.
func (n *network) appAReq(tb testing.TB, version, sdkEncData string) *emv.AReq {
	tb.Helper()
	m, err := emv.ParseAs(sample(tb, version, "areq-app-pa.json"), emv.TypeAReq, nil)
	must(tb, err)
	a := m.(*emv.AReq)
	a.ThreeDSServerTransID, a.AcctNumber, a.ThreeDSServerURL = newID(), "4000000000001091", n.tdss.srv.URL+"/rreq"
	a.ThreeDSServerRefNumber = pspRef
	a.DSTransID, a.DSReferenceNumber, a.DSURL = "", "", ""
	a.SDKEncData = sdkEncData
	return a
}

// appFrictionless is an ACS's Y to an app AReq, with what an app ARes carries in each version.
func appFrictionless(r *http.Request, m emv.Message) emv.Message {
	areq, ok := m.(*emv.AReq)
	if !ok {
		return nil
	}
	ares := frictionless(r, m).(*emv.ARes)
	ares.SDKTransID = areq.SDKTransID
	if areq.MessageVersion == emv.Version231 {
		ares.DeviceInfoRecognisedVersion, ares.ThreeDSRequestorAppURLInd = "1.7", "N"
	}
	return ares
}

// forwarded finds the AReq the ACS received for dsTransID.
func (n *network) forwarded(tb testing.TB, dsTransID string) *emv.AReq {
	tb.Helper()
	for _, m := range n.acs.received(emv.TypeAReq) {
		if a := m.(*emv.AReq); a.DSTransID == dsTransID {
			return a
		}
	}
	tb.Fatalf("the ACS received no AReq with dsTransID %s", dsTransID)
	return nil
}

// b64DeviceJSON is deviceJSON as the DS writes it into deviceInfo by default: a JSON string of its
// unpadded base64url encoding.
var b64DeviceJSON = `"` + base64.RawURLEncoding.EncodeToString([]byte(deviceJSON)) + `"`

// ourSDKEncData is deviceJSON encrypted by sdkcrypto to the test scheme's EC key: for tests about
// something else, which need an app AReq the DS lets through, and no Node.
func ourSDKEncData(tb testing.TB) string {
	tb.Helper()
	_, ecKey := pkiEncKeys(tb)
	data, err := sdkcrypto.EncryptSDKEncData([]byte(deviceJSON), ecKey.key.Public(), "", schemeDSID, sdkcrypto.EncA128CBCHS256, "")
	must(tb, err)
	return data
}
