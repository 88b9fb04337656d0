package sdkcrypto_test

import (
	"errors"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/sdkcrypto"
)

// FuzzDecryptSDKEncData feeds the DS's sdkEncData reader anything: it must answer ErrDecrypt or a
// plaintext, never panic.
func FuzzDecryptSDKEncData(f *testing.F) {
	s := testScheme(f)
	f.Add("eyJhbGciOiJkaXIiLCJlbmMiOiJBMTI4R0NNIn0..AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, compact string) {
		pt, err := s.dsKeys.DecryptSDKEncData(compact)
		if err != nil && !errors.Is(err, sdkcrypto.ErrDecrypt) {
			t.Fatalf("a failure that is not ErrDecrypt: %v", err)
		}
		if err == nil && pt == nil {
			t.Fatal("no error and no plaintext")
		}
	})
}

// FuzzVerifyJWS feeds the SDK's acsSignedContent check anything: nothing verifies that the ACS's
// key did not sign, and nothing panics.
func FuzzVerifyJWS(f *testing.F) {
	s := testScheme(f)
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Fuzz(func(t *testing.T, compact string) {
		if _, _, err := sdkcrypto.VerifyJWS(compact, s.roots, time.Now()); err == nil {
			t.Fatalf("%q verified", compact)
		}
	})
}

// FuzzParseJWK: a key is either a point on P-256 or ErrDecrypt.
func FuzzParseJWK(f *testing.F) {
	f.Add([]byte(`{"kty":"EC","crv":"P-256","x":"AQ","y":"AQ"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if k, err := sdkcrypto.ParseJWK(raw); err != nil && !errors.Is(err, sdkcrypto.ErrDecrypt) {
			t.Fatalf("a failure that is not ErrDecrypt: %v", err)
		} else if err == nil && len(k.Bytes()) != 65 {
			t.Fatalf("a key of %d bytes", len(k.Bytes()))
		}
	})
}
