package acs_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/risk"
)

func TestReadDeviceInfoTakesBase64urlAndPlainJSON(t *testing.T) {
	info := `{"DV":"1.7","DD":{"C001":"Android","C002":"Pixel 8","C005":"ja-JP"},"DPNA":{"C010":"RE02"},"SW":["SW01","SW03"]}`
	for _, tc := range []struct {
		name string
		raw  string
	}{
		{"a string of unpadded base64url, as our DS sends it", `"` + base64.RawURLEncoding.EncodeToString([]byte(info)) + `"`},
		{"a string of padded base64", `"` + base64.StdEncoding.EncodeToString([]byte(info+" ")) + `"`},
		{"the JSON object itself, as some DSs forward it", info},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, ok := acs.ReadDeviceInfo(json.RawMessage(tc.raw))
			if !ok || d.Version != "1.7" || d.Data["C002"] != "Pixel 8" || strings.Join(d.Warnings, ",") != "SW01,SW03" {
				t.Fatalf("read %+v, %v", d, ok)
			}
		})
	}
	for _, raw := range []string{``, `null`, `"not base64!"`, `"` + base64.RawURLEncoding.EncodeToString([]byte("[1]")) + `"`, `42`} {
		if d, ok := acs.ReadDeviceInfo(json.RawMessage(raw)); ok {
			t.Errorf("%q read as %+v", raw, d)
		}
	}
	a, _ := acs.ReadDeviceInfo(json.RawMessage(info))
	b, _ := acs.ReadDeviceInfo(json.RawMessage(strings.Replace(info, `"ja-JP"`, `"en-GB"`, 1)))
	c, _ := acs.ReadDeviceInfo(json.RawMessage(strings.Replace(info, "Pixel 8", "Pixel 9", 1)))
	if a.Key("app-1") != b.Key("app-1") {
		t.Errorf("a new locale made the device another one")
	}
	if a.Key("app-1") == c.Key("app-1") || a.Key("app-1") == a.Key("app-2") {
		t.Errorf("other hardware or another app installation is the same device")
	}
}

// TestAppDeviceInfoFeedsTheRiskEngine: with the real risk engine, the SDK's warnings become a
// reason, device information counts as device data, and the device is known the second time.
func TestAppDeviceInfoFeedsTheRiskEngine(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newACSOn(t, b.open)
			e.svc.Risk = acs.Risk(risk.DefaultSet())
			info := `{"DV":"1.7","DD":{"C001":"Android","C002":"Pixel 8"},"DPNA":{},"SW":["SW01","SW03"]}`
			send := func(deviceInfo any) []string {
				t.Helper()
				res := post(t, e.ds, e.url, areq(t, "2.2.0", "areq-app-pa", map[string]any{"acctNumber": panEnrolled, "deviceInfo": deviceInfo}))
				ares, ok := res.(*emv.ARes)
				if !ok {
					t.Fatalf("answer %+v", res)
				}
				tx, err := e.store.Transaction(t.Context(), ares.ACSTransID)
				if err != nil {
					t.Fatal(err)
				}
				return tx.Reasons
			}
			first := strings.Join(send(base64.RawURLEncoding.EncodeToString([]byte(info))), "; ")
			for _, want := range []string{"device_integrity: app device: jailbroken or rooted, emulator", "new_device"} {
				if !strings.Contains(first, want) {
					t.Errorf("reasons %q lack %q", first, want)
				}
			}
			if strings.Contains(first, "no_device_data") {
				t.Errorf("device information did not count as device data: %q", first)
			}
			second := strings.Join(send(json.RawMessage(info)), "; ")
			if strings.Contains(second, "new_device") || !strings.Contains(second, "device_integrity") {
				t.Errorf("the same device, sent as plain JSON, the second time: %q", second)
			}
			none := strings.Join(send(nil), "; ")
			if !strings.Contains(none, "no_device_data") {
				t.Errorf("no deviceInfo: %q", none)
			}
		})
	}
}
