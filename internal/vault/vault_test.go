package vault_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/vault"
)

func TestSealThenOpenReturnsThePlaintext(t *testing.T) {
	k := mustKeyring(t, spec(1, "a", 1))
	for _, plain := range [][]byte{[]byte(testPAN), {}, bytes.Repeat([]byte{0xff}, 5000)} {
		sealed, err := k.Seal(plain, panAD)
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		got, err := k.Open(sealed, panAD)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("Open = %q, want %q", got, plain)
		}
		if strings.Contains(sealed, testPAN) {
			t.Fatalf("sealed value %q shows the PAN", sealed)
		}
	}
}

func TestOpenFailsWhenTheAssociatedDataDiffers(t *testing.T) {
	k := mustKeyring(t, spec(1, "a", 1))
	sealed, err := k.Seal([]byte(testPAN), panAD)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ad   vault.AD
	}{
		{"another table", vault.AD{Table: "ds_transactions", Column: panAD.Column, Row: panAD.Row}},
		{"another column", vault.AD{Table: panAD.Table, Column: "email", Row: panAD.Row}},
		{"another row", vault.AD{Table: panAD.Table, Column: panAD.Column, Row: "8a880dc0-d2d2-4067-bcb1-b08d1690b26f"}},
		{"no row", vault.AD{Table: panAD.Table, Column: panAD.Column}},
		{"the same text split differently between table and column", vault.AD{Table: panAD.Table + "p", Column: "an", Row: panAD.Row}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := k.Open(sealed, tt.ad)
			if !errors.Is(err, vault.ErrAuthentication) {
				t.Fatalf("Open = %q, %v; want ErrAuthentication", got, err)
			}
		})
	}
}

func TestOpenFailsWhenAnyByteIsTampered(t *testing.T) {
	k := mustKeyring(t, spec(1, "a", 1))
	sealed, err := k.Seal([]byte(testPAN), panAD)
	if err != nil {
		t.Fatal(err)
	}
	raw := decodeSealed(t, sealed)
	for i := range raw {
		for _, flip := range []byte{0x01, 0x80, 0xff} {
			bad := bytes.Clone(raw)
			bad[i] ^= flip
			got, err := k.Open(encodeSealed(bad), panAD)
			if err == nil {
				t.Fatalf("byte %d ^ %#x: Open = %q, want an error", i, flip, got)
			}
			if strings.Contains(err.Error(), testPAN) {
				t.Fatalf("error %q shows the PAN", err)
			}
		}
	}
	// Cutting the value short or extending it must fail too.
	for _, bad := range [][]byte{raw[:len(raw)-1], append(bytes.Clone(raw), 0)} {
		if _, err := k.Open(encodeSealed(bad), panAD); err == nil {
			t.Fatalf("Open of a %d-byte value succeeded", len(bad))
		}
	}
}

func TestOpenRejectsTextThatIsNotASealedValue(t *testing.T) {
	k := mustKeyring(t, spec(1, "a", 1))
	sealed, _ := k.Seal([]byte(testPAN), panAD)
	tests := []struct{ name, text string }{
		{"an empty string", ""},
		{"a PAN in clear", testPAN},
		{"standard base64 with padding", sealed + "=="},
		{"a line break inside", sealed[:10] + "\n" + sealed[10:]},
		{"a value too short to hold a tag", sealed[:30]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := k.Open(tt.text, panAD); !errors.Is(err, vault.ErrMalformed) {
				t.Fatalf("Open err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestTwoSealsOfTheSamePANDiffer(t *testing.T) {
	k := mustKeyring(t, spec(1, "a", 1))
	a, _ := k.Seal([]byte(testPAN), panAD)
	b, _ := k.Seal([]byte(testPAN), panAD)
	if a == b {
		t.Fatalf("two seals gave the same value %q; the nonce is not random", a)
	}
	if bytes.Equal(decodeSealed(t, a)[2:14], decodeSealed(t, b)[2:14]) {
		t.Fatal("the nonces of two seals are equal")
	}
}

func TestSealRequiresATableAndAColumn(t *testing.T) {
	k := mustKeyring(t, spec(1, "a", 1))
	for _, ad := range []vault.AD{{Column: "pan", Row: "1"}, {Table: "t", Row: "1"}} {
		if _, err := k.Seal([]byte(testPAN), ad); err == nil {
			t.Errorf("Seal with AD %+v succeeded", ad)
		}
	}
}
