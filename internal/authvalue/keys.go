// Package authvalue creates and verifies the authentication value (CAVV / AAV / AEVV style) that an
// ACS returns with transStatus Y or A, and maps an outcome to the scheme's ECI.
//
// The value proves to the issuer's authorisation system that this ACS authenticated (Y) or attempted
// (A) this card for this purchase: it is a MAC under the issuer's key over the transaction's facts,
// so it cannot be made up by a merchant nor moved to another card, amount or merchant. Real schemes
// each define their own layout; open3ds uses the one documented at Create, which fits the 20 bytes
// (28 base64 characters) that 2.1.0 and 2.2.0 allow.
//
// Keys are versioned and carried inside the value, so a key can be rotated while values made under
// the old one still verify for as long as the old key is kept. Keys come from configuration or the
// environment (see ParseKeys), and a Keys value prints as redacted in every form.
package authvalue

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/open3ds/open3ds/internal/logx"
	"github.com/open3ds/open3ds/internal/vault/keyspec"
)

// Keys holds one issuer's versioned HMAC-SHA-256 keys. It is safe for concurrent use and never
// changes after ParseKeys.
type Keys struct {
	current int
	keys    map[int][]byte
}

// ParseKeys reads a spec such as
//
//	current=2;1=<base64 32B>;2=<base64 32B>
//
// Numbered parts are key versions 1–255, each 32 bytes of standard or URL-safe base64; current names
// the version that Create uses. Errors name the part and the problem, never the key material.
func ParseKeys(spec string) (*Keys, error) {
	s, err := keyspec.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("authvalue: key spec: %w", err)
	}
	return &Keys{current: s.Current, keys: s.Keys}, nil
}

// NewRandomSpec returns a spec with one fresh key (current=1), for `open3ds demo` and tests.
func NewRandomSpec() (string, error) {
	s, err := keyspec.New()
	if err != nil {
		return "", fmt.Errorf("authvalue: %w", err)
	}
	return s, nil
}

// Current returns the key version that Create uses.
func (k *Keys) Current() int { return k.current }

// Versions returns the key versions that Verify accepts, in ascending order.
func (k *Keys) Versions() []int {
	ids := make([]int, 0, len(k.keys))
	for id := range k.keys {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// String describes the keys without their material: the versions and the current one are not
// secret and help an operator check a rotation.
func (k Keys) String() string {
	ids := make([]string, 0, len(k.keys))
	for _, id := range (&k).Versions() {
		ids = append(ids, strconv.Itoa(id))
	}
	return "authvalue.Keys{current: " + strconv.Itoa(k.current) + ", versions: [" + strings.Join(ids, " ") +
		"], keys: " + logx.Redacted + "}"
}

// GoString keeps %#v, which would otherwise print the key bytes, redacted.
func (k Keys) GoString() string { return k.String() }

// Format covers every fmt verb (%x and %d included) on a Keys and a *Keys alike.
func (k Keys) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		io.WriteString(f, strconv.Quote(k.String()))
		return
	}
	io.WriteString(f, k.String())
}

// LogValue keeps slog from walking the struct.
func (k Keys) LogValue() slog.Value { return slog.StringValue(k.String()) }

// MarshalText keeps encoding/json and other encoders from seeing the keys.
func (k Keys) MarshalText() ([]byte, error) { return []byte(k.String()), nil }
