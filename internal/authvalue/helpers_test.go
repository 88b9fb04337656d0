package authvalue_test

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/authvalue"
)

// testKey derives a fixed, obviously non-secret key from a label, so that committed fuzz seeds made
// with it stay verifiable. Real keys come from configuration.
func testKey(label string) string {
	sum := sha256.Sum256([]byte("open3ds authvalue test key: " + label))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// spec builds a key spec with the given current version and key versions.
func spec(current int, versions ...int) string {
	parts := []string{fmt.Sprintf("current=%d", current)}
	for _, v := range versions {
		parts = append(parts, fmt.Sprintf("%d=%s", v, testKey(fmt.Sprint(v))))
	}
	return strings.Join(parts, ";")
}

func mustKeys(tb testing.TB, s string) *authvalue.Keys {
	tb.Helper()
	k, err := authvalue.ParseKeys(s)
	if err != nil {
		tb.Fatalf("ParseKeys: %v", err)
	}
	return k
}

func mustCreate(tb testing.TB, k *authvalue.Keys, f authvalue.Facts) string {
	tb.Helper()
	v, err := k.Create(f)
	if err != nil {
		tb.Fatalf("Create: %v", err)
	}
	return v
}

// facts are those of a typical frictionless purchase.
var facts = authvalue.Facts{
	ACSTransID: "3f6a3b8e-5d0c-4d1e-9b7a-2c1f0e9d8c7b",
	PAN:        "4111111111111111",
	Amount:     "12345",
	Currency:   "978",
	Merchant:   "MERCHANT-0001",
	Outcome:    'Y',
	Time:       time.Date(2026, time.November, 25, 10, 30, 15, 500_000_000, time.UTC),
}
