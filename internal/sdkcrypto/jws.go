package sdkcrypto

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Signature algorithms of acsSignedContent.
const (
	AlgPS256 = "PS256"
	AlgES256 = "ES256"
)

// jwsHeader is the protected header of acsSignedContent: the algorithm and the signer's chain, its
// own certificate first, in standard (padded) base64 DER as RFC 7515 §4.1.6 has it.
type jwsHeader struct {
	Alg string   `json:"alg"`
	X5C []string `json:"x5c"`
}

// SignJWS signs payload with key as a compact JWS whose header carries chain (the signing
// certificate first). An RSA key signs PS256, a P-256 key ES256.
func SignJWS(payload []byte, key crypto.Signer, chain []*x509.Certificate) (string, error) {
	if len(chain) == 0 {
		return "", fmt.Errorf("sdkcrypto: a JWS needs the signing certificate")
	}
	h := jwsHeader{}
	switch k := key.Public().(type) {
	case *rsa.PublicKey:
		h.Alg = AlgPS256
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return "", fmt.Errorf("sdkcrypto: ES256 needs a P-256 key")
		}
		h.Alg = AlgES256
	default:
		return "", fmt.Errorf("sdkcrypto: cannot sign with a %T", k)
	}
	for _, c := range chain {
		h.X5C = append(h.X5C, base64.StdEncoding.EncodeToString(c.Raw))
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	input := b64.EncodeToString(hj) + "." + b64.EncodeToString(payload)
	digest := sha256.Sum256([]byte(input))
	var sig []byte
	if h.Alg == AlgPS256 {
		sig, err = key.Sign(rand.Reader, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256})
	} else {
		sig, err = signES256(key, digest[:])
	}
	if err != nil {
		return "", err
	}
	return input + "." + b64.EncodeToString(sig), nil
}

// signES256 writes an ECDSA signature as JWS wants it: r and s, 32 bytes each, not ASN.1.
func signES256(key crypto.Signer, digest []byte) ([]byte, error) {
	der, err := key.Sign(rand.Reader, digest, crypto.SHA256)
	if err != nil {
		return nil, err
	}
	var rs struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &rs); err != nil {
		return nil, err
	}
	out := make([]byte, 64)
	rs.R.FillBytes(out[:32])
	rs.S.FillBytes(out[32:])
	return out, nil
}

// VerifyJWS checks a compact JWS as an SDK checks acsSignedContent: the x5c chain must lead to one of
// roots at now, and the signature must verify with the first certificate's key under the header's
// algorithm (PS256 or ES256 only; "none" and HMAC never). It returns the payload and the signing
// certificate.
func VerifyJWS(compact string, roots *x509.CertPool, now time.Time) ([]byte, *x509.Certificate, error) {
	parts := strings.Split(compact, ".")
	if len(parts) != 3 {
		return nil, nil, failf("a compact JWS has 3 parts, this has %d", len(parts))
	}
	hj, err1 := b64.DecodeString(parts[0])
	payload, err2 := b64.DecodeString(parts[1])
	sig, err3 := b64.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, nil, failf("a JWS part is not base64url")
	}
	var h jwsHeader
	if err := json.NewDecoder(bytes.NewReader(hj)).Decode(&h); err != nil {
		return nil, nil, failf("the JWS header is not a JSON object")
	}
	if len(h.X5C) == 0 {
		return nil, nil, failf("the JWS header carries no x5c chain")
	}
	var certs []*x509.Certificate
	for i, s := range h.X5C {
		der, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, nil, failf("x5c[%d] is not base64", i)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, nil, failf("x5c[%d] is not a certificate", i)
		}
		certs = append(certs, c)
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	leaf := certs[0]
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, nil, failf("the signing certificate does not chain to the scheme CA: %v", err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	switch pub := leaf.PublicKey.(type) {
	case *rsa.PublicKey:
		if h.Alg != AlgPS256 {
			return nil, nil, failf("alg %q with an RSA certificate", h.Alg)
		}
		if rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) != nil {
			return nil, nil, failf("the PS256 signature does not verify")
		}
	case *ecdsa.PublicKey:
		if h.Alg != AlgES256 || pub.Curve != elliptic.P256() {
			return nil, nil, failf("alg %q with an EC certificate", h.Alg)
		}
		if len(sig) != 64 {
			return nil, nil, failf("an ES256 signature is 64 bytes")
		}
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if !ecdsa.Verify(pub, digest[:], r, s) {
			return nil, nil, failf("the ES256 signature does not verify")
		}
	default:
		return nil, nil, failf("the signing certificate's key is a %T", pub)
	}
	return payload, leaf, nil
}
