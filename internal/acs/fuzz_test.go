package acs_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/emv"
)

// FuzzDecodeAReq feeds the AReq endpoint's decode path arbitrary bodies: it must never panic, and
// every failure must be a protocol error an Erro can carry.
func FuzzDecodeAReq(f *testing.F) {
	for _, v := range emv.Versions {
		for _, name := range []string{"areq-browser-pa", "areq-app-pa", "areq-3ri-npa"} {
			if b, err := os.ReadFile(filepath.Join("..", "emv", "testdata", "valid", v, name+".json")); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := acs.DecodeAReq(body)
		if err != nil {
			e := emv.AsError(err)
			if e == nil {
				t.Fatalf("a failure that is not a protocol error: %v", err)
			}
			if erro := emv.ErroFor(err, emv.ComponentACS, emv.Version220); erro.ErrorCode == "" {
				t.Fatalf("an Erro without a code for %v", err)
			}
			return
		}
		if a.DSTransID == "" || a.AcctNumber == "" {
			t.Fatalf("an accepted AReq lacks dsTransID or acctNumber")
		}
	})
}
