package ds_test

import (
	"encoding/json"
	"testing"

	"github.com/open3ds/open3ds/internal/ds"
)

func TestDeviceInformationIsAnObjectWithDVAndDD(t *testing.T) {
	for _, c := range []struct {
		name string
		data string
		ok   bool
	}{
		{"what SDKs send passes", deviceJSON, true},
		{"DV and DD alone pass", `{"DV":"1.7","DD":{}}`, true},
		{"members a later data version adds pass", `{"DV":"2.0","DD":{"C001":"iOS"},"XX":1}`, true},
		{"space around the members passes", " {\n\"DV\" : \"1.7\" , \"DD\" : { } }\n", true},
		{"an array is not device information", `[{"DV":"1.7","DD":{}}]`, false},
		{"null is not", `null`, false},
		{"a string is not", `"DV"`, false},
		{"text is not", `Pixel 8`, false},
		{"nothing is not", ``, false},
		{"two objects are not", `{"DV":"1.7","DD":{}}{}`, false},
		{"without DV it is not", `{"DD":{}}`, false},
		{"a DV that is a number is not", `{"DV":1.7,"DD":{}}`, false},
		{"an empty DV is not", `{"DV":"","DD":{}}`, false},
		{"a DV of null is not", `{"DV":null,"DD":{}}`, false},
		{"dv in other capitals is not DV", `{"dv":"1.7","DD":{}}`, false},
		{"without DD it is not", `{"DV":"1.7"}`, false},
		{"a DD that is an array is not", `{"DV":"1.7","DD":[]}`, false},
		{"a DPNA that is not an object is not", `{"DV":"1.7","DD":{},"DPNA":["C010"]}`, false},
		{"an SW that is not an array is not", `{"DV":"1.7","DD":{},"SW":"SW01"}`, false},
		{"invalid UTF-8 is not", "{\"DV\":\"1.7\",\"DD\":{\"C001\":\"\xff\"}}", false},
	} {
		if err := ds.CheckDeviceInfo([]byte(c.data)); (err == nil) != c.ok {
			t.Errorf("%s: CheckDeviceInfo = %v, want ok %v", c.name, err, c.ok)
		}
	}
}

// FuzzCheckDeviceInfo: whatever a decrypted sdkEncData holds, the check never panics, and what it
// accepts is one JSON object whose DV is a non-empty string and whose DD is an object, so that the
// ACS can rely on both.
func FuzzCheckDeviceInfo(f *testing.F) {
	f.Add([]byte(deviceJSON))
	f.Add([]byte(`{"DV":"1.7","DD":{}}`))
	f.Add([]byte(`{"DV":1,"DD":{}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if ds.CheckDeviceInfo(data) != nil {
			return
		}
		// The members by their exact names: a struct would also take "dv" for DV.
		var members map[string]json.RawMessage
		if err := json.Unmarshal(data, &members); err != nil {
			t.Fatalf("accepted %q, which is not a JSON object: %v", data, err)
		}
		var dv string
		var dd map[string]any
		if err := json.Unmarshal(members["DV"], &dv); err != nil || dv == "" {
			t.Fatalf("accepted %q: DV %q, %v", data, dv, err)
		}
		if err := json.Unmarshal(members["DD"], &dd); err != nil || dd == nil {
			t.Fatalf("accepted %q: DD %v, %v", data, dd, err)
		}
	})
}
