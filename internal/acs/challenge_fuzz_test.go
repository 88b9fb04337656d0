package acs_test

import (
	"testing"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/emv"
)

// The browser-facing parsers must answer any input with a value or an error, never a panic, and an
// error must be one the handlers can turn into an Erro or a page.
func FuzzDecodeCReq(f *testing.F) {
	f.Add(creq("0c25afb2-246f-40c3-a162-9c82c19d3c90", methodTransID, "2.2.0", "03"))
	f.Add(creq("0c25afb2-246f-40c3-a162-9c82c19d3c90", methodTransID, "2.2.0", ""))
	f.Add("eyJtZXNzYWdlVHlwZSI6IkNSZXEifQ")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := acs.DecodeCReq(s)
		if err == nil && c == nil {
			t.Fatal("no CReq and no error")
		}
		if err != nil && emv.AsError(err) == nil {
			t.Fatalf("error is no *emv.Error: %v", err)
		}
	})
}

func FuzzDecodeMethodData(f *testing.F) {
	f.Add(methodData(methodTransID, "https://merchant.example/n"))
	f.Add(methodData("x", "ftp://a"))
	f.Add("e30")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := acs.DecodeMethodData(s)
		if err == nil && (len(m.NotificationURL) > 256 || len(m.ThreeDSServerTransID) != 36) {
			t.Fatalf("accepted %+v", m)
		}
	})
}

func FuzzDecodeTraits(f *testing.F) {
	f.Add(`{"screen":"1x1x24","fingerprint":"` + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" + `"}`)
	f.Add(`{"fingerprint":"zz"}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, s string) {
		tr, err := acs.DecodeTraits(s)
		if err == nil && (len(tr.Languages) > 256 || (tr.Fingerprint != "" && len(tr.Fingerprint) != 64)) {
			t.Fatalf("accepted %+v", tr)
		}
	})
}
