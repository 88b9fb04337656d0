package sdkcrypto

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrDecrypt is every failure to read, verify or decrypt app-channel data: the protocol answers all
// of them with Erro 302 (data decryption failure).
var ErrDecrypt = errors.New("sdkcrypto: data decryption failure")

func failf(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrDecrypt, fmt.Sprintf(format, a...))
}

// Content encryptions of the app channel (RFC 7518 §5).
const (
	EncA128CBCHS256 = "A128CBC-HS256"
	EncA128GCM      = "A128GCM"
)

// Key management algorithms the app channel uses.
const (
	AlgRSAOAEP256 = "RSA-OAEP-256"
	AlgECDHES     = "ECDH-ES"
	AlgDir        = "dir"
)

// Header is the protected header of a JWE, with the members the app channel uses.
type Header struct {
	Alg string `json:"alg"`
	Enc string `json:"enc"`
	Kid string `json:"kid,omitempty"`
	// EPK is the SDK's ephemeral key of an EC sdkEncData.
	EPK *JWK `json:"epk,omitempty"`
}

// JWE is a compact JWE taken apart. RawHeader is the header's base64url text, the AAD of the
// content encryption.
type JWE struct {
	Header       Header
	RawHeader    string
	EncryptedKey []byte
	IV           []byte
	Ciphertext   []byte
	Tag          []byte
}

// b64 is strict unpadded base64url: SDKs refuse '=', '+', '/' and white space, and so do we.
var b64 = base64.RawURLEncoding.Strict()

// MaxCompact bounds the compact strings this package reads (sdkEncData is at most 64,000
// characters; a CReq is far smaller).
const MaxCompact = 64000

// ParseJWE takes a compact JWE apart without decrypting it.
func ParseJWE(compact string) (*JWE, error) {
	if len(compact) > MaxCompact {
		return nil, failf("the JWE is longer than %d characters", MaxCompact)
	}
	parts := strings.Split(compact, ".")
	if len(parts) != 5 {
		return nil, failf("a compact JWE has 5 parts, this has %d", len(parts))
	}
	var raw [5][]byte
	for i, p := range parts {
		b, err := b64.DecodeString(p)
		if err != nil {
			return nil, failf("JWE part %d is not base64url", i+1)
		}
		raw[i] = b
	}
	j := &JWE{RawHeader: parts[0], EncryptedKey: raw[1], IV: raw[2], Ciphertext: raw[3], Tag: raw[4]}
	dec := json.NewDecoder(bytes.NewReader(raw[0]))
	if err := dec.Decode(&j.Header); err != nil {
		return nil, failf("the JWE header is not a JSON object")
	}
	if j.Header.Alg == "" || j.Header.Enc == "" {
		return nil, failf("the JWE header lacks alg or enc")
	}
	return j, nil
}

// cekLen is the content key length enc needs.
func cekLen(enc string) (int, error) {
	switch enc {
	case EncA128CBCHS256:
		return 32, nil
	case EncA128GCM:
		return 16, nil
	}
	return 0, failf("content encryption %q is not supported", enc)
}

// Decrypt opens the JWE's content with the content key cek.
func (j *JWE) Decrypt(cek []byte) ([]byte, error) {
	n, err := cekLen(j.Header.Enc)
	if err != nil {
		return nil, err
	}
	if len(cek) != n {
		return nil, failf("%s needs a %d-byte key", j.Header.Enc, n)
	}
	aad := []byte(j.RawHeader)
	if j.Header.Enc == EncA128GCM {
		return gcmOpen(cek, j.IV, j.Ciphertext, j.Tag, aad)
	}
	return cbcHS256Open(cek, j.IV, j.Ciphertext, j.Tag, aad)
}

