package authvalue_test

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/authvalue"
)

func TestCreateThenVerifyReportsTheKeyOutcomeAndTime(t *testing.T) {
	k := mustKeys(t, spec(1, 1))
	for _, outcome := range []byte{'Y', 'A'} {
		f := facts
		f.Outcome = outcome
		v := mustCreate(t, k, f)
		if len(v) != 28 {
			t.Fatalf("value %q has %d characters, want 28", v, len(v))
		}
		if raw, err := base64.StdEncoding.DecodeString(v); err != nil || len(raw) != 20 {
			t.Fatalf("value %q is not standard base64 of 20 bytes: %d, %v", v, len(raw), err)
		}
		for _, want := range []byte{outcome, 0} {
			f.Outcome = want
			c, err := k.Verify(v, f)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			wantTime := facts.Time.Truncate(time.Second)
			if !c.Valid || c.KeyID != 1 || c.Outcome != outcome || !c.Time.Equal(wantTime) {
				t.Fatalf("Verify(outcome %q) = %+v, want valid, key 1, outcome %q, time %s", want, c, outcome, wantTime)
			}
		}
	}
}

func TestCreateIsDeterministicAndMatchesTheDocumentedLayout(t *testing.T) {
	k := mustKeys(t, spec(1, 1))
	v := mustCreate(t, k, facts)
	if v != mustCreate(t, k, facts) {
		t.Fatal("two values for the same facts differ")
	}
	// Computed independently with Python (hmac, hashlib) from the layout documented in value.go:
	// header 01 01 59 + uint32(seconds since 2020-01-01), MAC over length-prefixed fields.
	const want = "AQFZDPrXt85u9Wcbo2oikeOwafQ="
	if v != want {
		t.Fatalf("Create = %s, want %s", v, want)
	}
}

func TestAnyChangedByteOfTheValueFailsVerification(t *testing.T) {
	k := mustKeys(t, spec(1, 1))
	raw, _ := base64.StdEncoding.DecodeString(mustCreate(t, k, facts))
	for i := range raw {
		for _, flip := range []byte{0x01, 0x02, 0x10, 0x80, 0xff} {
			bad := append([]byte(nil), raw...)
			bad[i] ^= flip
			c, err := k.Verify(base64.StdEncoding.EncodeToString(bad), facts)
			if c.Valid || (c != authvalue.Check{}) {
				t.Fatalf("byte %d ^ %#x: Verify = %+v, %v; want not valid and nothing reported", i, flip, c, err)
			}
		}
	}
}

func TestAnyChangedFactFailsVerification(t *testing.T) {
	k := mustKeys(t, spec(1, 1))
	v := mustCreate(t, k, facts)
	tests := []struct {
		name   string
		change func(*authvalue.Facts)
	}{
		{"another transaction", func(f *authvalue.Facts) { f.ACSTransID = "3f6a3b8e-5d0c-4d1e-9b7a-2c1f0e9d8c7c" }},
		{"another card", func(f *authvalue.Facts) { f.PAN = "4111111111111112" }},
		{"another amount", func(f *authvalue.Facts) { f.Amount = "12346" }},
		{"another currency", func(f *authvalue.Facts) { f.Currency = "840" }},
		{"another merchant", func(f *authvalue.Facts) { f.Merchant = "MERCHANT-0002" }},
		{"the attempted outcome instead of authenticated", func(f *authvalue.Facts) { f.Outcome = 'A' }},
		{"a digit moved from the amount to the currency", func(f *authvalue.Facts) { f.Amount, f.Currency = "1234", "5978" }},
		{"no merchant", func(f *authvalue.Facts) { f.Merchant = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := facts
			tt.change(&f)
			c, err := k.Verify(v, f)
			if err != nil || c.Valid {
				t.Fatalf("Verify = %+v, %v; want not valid and no error", c, err)
			}
		})
	}
	// The time in the facts is not bound: Verify reads it from the value.
	f := facts
	f.Time = time.Time{}
	if c, err := k.Verify(v, f); err != nil || !c.Valid {
		t.Fatalf("Verify with another time in the facts = %+v, %v; want valid", c, err)
	}
}

func TestRotatedKeysVerifyOldValuesOnlyWhileTheOldKeyIsKept(t *testing.T) {
	old := mustCreate(t, mustKeys(t, spec(1, 1)), facts)

	rotated := mustKeys(t, spec(2, 1, 2))
	if c, err := rotated.Verify(old, facts); err != nil || !c.Valid || c.KeyID != 1 {
		t.Fatalf("Verify(old) after rotation = %+v, %v; want valid under key 1", c, err)
	}
	fresh := mustCreate(t, rotated, facts)
	if c, _ := rotated.Verify(fresh, facts); !c.Valid || c.KeyID != 2 {
		t.Fatalf("Verify(fresh) = %+v, want valid under key 2", c)
	}

	retired := mustKeys(t, spec(2, 2))
	if c, err := retired.Verify(old, facts); !errors.Is(err, authvalue.ErrUnknownKey) || c.Valid {
		t.Fatalf("Verify(old) once key 1 is removed = %+v, %v; want ErrUnknownKey", c, err)
	}
	// Another key under the same version number does not verify either.
	other := mustKeys(t, "current=1;1="+testKey("other"))
	if c, err := other.Verify(old, facts); err != nil || c.Valid {
		t.Fatalf("Verify under another key 1 = %+v, %v; want not valid", c, err)
	}
}
