package authvalue

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// The authentication value is 20 bytes, sent as 28 characters of standard base64:
//
//	offset size  field
//	0      1     format version, 1
//	1      1     key version, 1–255, of the HMAC key that made the MAC
//	2      1     outcome, 'Y' (authenticated) or 'A' (attempted)
//	3      4     time, big-endian unsigned seconds since 2020-01-01T00:00:00Z (good until 2156)
//	7      13    the first 13 bytes of HMAC-SHA-256 over the MAC input below
//
// The MAC input is a sequence of fields, each written as a 4-byte big-endian length followed by its
// bytes, so no two different sets of facts encode alike ("12"+"3" and "1"+"23" differ):
//
//	"open3ds/authvalue/v1", format version, key version, outcome, time (the 4 bytes above),
//	acsTransID, PAN, amount, currency, merchant
//
// The leading label keeps a MAC made here from ever matching one that some other use of the same
// key might make. 13 bytes (104 bits) of MAC leave a forger no practical chance of guessing, and the
// value is checked online by its issuer, who can count and limit failures.
const (
	formatV1  = 1
	valueSize = 20
	macOffset = 7
	macSize   = valueSize - macOffset
	textSize  = 28
	macLabel  = "open3ds/authvalue/v1"
)

// epoch is the zero of the time field. Seconds from 2020 in 32 bits reach 2156.
var epoch = time.Date(2020, time.January, 1, 0, 0, 0, 0, time.UTC)

// encoding is strict so that each value has exactly one text form.
var encoding = base64.StdEncoding.Strict()

// Errors returned by Verify, for errors.Is. A value that is well formed but does not match its facts
// is not an error: Verify returns a Check with Valid false.
var (
	// ErrMalformed: not 28 characters of base64, or an unknown format version or outcome.
	ErrMalformed = errors.New("authvalue: malformed authentication value")
	// ErrUnknownKey: made under a key version these keys do not hold (never held, or removed).
	ErrUnknownKey = errors.New("authvalue: unknown key version")
)

// Facts are what an authentication value is bound to. Amount, Currency and Merchant are the
// transaction's purchaseAmount (minor units, as sent), purchaseCurrency (ISO 4217 numeric) and the
// merchant identifier the issuer will see at authorisation (such as acquirerMerchantID); they may be
// empty for a non-payment authentication, but Create and Verify must be given the same text.
type Facts struct {
	ACSTransID, PAN, Amount, Currency, Merchant string
	Outcome                                     byte      // 'Y' or 'A'
	Time                                        time.Time // when the ACS decided; Verify reads it from the value
}

// Check is the result of Verify. When Valid is false the other fields are zero: nothing in a value
// that does not verify can be trusted.
type Check struct {
	Valid   bool
	KeyID   int       // the key version that made the value
	Outcome byte      // 'Y' or 'A'
	Time    time.Time // the time in the value, to the second, in UTC
}

// Create returns the authentication value for f under the current key. f.Outcome must be 'Y' or
// 'A', f.ACSTransID and f.PAN must not be empty, and f.Time must lie between 2020 and 2156.
func (k *Keys) Create(f Facts) (string, error) {
	if f.Outcome != 'Y' && f.Outcome != 'A' {
		return "", errors.New("authvalue: the outcome must be Y or A")
	}
	if err := f.checkIdentity(); err != nil {
		return "", err
	}
	secs := f.Time.Unix() - epoch.Unix()
	if f.Time.Before(epoch) || secs > 1<<32-1 {
		return "", errors.New("authvalue: the time is outside 2020–2156")
	}
	var raw [valueSize]byte
	raw[0], raw[1], raw[2] = formatV1, byte(k.current), f.Outcome
	binary.BigEndian.PutUint32(raw[3:macOffset], uint32(secs))
	sum := mac(k.keys[k.current], raw[:macOffset], f)
	copy(raw[macOffset:], sum[:macSize])
	return encoding.EncodeToString(raw[:]), nil
}

// Verify checks value against the facts. It recomputes the MAC under the key version named in the
// value, so values made before a rotation verify while their key is kept, and compares in constant
// time. f.Time is ignored (the time comes from the value); f.Outcome may be 0 to accept either
// outcome, which Check then reports, or 'Y' or 'A' to require that one.
//
// Verify returns ErrMalformed for text that is not an authentication value of a known format,
// ErrUnknownKey for a key version it does not hold, and an error for facts without acsTransID or PAN.
// A well-formed value that does not match the facts gives Check{Valid: false} and no error.
func (k *Keys) Verify(value string, f Facts) (Check, error) {
	if err := f.checkIdentity(); err != nil {
		return Check{}, err
	}
	if len(value) != textSize {
		return Check{}, ErrMalformed
	}
	// DecodedLen(28) is 21; the strict decoder still skips line breaks, which would let a
	// 28-character text decode short, so the length decoded is checked too.
	var raw [valueSize + 1]byte
	if n, err := encoding.Decode(raw[:], []byte(value)); err != nil || n != valueSize {
		return Check{}, ErrMalformed
	}
	if raw[0] != formatV1 {
		return Check{}, fmt.Errorf("%w: unknown format version %d", ErrMalformed, raw[0])
	}
	outcome := raw[2]
	if outcome != 'Y' && outcome != 'A' {
		return Check{}, fmt.Errorf("%w: unknown outcome", ErrMalformed)
	}
	key, ok := k.keys[int(raw[1])]
	if !ok {
		return Check{}, fmt.Errorf("%w %d", ErrUnknownKey, raw[1])
	}
	want := mac(key, raw[:macOffset], f)
	if !hmac.Equal(want[:macSize], raw[macOffset:valueSize]) || (f.Outcome != 0 && f.Outcome != outcome) {
		return Check{}, nil
	}
	secs := binary.BigEndian.Uint32(raw[3:macOffset])
	return Check{Valid: true, KeyID: int(raw[1]), Outcome: outcome, Time: epoch.Add(time.Duration(secs) * time.Second)}, nil
}

// mac returns HMAC-SHA-256 over the MAC input (see the layout above); header is the first seven
// bytes of the value.
func mac(key, header []byte, f Facts) (sum [sha256.Size]byte) {
	fields := [...][]byte{[]byte(macLabel), header[0:1], header[1:2], header[2:3], header[3:macOffset]}
	strs := [...]string{f.ACSTransID, f.PAN, f.Amount, f.Currency, f.Merchant}
	n := 0
	for _, b := range fields {
		n += 4 + len(b)
	}
	for _, s := range strs {
		n += 4 + len(s)
	}
	// One buffer and one Write: HMAC over many small writes costs more than the copy.
	msg := make([]byte, 0, n)
	for _, b := range fields {
		msg = binary.BigEndian.AppendUint32(msg, uint32(len(b)))
		msg = append(msg, b...)
	}
	for _, s := range strs {
		msg = binary.BigEndian.AppendUint32(msg, uint32(len(s)))
		msg = append(msg, s...)
	}
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	m.Sum(sum[:0])
	return sum
}

func (f Facts) checkIdentity() error {
	if f.ACSTransID == "" || f.PAN == "" {
		return errors.New("authvalue: the facts need an acsTransID and a PAN")
	}
	return nil
}