// sealJWE writes a compact JWE of plaintext under cek with the header h, the encrypted key ek (empty
// for dir and ECDH-ES) and iv (of the length h.Enc needs).
func sealJWE(h Header, ek, cek, iv, plaintext []byte) (string, error) {
	n, err := cekLen(h.Enc)
	if err != nil {
		return "", err
	}
	if len(cek) != n {
		return "", fmt.Errorf("sdkcrypto: %s needs a %d-byte key", h.Enc, n)
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	rawHeader := b64.EncodeToString(hj)
	var ct, tag []byte
	if h.Enc == EncA128GCM {
		ct, tag, err = gcmSeal(cek, iv, plaintext, []byte(rawHeader))
	} else {
		ct, tag, err = cbcHS256Seal(cek, iv, plaintext, []byte(rawHeader))
	}
	if err != nil {
		return "", err
	}
	return strings.Join([]string{rawHeader, b64.EncodeToString(ek), b64.EncodeToString(iv),
		b64.EncodeToString(ct), b64.EncodeToString(tag)}, "."), nil
}

// ivLen is the IV length of enc.
func ivLen(enc string) int {
	if enc == EncA128GCM {
		return 12
	}
	return 16
}

func gcmSeal(key, iv, plaintext, aad []byte) (ct, tag []byte, err error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, nil, err
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		return nil, nil, err
	}
	if len(iv) != g.NonceSize() {
		return nil, nil, fmt.Errorf("sdkcrypto: A128GCM needs a %d-byte IV", g.NonceSize())
	}
	out := g.Seal(nil, iv, plaintext, aad)
	return out[:len(out)-g.Overhead()], out[len(out)-g.Overhead():], nil
}

func gcmOpen(key, iv, ct, tag, aad []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, failf("A128GCM key: %v", err)
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		return nil, failf("A128GCM: %v", err)
	}
	if len(iv) != g.NonceSize() || len(tag) != g.Overhead() {
		return nil, failf("A128GCM needs a %d-byte IV and a %d-byte tag", g.NonceSize(), g.Overhead())
	}
	pt, err := g.Open(nil, iv, append(append([]byte(nil), ct...), tag...), aad)
	if err != nil {
		return nil, failf("A128GCM: the tag does not verify")
	}
	return pt, nil
}

// cbcHS256Tag is RFC 7518 §5.2.2.1's tag: HMAC-SHA-256 over AAD, IV, ciphertext and the AAD's
// length in bits, cut to its first 16 bytes.
func cbcHS256Tag(macKey, iv, ct, aad []byte) []byte {
	m := hmac.New(sha256.New, macKey)
	m.Write(aad)
	m.Write(iv)
	m.Write(ct)
	var al [8]byte
	binary.BigEndian.PutUint64(al[:], uint64(len(aad))*8)
	m.Write(al[:])
	return m.Sum(nil)[:16]
}

func cbcHS256Seal(key, iv, plaintext, aad []byte) (ct, tag []byte, err error) {
	if len(iv) != aes.BlockSize {
		return nil, nil, fmt.Errorf("sdkcrypto: A128CBC-HS256 needs a %d-byte IV", aes.BlockSize)
	}
	macKey, encKey := key[:16], key[16:]
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, nil, err
	}
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	ct = append(append([]byte(nil), plaintext...), bytes.Repeat([]byte{byte(pad)}, pad)...)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, ct)
	return ct, cbcHS256Tag(macKey, iv, ct, aad), nil
}

// cbcHS256Open checks the tag before it decrypts anything, in constant time, and then the padding;
// a bad tag and a bad padding give the same error, so that the answer is no padding oracle.
func cbcHS256Open(key, iv, ct, tag, aad []byte) ([]byte, error) {
	if len(iv) != aes.BlockSize || len(ct) == 0 || len(ct)%aes.BlockSize != 0 || len(tag) != 16 {
		return nil, failf("A128CBC-HS256 needs a 16-byte IV, whole blocks and a 16-byte tag")
	}
	macKey, encKey := key[:16], key[16:]
	if subtle.ConstantTimeCompare(cbcHS256Tag(macKey, iv, ct, aad), tag) != 1 {
		return nil, failf("A128CBC-HS256: the tag does not verify")
	}
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, failf("A128CBC-HS256 key: %v", err)
	}
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(pt, ct)
	pad := int(pt[len(pt)-1])
	if pad == 0 || pad > aes.BlockSize {
		return nil, failf("A128CBC-HS256: the tag does not verify")
	}
	for _, b := range pt[len(pt)-pad:] {
		if int(b) != pad {
			return nil, failf("A128CBC-HS256: the tag does not verify")
		}
	}
	return pt[:len(pt)-pad], nil
}
