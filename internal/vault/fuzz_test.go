package vault_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/vault"
)

// The committed seeds in testdata/fuzz hold genuine values sealed under the fixed test keys, so the
// fuzzer starts from text that opens and mutates it into text that must not.
func FuzzOpen(f *testing.F) {
	k := mustKeyring(f, spec(2, "a", 1, 2))
	for range 2 {
		sealed, err := k.Seal([]byte(testPAN), panAD)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(sealed)
	}
	f.Add("")
	f.Add("AQE")
	f.Fuzz(func(t *testing.T, sealed string) {
		plain, err := k.Open(sealed, panAD)
		if err != nil {
			if strings.Contains(err.Error(), testPAN) {
				t.Fatalf("error %q shows the PAN", err)
			}
			return
		}
		// Forging a value is out of reach: anything that opens is a genuine seal of the test PAN,
		// and then its key version is one the keyring holds.
		if !bytes.Equal(plain, []byte(testPAN)) {
			t.Fatalf("Open(%q) = %q", sealed, plain)
		}
		if id, err := k.KeyID(sealed); err != nil || (id != 1 && id != 2) {
			t.Fatalf("KeyID(%q) = %d, %v for a value that opens", sealed, id, err)
		}
		if _, err := k.Open(sealed, vault.AD{Table: panAD.Table, Column: panAD.Column, Row: "x"}); err == nil {
			t.Fatalf("Open(%q) succeeded under another row", sealed)
		}
	})
}

func FuzzParseKeyring(f *testing.F) {
	f.Add(spec(2, "a", 1, 2))
	f.Add("current=1;1=" + testKey("1") + ";lookup=" + testKey("x") + "\n")
	f.Add("current=1;1=" + testKey("1"))
	f.Add("current=300;lookup=;=;;")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := vault.ParseKeyring(s)
		if err != nil {
			// An error names a part and a problem; it never repeats a long run of the spec.
			for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '=' }) {
				if part = strings.TrimSpace(part); len(part) >= 16 && strings.Contains(err.Error(), part) {
					t.Fatalf("error %q repeats part of the spec", err)
				}
			}
			return
		}
		sealed, err := k.Seal([]byte(testPAN), panAD)
		if err != nil {
			t.Fatalf("Seal under a parsed keyring: %v", err)
		}
		if got, err := k.Open(sealed, panAD); err != nil || string(got) != testPAN {
			t.Fatalf("round trip under a parsed keyring: %q, %v", got, err)
		}
		if id, _ := k.KeyID(sealed); id != k.Current() || id < 1 || id > 255 {
			t.Fatalf("KeyID = %d, Current = %d", id, k.Current())
		}
	})
}
