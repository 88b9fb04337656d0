package vault

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// A sealed value is the unpadded URL-safe base64 of
//
//	format (1 byte, formatV1) | key version (1 byte) | nonce (12 bytes) | AES-256-GCM ciphertext and tag
//
// so it fits a TEXT column, a URL or a log line (which never holds it anyway) without escaping. The
// header is authenticated too: it is the start of the GCM additional data, ahead of the AD.
const (
	formatV1   = 1
	headerSize = 2
	nonceSize  = 12
	tagSize    = 16
	minSealed  = headerSize + nonceSize + tagSize
)

// encoding is strict so that each sealed value has exactly one text form.
var encoding = base64.RawURLEncoding.Strict()

// Errors returned by Open, KeyID and Reseal, for errors.Is. None of them carries the plaintext.
var (
	// ErrMalformed: the text is not a sealed value of a known format.
	ErrMalformed = errors.New("vault: malformed sealed value")
	// ErrUnknownKey: the value was sealed under a key version the keyring does not hold.
	ErrUnknownKey = errors.New("vault: sealed under an unknown key version")
	// ErrAuthentication: wrong associated data, a tampered value, or a different key of the same version.
	ErrAuthentication = errors.New("vault: sealed value does not authenticate")
)

// AD is the associated data binding a ciphertext to its place: the table, the column and the row's
// stable key (such as the transaction id). It is not stored in the sealed value; the caller gives
// the same AD to Open, and any difference makes Open fail.
type AD struct{ Table, Column, Row string }

// additionalData encodes the header and the AD unambiguously: every field is length-prefixed, so
// ("ab", "c") and ("a", "bc") never collide.
func (ad AD) additionalData(header []byte) []byte {
	n := len(header) + 12 + len(ad.Table) + len(ad.Column) + len(ad.Row)
	out := append(make([]byte, 0, n), header...)
	for _, f := range []string{ad.Table, ad.Column, ad.Row} {
		out = binary.BigEndian.AppendUint32(out, uint32(len(f)))
		out = append(out, f...)
	}
	return out
}

// Seal encrypts plaintext under the current key with a fresh random nonce, so sealing the same PAN
// twice gives two different values (use LookupHash to find equal PANs). Table and Column of ad are
// required; Row may be empty only for a value that is not tied to a row.
//
// Random 96-bit nonces are safe for about 2^32 values per key; rotate the current key well before a
// key has sealed that many.
func (k *Keyring) Seal(plaintext []byte, ad AD) (string, error) {
	if ad.Table == "" || ad.Column == "" {
		return "", errors.New("vault: seal: the associated data needs a table and a column")
	}
	aead := k.aeads[k.current]
	buf := make([]byte, headerSize+nonceSize, minSealed+len(plaintext))
	buf[0], buf[1] = formatV1, byte(k.current)
	if _, err := rand.Read(buf[headerSize:]); err != nil {
		return "", fmt.Errorf("vault: seal: read nonce: %w", err)
	}
	buf = aead.Seal(buf, buf[headerSize:], plaintext, ad.additionalData(buf[:headerSize]))
	return encoding.EncodeToString(buf), nil
}

// Open decrypts a value made by Seal with the same AD. It returns ErrMalformed, ErrUnknownKey or
// ErrAuthentication; the error never holds the plaintext or the key.
func (k *Keyring) Open(sealed string, ad AD) ([]byte, error) {
	raw, id, err := decode(sealed)
	if err != nil {
		return nil, err
	}
	aead, ok := k.aeads[id]
	if !ok {
		return nil, fmt.Errorf("%w %d", ErrUnknownKey, id)
	}
	nonce, ciphertext := raw[headerSize:headerSize+nonceSize], raw[headerSize+nonceSize:]
	plain, err := aead.Open(nil, nonce, ciphertext, ad.additionalData(raw[:headerSize]))
	if err != nil {
		return nil, ErrAuthentication
	}
	return plain, nil
}

// KeyID returns the key version a value was sealed under, without decrypting it and whether or not
// the keyring still holds that version: a rotation job compares it with Current to find the rows it
// must reseal. It returns ErrMalformed for text that is not a sealed value.
func (k *Keyring) KeyID(sealed string) (int, error) {
	_, id, err := decode(sealed)
	return id, err
}

// Reseal opens sealed and seals its plaintext again under the current key, for key rotation. A value
// already under the current key is returned unchanged once it has been checked to open.
func (k *Keyring) Reseal(sealed string, ad AD) (string, error) {
	plain, err := k.Open(sealed, ad)
	if err != nil {
		return "", err
	}
	defer clear(plain)
	if id, _ := k.KeyID(sealed); id == k.current {
		return sealed, nil
	}
	return k.Seal(plain, ad)
}

// decode checks the text form and header of a sealed value.
func decode(sealed string) ([]byte, int, error) {
	// The strict decoder still skips line breaks; refusing them keeps one text form per value.
	if strings.ContainsAny(sealed, "\r\n") || encoding.DecodedLen(len(sealed)) < minSealed {
		return nil, 0, ErrMalformed
	}
	raw, err := encoding.DecodeString(sealed)
	if err != nil || len(raw) < minSealed {
		return nil, 0, ErrMalformed
	}
	if raw[0] != formatV1 {
		return nil, 0, fmt.Errorf("%w: unknown format %d", ErrMalformed, raw[0])
	}
	if raw[1] == 0 {
		return nil, 0, fmt.Errorf("%w: key version 0", ErrMalformed)
	}
	return raw, int(raw[1]), nil
}
