package acs

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// AppDevice is the device information of an app's 3DS SDK (PROTOCOL.md §1.5): the data version
// (DV), the device parameters by id (DD: C001 platform, C002 model, …), and the SDK's security
// warnings (SW: SW01 jailbroken or rooted, SW02 tampered, SW03 emulator, SW04 debugger, SW05 OS
// not supported). DPNA (parameters not available) is not used.
type AppDevice struct {
	Version  string
	Data     map[string]string
	Warnings []string
}

// ReadDeviceInfo reads the AReq's deviceInfo, which the DS fills from sdkEncData. Our DS sends a
// JSON string holding the base64url encoding (unpadded) of the SDK's JSON; other DSs forward the
// JSON object itself, so both are accepted (and padded or standard base64 too: being strict here
// would only lose risk facts, not protect anything). ok is false when there is none or it cannot
// be read, which the risk engine sees as no device data.
func ReadDeviceInfo(raw json.RawMessage) (AppDevice, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return AppDevice{}, false
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return AppDevice{}, false
		}
		s = strings.TrimSpace(s)
		var dec []byte
		var err error
		for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
			if dec, err = enc.DecodeString(s); err == nil {
				break
			}
		}
		if err != nil {
			return AppDevice{}, false
		}
		raw = bytes.TrimSpace(dec)
	}
	var m struct {
		DV string         `json:"DV"`
		DD map[string]any `json:"DD"`
		SW []any          `json:"SW"`
	}
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
		return AppDevice{}, false
	}
	d := AppDevice{Version: m.DV, Data: map[string]string{}}
	for k, v := range m.DD {
		// Values are strings in every SDK we know; a number or object is kept as its JSON text.
		if s, ok := v.(string); ok {
			d.Data[k] = s
		} else if b, err := json.Marshal(v); err == nil {
			d.Data[k] = string(b)
		}
	}
	for _, w := range m.SW {
		// Some SDKs send the codes, others objects with an id; either way the code is what counts.
		switch w := w.(type) {
		case string:
			d.Warnings = append(d.Warnings, w)
		case map[string]any:
			if id, ok := w["id"].(string); ok {
				d.Warnings = append(d.Warnings, id)
			}
		}
	}
	return d, true
}

// stableParams are the device parameters that stay put between purchases on one device: platform,
// model, OS name, advertising id, screen resolution and device name. Locale, time zone, IP
// address, location and OS version change (a trip, an update) and would make a known device look
// new.
var stableParams = []string{"C001", "C002", "C003", "C007", "C008", "C009"}

// Key names the device across transactions: a hash of the app's SDK instance (sdkAppID, stable per
// installation) and the device's stable parameters. A card seen before with the same app on the
// same hardware is a known device; the same app id on other hardware (a cloned installation) is
// not.
func (d AppDevice) Key(sdkAppID string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d:%s", len(sdkAppID), sdkAppID)
	for _, p := range stableParams {
		v := d.Data[p]
		fmt.Fprintf(h, "|%s=%d:%s", p, len(v), v)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
