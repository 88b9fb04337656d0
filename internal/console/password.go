package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are the argon2id cost settings a new password hash is made with. Hashes keep the
// settings they were made with, so raising them later leaves old passwords working; each is rehashed
// with the new settings at its next successful sign-in.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
}

// DefaultArgon2 follows the current OWASP minimum for argon2id (19 MiB, 2 passes, 1 lane): memory
// per check stays small, so that a burst of sign-ins cannot exhaust a role's memory.
var DefaultArgon2 = Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
	// MinPasswordLen is the shortest password an account may have. Length matters more than classes
	// of character; there is no upper limit short of the form's size.
	MinPasswordLen = 12
	maxPasswordLen = 1024
)

// HashPassword makes the PHC string of password: $argon2id$v=19$m=…,t=…,p=…$salt$hash.
func HashPassword(password string, p Argon2Params) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

var errBadHash = errors.New("console: stored password hash is not an argon2id PHC string")

// parsedHash is a PHC string taken apart.
type parsedHash struct {
	p    Argon2Params
	salt []byte
	key  []byte
}

func parseHash(s string) (parsedHash, error) {
	var h parsedHash
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return h, errBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return h, errBadHash
	}
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.p.Memory, &h.p.Time, &threads); err != nil ||
		threads == 0 || threads > 255 || h.p.Time == 0 || h.p.Memory < 8*threads || h.p.Memory > 4<<20 {
		return h, errBadHash
	}
	h.p.Threads = uint8(threads)
	var err error
	enc := base64.RawStdEncoding
	if h.salt, err = enc.DecodeString(parts[4]); err != nil || len(h.salt) < 8 {
		return h, errBadHash
	}
	if h.key, err = enc.DecodeString(parts[5]); err != nil || len(h.key) < 16 {
		return h, errBadHash
	}
	return h, nil
}

// CheckPassword says whether password matches the PHC string, comparing in constant time, and
// whether the hash was made with weaker settings than want (so the caller may store a new one).
func CheckPassword(phc, password string, want Argon2Params) (ok, stale bool, err error) {
	h, err := parseHash(phc)
	if err != nil {
		return false, false, err
	}
	key := argon2.IDKey([]byte(password), h.salt, h.p.Time, h.p.Memory, h.p.Threads, uint32(len(h.key)))
	ok = subtle.ConstantTimeCompare(key, h.key) == 1
	stale = h.p.Memory < want.Memory || h.p.Time < want.Time
	return ok, stale, nil
}

// dummyHash is checked against when an account does not exist, so that a wrong name takes as long
// as a wrong password and the timing does not tell which names exist.
var dummyHash, _ = HashPassword("open3ds-no-such-account", DefaultArgon2)

// NewPassword makes a random password for a new account or a reset: 20 characters from an alphabet
// without look-alikes, about 116 bits.
func NewPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// checkNewPassword says what is wrong with a password an operator chose, or "".
func checkNewPassword(pw string) string {
	switch {
	case len([]rune(pw)) < MinPasswordLen:
		return fmt.Sprintf("must be at least %d characters", MinPasswordLen)
	case len(pw) > maxPasswordLen:
		return fmt.Sprintf("must be at most %d bytes", maxPasswordLen)
	}
	return ""
}
