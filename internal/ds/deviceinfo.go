package ds

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// errNotDeviceInfo is why decrypted sdkEncData was refused. The texts name the member at fault and
// never quote the data: they reach the log, and device information is the cardholder's.
type errNotDeviceInfo string

func (e errNotDeviceInfo) Error() string {
	return "sdkEncData decrypts to no device information: " + string(e)
}

// CheckDeviceInfo reports whether data, decrypted sdkEncData, is device information as SDKs write
// it: one JSON object (UTF-8) with DV, the data version, a non-empty string; DD, the device data, an
// object; and, when present, DPNA (the parameters not available) an object and SW (the warnings) an
// array. Other members are left alone, as a later data version may add some. Member names are
// matched exactly: encoding/json would take "dv" for DV.
func CheckDeviceInfo(data []byte) error {
	if !utf8.Valid(data) {
		return errNotDeviceInfo("not UTF-8")
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil || members == nil {
		return errNotDeviceInfo("not a JSON object")
	}
	var dv string
	switch {
	case kind(members["DV"]) != '"' || json.Unmarshal(members["DV"], &dv) != nil || dv == "":
		return errNotDeviceInfo("DV is not a non-empty string")
	case kind(members["DD"]) != '{':
		return errNotDeviceInfo("DD is not an object")
	case members["DPNA"] != nil && kind(members["DPNA"]) != '{':
		return errNotDeviceInfo("DPNA is not an object")
	case members["SW"] != nil && kind(members["SW"]) != '[':
		return errNotDeviceInfo("SW is not an array")
	}
	return nil
}

// kind is the first byte of a JSON value (encoding/json has trimmed the space around a member), or
// 0 for an absent one.
func kind(v json.RawMessage) byte {
	if len(v) == 0 {
		return 0
	}
	return v[0]
}

// encodeDeviceInfo writes checked device information as the deviceInfo element in format f: a JSON
// string of its unpadded base64url encoding, or the object itself, compacted.
func encodeDeviceInfo(data []byte, f DeviceInfoFormat) (json.RawMessage, error) {
	if f == DeviceInfoJSON {
		var out bytes.Buffer
		if err := json.Compact(&out, data); err != nil {
			return nil, errors.New("compacting the device information failed")
		}
		return out.Bytes(), nil
	}
	return json.Marshal(base64.RawURLEncoding.EncodeToString(data))
}
