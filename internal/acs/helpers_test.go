package acs_test

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/store/storetest"
	"github.com/open3ds/open3ds/internal/vault"
)

// testKeyring builds vault keyring specs with known key versions, so that a test can add a key and
// drop an old one as an operator rotating keys would.
type testKeyring struct {
	keys    map[int]string
	current int
	lookup  string
}

func newKeyring(tb testing.TB) *testKeyring {
	k := &testKeyring{keys: map[int]string{}, lookup: randKey()}
	k.add()
	return k
}

func randKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// add makes a new key version current.
func (k *testKeyring) add() {
	k.current++
	k.keys[k.current] = randKey()
}

func (k *testKeyring) ring(tb testing.TB) acs.PANVault {
	tb.Helper()
	parts := []string{fmt.Sprintf("current=%d", k.current), "lookup=" + k.lookup}
	for id, key := range k.keys {
		parts = append(parts, fmt.Sprintf("%d=%s", id, key))
	}
	r, err := vault.ParseKeyring(strings.Join(parts, ";"))
	if err != nil {
		tb.Fatal(err)
	}
	return acs.Vault(r)
}

// backends opens a fresh store of each kind; PostgreSQL is skipped without OPEN3DS_TEST_POSTGRES.
var backends = []struct {
	name string
	open func(testing.TB) *store.DB
}{
	{"sqlite", storetest.OpenSQLite},
	{"postgres", storetest.OpenPostgres},
}

func testIssuer(id, start, end string) acs.Issuer {
	return acs.Issuer{ID: id, Name: "Bank " + id, Ranges: []acs.CardRange{{Start: start, End: end}},
		Brand: acs.Branding{LogoURL: "https://bank.example/logo.png", SupportText: "Call 0800 000"}}
}
