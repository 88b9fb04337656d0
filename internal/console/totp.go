package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Time-based one-time passwords (RFC 6238) as every authenticator app computes them: HMAC-SHA1 over
// the count of 30-second steps since the epoch, six digits. A code is accepted for the step it was
// made in and one step either side, for clocks that drift; each step is accepted once per account.

const (
	totpPeriod = 30
	totpDigits = 6
	totpSkew   = 1
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// newTOTPSecret makes a 160-bit secret, the size RFC 4226 recommends for SHA-1.
func newTOTPSecret() []byte {
	s := make([]byte, 20)
	rand.Read(s)
	return s
}

// totpStep is the step t falls in.
func totpStep(t time.Time) int64 { return t.Unix() / totpPeriod }

// totpCode is the code for one step.
func totpCode(secret []byte, step int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1_000_000)
}

// TOTPCode is the code an authenticator app shows at t for a base32 secret; tests and the demo's
// instructions use it.
func TOTPCode(secretB32 string, t time.Time) (string, error) {
	s, err := b32.DecodeString(strings.ToUpper(secretB32))
	if err != nil {
		return "", err
	}
	return totpCode(s, totpStep(t)), nil
}

// matchTOTP returns the step code was made for, within the skew around now, or 0. Every candidate is
// compared, in constant time, so that the time taken does not depend on which step matched.
func matchTOTP(secret []byte, code string, now time.Time) int64 {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != totpDigits {
		return 0
	}
	var found int64
	cur := totpStep(now)
	for s := cur - totpSkew; s <= cur+totpSkew; s++ {
		if subtle.ConstantTimeCompare([]byte(totpCode(secret, s)), []byte(code)) == 1 {
			found = s
		}
	}
	return found
}

// totpURI is the otpauth:// address an authenticator app reads from a QR code or a link.
func totpURI(issuer, account string, secret []byte) string {
	label := url.PathEscape(issuer + ":" + account)
	q := url.Values{}
	q.Set("secret", b32.EncodeToString(secret))
	q.Set("issuer", issuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", fmt.Sprint(totpDigits))
	q.Set("period", fmt.Sprint(totpPeriod))
	return "otpauth://totp/" + label + "?" + q.Encode()
}

// groupSecret shows a base32 secret in groups of four, as people type it into an app.
func groupSecret(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}
