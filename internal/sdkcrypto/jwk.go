package sdkcrypto

import (
	"bytes"
	"crypto/ecdh"
	"encoding/json"
	"math/big"
)

// JWK is a public EC key on P-256 as the app channel carries it: sdkEphemPubKey, acsEphemPubKey and
// the epk of an EC sdkEncData.
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// PublicJWK writes a P-256 public key as a JWK.
func PublicJWK(pub *ecdh.PublicKey) JWK {
	b := pub.Bytes() // 0x04 ‖ X ‖ Y, 32 bytes each
	return JWK{Kty: "EC", Crv: "P-256", X: b64.EncodeToString(b[1:33]), Y: b64.EncodeToString(b[33:65])}
}

// ParseJWK reads a JSON JWK and checks that it is a point on P-256.
func ParseJWK(raw []byte) (*ecdh.PublicKey, error) {
	var k JWK
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&k); err != nil {
		return nil, failf("the key is not a JSON object")
	}
	return k.Public()
}

// Public checks the JWK and returns its key. The coordinates may come with their leading zero bytes
// dropped, as some encoders write them; they are padded back to 32 bytes. crypto/ecdh refuses a
// point that is not on the curve, which is what protects the ECDH from an invalid-curve attack.
func (k JWK) Public() (*ecdh.PublicKey, error) {
	if k.Kty != "EC" || k.Crv != "P-256" {
		return nil, failf("the key is not an EC P-256 JWK (kty %q, crv %q)", k.Kty, k.Crv)
	}
	x, errX := b64.DecodeString(k.X)
	y, errY := b64.DecodeString(k.Y)
	if errX != nil || errY != nil || len(x) == 0 || len(x) > 32 || len(y) == 0 || len(y) > 32 {
		return nil, failf("the key's x and y are not 32-byte base64url coordinates")
	}
	pt := make([]byte, 65)
	pt[0] = 4
	new(big.Int).SetBytes(x).FillBytes(pt[1:33])
	new(big.Int).SetBytes(y).FillBytes(pt[33:65])
	pub, err := ecdh.P256().NewPublicKey(pt)
	if err != nil {
		return nil, failf("the key is not a point on P-256")
	}
	return pub, nil
}
