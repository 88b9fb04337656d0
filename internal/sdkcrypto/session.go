package sdkcrypto

import (
	"crypto/ecdh"
	"crypto/rand"
	"fmt"
)

// Direction is the way a challenge message travels: CReq from the SDK to the ACS, CRes back.
type Direction int

const (
	SDKToACS Direction = iota
	ACSToSDK
)

// Session holds the key of one app challenge, derived once on each side from the two ephemeral
// keys; the ACS keeps it with the transaction, sealed, so that any instance can carry on.
type Session struct {
	key [32]byte
}

// DeriveSession computes the session key from one side's ephemeral private key and the other
// side's public key: ECDH on P-256, then the KDF with the sdkReferenceNumber as PartyVInfo.
func DeriveSession(priv *ecdh.PrivateKey, peer *ecdh.PublicKey, sdkReferenceNumber string) (*Session, error) {
	z, err := priv.ECDH(peer)
	if err != nil {
		return nil, failf("ECDH: %v", err)
	}
	s := &Session{}
	copy(s.key[:], ConcatKDF(z, sdkReferenceNumber))
	return s, nil
}

// SessionFromKey rebuilds a session from the key Key returned.
func SessionFromKey(k []byte) (*Session, error) {
	if len(k) != 32 {
		return nil, fmt.Errorf("sdkcrypto: a session key is 32 bytes, not %d", len(k))
	}
	s := &Session{}
	copy(s.key[:], k)
	return s, nil
}

// Key is the session's key, for the store (which seals it).
func (s *Session) Key() []byte { return append([]byte(nil), s.key[:]...) }

// contentKey is the key of one direction: A128CBC-HS256 uses the whole key both ways (MAC half
// and AES half per RFC 7518); A128GCM uses the first half from the SDK and the second half from the
// ACS, as the SDKs do.
func (s *Session) contentKey(d Direction, enc string) ([]byte, error) {
	switch enc {
	case EncA128CBCHS256:
		return s.key[:], nil
	case EncA128GCM:
		if d == SDKToACS {
			return s.key[:16], nil
		}
		return s.key[16:], nil
	}
	return nil, failf("content encryption %q is not supported", enc)
}

// iv is the IV of the counter-th message of direction d under enc. For A128GCM it is the SDKs'
// construction, eleven bytes of 0x00 (SDK to ACS) or 0xFF (ACS to SDK) then the counter, unique per
// key and message as GCM needs; A128CBC-HS256 takes a random IV, as CBC wants an unpredictable
// one. A receiver always uses the IV the JWE carries.
func iv(d Direction, enc string, counter byte) []byte {
	if enc != EncA128GCM {
		b := make([]byte, 16)
		rand.Read(b)
		return b
	}
	b := make([]byte, 12)
	if d == ACSToSDK {
		for i := range 11 {
			b[i] = 0xFF
		}
	}
	b[11] = counter
	return b
}

// Seal encrypts one challenge message (a CReq or a CRes as JSON) for direction d as a compact JWE
// with alg dir, the given enc, and kid (the acsTransID).
func (s *Session) Seal(d Direction, enc, kid string, counter byte, plaintext []byte) (string, error) {
	key, err := s.contentKey(d, enc)
	if err != nil {
		return "", err
	}
	return sealJWE(Header{Alg: AlgDir, Enc: enc, Kid: kid}, nil, key, iv(d, enc, counter), plaintext)
}

// Open decrypts one challenge message that travelled in direction d. It returns the JWE's header too:
// the ACS answers a CReq with the enc it came with.
func (s *Session) Open(d Direction, compact string) ([]byte, Header, error) {
	j, err := ParseJWE(compact)
	if err != nil {
		return nil, Header{}, err
	}
	if j.Header.Alg != AlgDir || len(j.EncryptedKey) != 0 {
		return nil, j.Header, failf("a challenge message must be alg dir with no encrypted key, not %q", j.Header.Alg)
	}
	key, err := s.contentKey(d, j.Header.Enc)
	if err != nil {
		return nil, j.Header, err
	}
	pt, err := j.Decrypt(key)
	return pt, j.Header, err
}
