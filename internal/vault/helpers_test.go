package vault_test

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/vault"
)

// testKey derives a fixed, obviously non-secret key from a label, so that committed fuzz seeds made
// with it stay openable. Real keys come from configuration.
func testKey(label string) string {
	sum := sha256.Sum256([]byte("open3ds vault test key: " + label))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// spec builds a key spec with the given current version, encryption key versions and lookup label.
func spec(current int, lookup string, versions ...int) string {
	parts := []string{fmt.Sprintf("current=%d", current)}
	for _, v := range versions {
		parts = append(parts, fmt.Sprintf("%d=%s", v, testKey(fmt.Sprint(v))))
	}
	parts = append(parts, "lookup="+testKey("lookup "+lookup))
	return strings.Join(parts, ";")
}

func mustKeyring(tb testing.TB, s string) *vault.Keyring {
	tb.Helper()
	k, err := vault.ParseKeyring(s)
	if err != nil {
		tb.Fatalf("ParseKeyring: %v", err)
	}
	return k
}

var panAD = vault.AD{Table: "acs_transactions", Column: "pan", Row: "8a880dc0-d2d2-4067-bcb1-b08d1690b26e"}

const testPAN = "4111111111111111"

// The sealed text form is documented (unpadded URL-safe base64), so tests may take it apart.
func decodeSealed(tb testing.TB, s string) []byte {
	tb.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		tb.Fatalf("decode sealed value: %v", err)
	}
	return raw
}

func encodeSealed(raw []byte) string { return base64.RawURLEncoding.EncodeToString(raw) }
