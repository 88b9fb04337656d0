package sdkcrypto

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// DSKey is one of the DS's sdkEncData keys: RSA or EC P-256, named by the id SDKs put in the JWE's
// kid (the id is ours to choose; SDKs copy it from the certificate they bundle, or send none). The
// DS holds several at once while it rotates them.
type DSKey struct {
	ID  string
	Key crypto.Signer // *rsa.PrivateKey or *ecdsa.PrivateKey on P-256, as pki loads them
}

// DSKeys is the DS's set of sdkEncData keys and its own DS id, the PartyVInfo of EC sdkEncData.
type DSKeys struct {
	DSID string
	Keys []DSKey
}

// DecryptSDKEncData opens an sdkEncData JWE. A kid names the key to use; without one every key of
// the JWE's kind is tried, newest first as listed. An EC sdkEncData may say alg "ECDH-ES" or "dir"
// (SDKs differ) and must carry its epk. Any failure is ErrDecrypt.
func (ks DSKeys) DecryptSDKEncData(compact string) ([]byte, error) {
	j, err := ParseJWE(compact)
	if err != nil {
		return nil, err
	}
	ec := false
	switch j.Header.Alg {
	case AlgRSAOAEP256:
		if j.Header.EPK != nil {
			return nil, failf("an RSA-OAEP-256 sdkEncData carries an epk")
		}
	case AlgECDHES, AlgDir:
		if j.Header.EPK == nil {
			return nil, failf("an %s sdkEncData carries no epk", j.Header.Alg)
		}
		if len(j.EncryptedKey) != 0 {
			return nil, failf("an %s sdkEncData carries an encrypted key", j.Header.Alg)
		}
		ec = true
	default:
		return nil, failf("sdkEncData alg %q is not supported", j.Header.Alg)
	}
	tried := 0
	var last error
	for _, k := range ks.Keys {
		if j.Header.Kid != "" && k.ID != j.Header.Kid {
			continue
		}
		cek, err := ks.contentKey(j, k, ec)
		if errors.Is(err, errWrongKind) {
			continue
		}
		tried++
		if err == nil {
			var pt []byte
			if pt, err = j.Decrypt(cek); err == nil {
				return pt, nil
			}
		}
		last = err
	}
	if tried == 0 {
		if j.Header.Kid != "" {
			return nil, failf("no DS key %q of the kind alg %s needs", j.Header.Kid, j.Header.Alg)
		}
		return nil, failf("no DS key of the kind alg %s needs", j.Header.Alg)
	}
	return nil, last
}

var errWrongKind = errors.New("sdkcrypto: the key is not of the JWE's kind")

// contentKey finds the CEK of j with k: RSA-OAEP-256 unwraps it; EC derives it from ECDH with the
// epk and the KDF with the DS id. For A128GCM the derived 32 bytes are more than the 16 the cipher
// takes: we use the first 16, as for the SDK-to-ACS direction of the challenge session (our choice;
// the SDKs we know send A128CBC-HS256 here).
func (ks DSKeys) contentKey(j *JWE, k DSKey, ec bool) ([]byte, error) {
	switch key := k.Key.(type) {
	case *rsa.PrivateKey:
		if ec {
			return nil, errWrongKind
		}
		cek, err := rsa.DecryptOAEP(sha256.New(), nil, key, j.EncryptedKey, nil)
		if err != nil {
			return nil, failf("RSA-OAEP-256: the content key does not unwrap")
		}
		return cek, nil
	case *ecdsa.PrivateKey:
		if !ec {
			return nil, errWrongKind
		}
		priv, err := key.ECDH()
		if err != nil || priv.Curve() != ecdh.P256() {
			return nil, failf("DS key %s is not a P-256 key", k.ID)
		}
		peer, err := j.Header.EPK.Public()
		if err != nil {
			return nil, err
		}
		z, err := priv.ECDH(peer)
		if err != nil {
			return nil, failf("ECDH with the epk: %v", err)
		}
		cek := ConcatKDF(z, ks.DSID)
		if j.Header.Enc == EncA128GCM {
			cek = cek[:16]
		}
		return cek, nil
	}
	return nil, errWrongKind
}

// EncryptSDKEncData encrypts device information to a DS key, as an SDK does: RSA-OAEP-256 to an RSA
// key, or ECDH with a fresh ephemeral key and the KDF with dsID to a P-256 key, whose header then
// says alg (AlgECDHES or AlgDir, as SDKs differ; empty means AlgECDHES). kid may be empty.
func EncryptSDKEncData(plaintext []byte, dsPub crypto.PublicKey, kid, dsID, enc, alg string) (string, error) {
	n, err := cekLen(enc)
	if err != nil {
		return "", err
	}
	iv := make([]byte, ivLen(enc))
	rand.Read(iv)
	switch pub := dsPub.(type) {
	case *rsa.PublicKey:
		cek := make([]byte, n)
		rand.Read(cek)
		ek, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, cek, nil)
		if err != nil {
			return "", err
		}
		return sealJWE(Header{Alg: AlgRSAOAEP256, Enc: enc, Kid: kid}, ek, cek, iv, plaintext)
	case *ecdsa.PublicKey:
		dsKey, err := pub.ECDH()
		if err != nil || dsKey.Curve() != ecdh.P256() {
			return "", fmt.Errorf("sdkcrypto: the DS key is not a P-256 key")
		}
		eph, err := ecdh.P256().GenerateKey(rand.Reader)
		if err != nil {
			return "", err
		}
		z, err := eph.ECDH(dsKey)
		if err != nil {
			return "", err
		}
		if alg == "" {
			alg = AlgECDHES
		}
		if alg != AlgECDHES && alg != AlgDir {
			return "", fmt.Errorf("sdkcrypto: alg %q for an EC sdkEncData", alg)
		}
		epk := PublicJWK(eph.PublicKey())
		return sealJWE(Header{Alg: alg, Enc: enc, Kid: kid, EPK: &epk}, nil, ConcatKDF(z, dsID)[:n], iv, plaintext)
	}
	return "", fmt.Errorf("sdkcrypto: a DS key must be RSA or EC P-256, not %T", dsPub)
}

// KeyID names a DS key by its certificate's public key when the operator gives it no id: the first
// 16 hex digits of the SHA-256 of the DER public key.
func KeyID(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:8])
}
