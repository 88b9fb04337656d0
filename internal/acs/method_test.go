package acs_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const methodTransID = "3dfc51f7-a5f7-440a-b848-ab95222dd6c8"

func methodData(id, notify string) string {
	b, _ := json.Marshal(map[string]string{"threeDSServerTransID": id, "threeDSMethodNotificationURL": notify})
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestThreeDSMethodStoresDeviceDataAndNotifies(t *testing.T) {
	s := newShop(t)
	ctx := context.Background()
	p := s.post(t, "/method", url.Values{"threeDSMethodData": {methodData(methodTransID, "https://merchant.example/method-done")}})
	if p.status != http.StatusOK {
		t.Fatalf("status %d: %s", p.status, p.body)
	}
	if !strings.Contains(p.body, `action="https://merchant.example/method-done"`) || !strings.Contains(p.body, `method="post"`) {
		t.Errorf("the page does not post to the notification URL: %s", p.body)
	}
	raw, err := base64.RawURLEncoding.DecodeString(p.field("threeDSMethodData"))
	if err != nil || string(raw) != `{"threeDSServerTransID":"`+methodTransID+`"}` {
		t.Errorf("notification threeDSMethodData = %s (%v)", raw, err)
	}
	if !strings.Contains(p.body, `<script src="/static/method.js" defer>`) || strings.Contains(p.body, "<script>") {
		t.Errorf("the script is not an external file")
	}
	if !strings.Contains(p.header.Get("Content-Security-Policy"), "frame-ancestors *") {
		t.Errorf("CSP %q does not allow the requestor's hidden iframe", p.header.Get("Content-Security-Policy"))
	}
	// Without script the server's view of the browser is already kept.
	d, err := s.e.store.DeviceData(ctx, methodTransID)
	if err != nil || !strings.Contains(d.Data, `"javaScript":false`) || d.DeviceKey == "" || d.IP != "127.0.0.1" {
		t.Fatalf("device data after the page: %+v %v", d, err)
	}
	// With script the page reports the browser's traits.
	fp := strings.Repeat("ab", 32)
	traits := `{"screen":"1280x800x24","colorDepth":24,"timeZone":"Asia/Tokyo","tzOffset":-540,"languages":"ja,en","platform":"Linux x86_64","fingerprint":"` + fp + `","name":"Taro"}`
	got := s.post(t, "/method/data", url.Values{"id": {methodTransID}, "traits": {traits}})
	if got.status != http.StatusNoContent {
		t.Fatalf("traits: %d %s", got.status, got.body)
	}
	d, _ = s.e.store.DeviceData(ctx, methodTransID)
	if d.DeviceKey != fp[:32] || !strings.Contains(d.Data, "Asia/Tokyo") || !strings.Contains(d.Data, `"javaScript":true`) {
		t.Errorf("device data after the traits: %+v", d)
	}
	if strings.Contains(d.Data, "Taro") {
		t.Errorf("a field outside the known traits was kept")
	}
}

func TestThreeDSMethodRefusesBadInput(t *testing.T) {
	s := newShop(t)
	cases := []struct{ name, path, field, value, id string }{
		{"method data that is not base64 gets a 400 page", "/method", "threeDSMethodData", "%%%", ""},
		{"method data that is not JSON gets a 400 page", "/method", "threeDSMethodData", base64.RawURLEncoding.EncodeToString([]byte("hello")), ""},
		{"a transaction id that is no UUID gets a 400 page", "/method", "threeDSMethodData", methodData("42", "https://m.example/n"), ""},
		{"a notification URL that is not http(s) gets a 400 page", "/method", "threeDSMethodData", methodData(methodTransID, "javascript:alert(1)"), ""},
		{"a notification URL over 256 characters gets a 400 page", "/method", "threeDSMethodData", methodData(methodTransID, "https://m.example/"+strings.Repeat("a", 250)), ""},
		{"traits that are not JSON get a 422 problem", "/method/data", "traits", "{", methodTransID},
		{"a fingerprint that is not a hash gets a 422 problem", "/method/data", "traits", `{"fingerprint":"x"}`, methodTransID},
		{"traits without a UUID get a 422 problem", "/method/data", "traits", `{}`, "nope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{tc.field: {tc.value}}
			if tc.id != "" {
				form.Set("id", tc.id)
			}
			p := s.post(t, tc.path, form)
			if p.status != http.StatusBadRequest && p.status != http.StatusUnprocessableEntity {
				t.Errorf("status %d: %s", p.status, p.body)
			}
		})
	}
}
