package acs_test

import (
	"encoding/base64"
	"regexp"
	"testing"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/emv"
)

var threeDigits = regexp.MustCompile(`^[0-9]{3}$`)

// FuzzParseAppCReq: the reader of a decrypted app CReq answers anything with a CReq that carries
// what the endpoint relies on (the three ids and a three-digit counter), or an *emv.Error for the
// Erro, never a panic.
func FuzzParseAppCReq(f *testing.F) {
	f.Add(`{"messageType":"CReq","messageVersion":"2.2.0","threeDSServerTransID":"9cb2b211-8b18-442f-a535-ce8771a3bb5a",` +
		`"acsTransID":"0c25afb2-246f-40c3-a162-9c82c19d3c90","sdkTransID":"50ad3e27-544b-4688-8f04-70c5c0e835f7","sdkCounterStoA":"000"}`)
	f.Add(`{"messageType":"CReq","messageVersion":"2.2.0","threeDSServerTransID":"9cb2b211-8b18-442f-a535-ce8771a3bb5a",` +
		`"acsTransID":"0c25afb2-246f-40c3-a162-9c82c19d3c90","sdkTransID":"50ad3e27-544b-4688-8f04-70c5c0e835f7","sdkCounterStoA":"001",` +
		`"challengeDataEntry":"123456","oobContinue":true,"challengeCancel":"01"}`)
	f.Add(`{"messageType":"CReq","challengeNoEntry":"Y","challengeDataEntry":"1"}`)
	f.Add(`{"messageType":"CRes"}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := acs.ParseAppCReq([]byte(s), "2.2.0", "01")
		if err != nil {
			if emv.AsError(err).Code == emv.CodeTransientFailure {
				t.Fatalf("not a protocol error: %v", err)
			}
			return
		}
		if c.ACSTransID == "" || c.SDKTransID == "" || c.ThreeDSServerTransID == "" || !threeDigits.MatchString(c.SDKCounterStoA) {
			t.Fatalf("accepted %+v", c)
		}
	})
}

// FuzzReadDeviceInfo: deviceInfo in any shape gives device information or none, never a panic.
func FuzzReadDeviceInfo(f *testing.F) {
	info := `{"DV":"1.7","DD":{"C001":"Android","C002":"Pixel 8"},"DPNA":{},"SW":["SW01"]}`
	f.Add(`"` + base64.RawURLEncoding.EncodeToString([]byte(info)) + `"`)
	f.Add(info)
	f.Add(`{"DD":{"C001":1},"SW":[{"id":"SW03"}]}`)
	f.Add(`"e30="`)
	f.Add(`null`)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := acs.ReadDeviceInfo([]byte(s))
		if ok && d.Data == nil {
			t.Fatal("device information without its map")
		}
		if !ok && (d.Version != "" || len(d.Warnings) > 0) {
			t.Fatalf("no device information, yet %+v", d)
		}
	})
}
