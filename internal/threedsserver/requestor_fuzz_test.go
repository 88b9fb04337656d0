package threedsserver

import (
	"encoding/json"
	"testing"

	"github.com/open3ds/open3ds/internal/emv"
)

// FuzzRequestorData feeds the merchant's requestor data, as JSON, to its checks for each version
// and channel: nothing panics, and what passes the checks for 2.1.0 or 2.2.0 never puts an element
// of a later version into the AReq.
func FuzzRequestorData(f *testing.F) {
	f.Add(`{"requestorAuthentication":{"method":"fido","time":"2026-12-06T05:00:00Z","data":{"id":"x","response":{}}},"trustListStatus":"Y"}`)
	f.Add(`{"requestorAuthentication":{"method":"07","time":"2026-12-06T05:00:00+01:00","data":"eyJ9"}}`)
	f.Add(`{"deviceBindingStatus":"11","taxId":"FR1","payeeOrigin":"https://a.example","spcSupport":true,"sellerInfo":[{"sellerName":"S"}],"multiTransaction":{"avNumberUse":"2"}}`)
	f.Add(`{"requestorAuthentication":{"method":"guest","time":"x","data":12}}`)
	f.Fuzz(func(t *testing.T, s string) {
		var d RequestorData
		if json.Unmarshal([]byte(s), &d) != nil {
			return
		}
		for _, v := range []string{emv.Version210, emv.Version220, emv.Version231} {
			for _, ch := range []string{emv.ChannelBrowser, emv.ChannelApp, emv.Channel3RI} {
				ok := true
				d.check(v, ch, func(string, string) { ok = false })
				if !ok {
					continue
				}
				a := &emv.AReq{MessageVersion: v}
				d.fill(a)
				if v != emv.Version231 && (a.TrustListStatus != "" || a.DeviceBindingStatus != "" || a.PayeeOrigin != "" ||
					a.SellerInfo != nil || a.TaxID != "" || a.MultiTransaction != nil || a.ThreeDSRequestorSpcSupport != "" ||
					a.ThreeDSRequestorAuthenticationInfo.List) {
					t.Fatalf("%s AReq with later elements from %s: %+v", v, s, a)
				}
				if v == emv.Version210 && a.WhiteListStatus != "" {
					t.Fatalf("2.1.0 AReq with whiteListStatus from %s", s)
				}
				if a.ThreeDSRequestorSpcSupport != "" && ch != emv.ChannelBrowser {
					t.Fatalf("SPC support from channel %s", ch)
				}
			}
		}
	})
}
