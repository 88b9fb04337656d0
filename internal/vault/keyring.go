// Package vault encrypts secret columns at rest, PANs first of all, with AES-256-GCM under versioned
// keys, and computes the keyed hash by which an encrypted PAN is found again.
//
// A sealed value is self-describing text, so a row always says which key opens it and keys can be
// rotated row by row: new values are sealed with the current key while older keys are kept for
// reading until every row has been resealed (see Reseal and KeyID). The associated data (AD) binds a
// ciphertext to its table, column and row, so a ciphertext copied into another row or column does
// not open there.
//
// Keys come from configuration or the environment as a spec (see ParseKeyring); never from the
// repository. A Keyring prints as redacted in every form, so it may be logged or wrapped in errors.
package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/open3ds/open3ds/internal/logx"
	"github.com/open3ds/open3ds/internal/vault/keyspec"
)

// lookupLabel separates the lookup hash from any other use of HMAC-SHA-256 in the project.
const lookupLabel = "open3ds/vault/lookup/v1\x00"

// Keyring holds the versioned AES-256 encryption keys and the HMAC-SHA-256 lookup key. It is safe
// for concurrent use and never changes after ParseKeyring.
type Keyring struct {
	current int
	aeads   map[int]cipher.AEAD
	lookup  []byte
}

// ParseKeyring reads a spec such as
//
//	current=2;1=<base64 32B>;2=<base64 32B>;lookup=<base64 32B>
//
// Numbered parts are encryption key versions 1–255, current names the version used by Seal, and
// lookup is the key of LookupHash. Every key is 32 bytes of standard or URL-safe base64, and no key
// may repeat another. Errors name the part and the problem, never the key material.
//
// The lookup key deliberately stands apart from the versioned encryption keys and does not rotate
// with them. A lookup hash must be the same for the same PAN in every row, old and new, or a search
// by PAN would miss rows; rotating the lookup key would change every stored hash at once and break
// lookups until the whole table was re-hashed. The hash also reveals nothing to decrypt, so its key
// needs rotating far less often; when it must change (say after a leak), that is an offline re-index
// (open each row, recompute its hash), not the routine row-by-row rotation of the encryption keys.
func ParseKeyring(spec string) (*Keyring, error) {
	s, err := keyspec.Parse(spec, "lookup")
	if err != nil {
		return nil, fmt.Errorf("vault: key spec: %w", err)
	}
	k := &Keyring{current: s.Current, aeads: make(map[int]cipher.AEAD, len(s.Keys)), lookup: s.Named["lookup"]}
	for id, key := range s.Keys {
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("vault: key %d: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("vault: key %d: %w", id, err)
		}
		k.aeads[id] = aead
	}
	return k, nil
}

// NewRandomSpec returns a spec with one fresh encryption key (current=1) and a fresh lookup key, for
// `open3ds demo` and tests. Production keys are generated once and kept in the operator's secret store.
func NewRandomSpec() (string, error) {
	s, err := keyspec.New("lookup")
	if err != nil {
		return "", fmt.Errorf("vault: %w", err)
	}
	return s, nil
}

// Current returns the key version that Seal uses.
func (k *Keyring) Current() int { return k.current }

// Versions returns the key versions the keyring can open, in ascending order.
func (k *Keyring) Versions() []int {
	ids := make([]int, 0, len(k.aeads))
	for id := range k.aeads {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// LookupHash returns the keyed hash by which a PAN is found without decrypting every row: 64
// lowercase hex digits of HMAC-SHA-256 under the lookup key. It is deterministic by design (equal
// PANs give equal hashes), so it is only as safe as the lookup key: without that key, the small
// space of PANs cannot be searched offline. The PAN is hashed exactly as given; callers pass the
// digits only. Why the lookup key does not rotate is explained at ParseKeyring.
func (k *Keyring) LookupHash(pan string) string {
	mac := hmac.New(sha256.New, k.lookup)
	io.WriteString(mac, lookupLabel)
	io.WriteString(mac, pan)
	var sum [sha256.Size]byte
	return hex.EncodeToString(mac.Sum(sum[:0]))
}

// String describes the keyring without its keys: the versions and the current one are not secret
// and help an operator check a rotation.
func (k Keyring) String() string {
	ids := make([]string, 0, len(k.aeads))
	for _, id := range (&k).Versions() {
		ids = append(ids, strconv.Itoa(id))
	}
	return "vault.Keyring{current: " + strconv.Itoa(k.current) + ", versions: [" + strings.Join(ids, " ") +
		"], keys: " + logx.Redacted + "}"
}

// GoString keeps %#v, which would otherwise print the key schedule field by field, redacted.
func (k Keyring) GoString() string { return k.String() }

// Format covers every fmt verb (%x and %d included) on a Keyring and a *Keyring alike.
func (k Keyring) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		io.WriteString(f, strconv.Quote(k.String()))
		return
	}
	io.WriteString(f, k.String())
}

// LogValue keeps slog from walking the struct.
func (k Keyring) LogValue() slog.Value { return slog.StringValue(k.String()) }

// MarshalText keeps encoding/json and other encoders from seeing the keys.
func (k Keyring) MarshalText() ([]byte, error) { return []byte(k.String()), nil }
