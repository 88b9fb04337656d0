package threedsserver

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/httpx"
)

// RequestorData is what the merchant, as the 3DS Requestor, knows of the cardholder and the purchase
// beyond the purchase itself (issue 16, the 2.3.1 data): how the cardholder logged in to the
// merchant, whether the cardholder put the merchant on a trust list or bound the device, and for
// 2.3.1 the sellers, the payee, the buyer's tax id, a multi-transaction and Secure Payment
// Confirmation support. A browser authentication sends it with authenticate, an app or 3RI one with
// the start.
//
// Each field goes only in the versions that have it. A field the card's range's version lacks is
// refused with 422 naming the field and the version, rather than dropped: a merchant that counts on
// an issuer seeing a FIDO login or a trust-list entry must learn that it will not. The browser
// start's answer carries messageVersion, so a merchant can leave such fields out before it calls
// authenticate. trustListStatus is the exception that is not refused on 2.2.0: 2.2.0 names the same
// element whiteListStatus, and the 3DS Server sends it under that name.
type RequestorData struct {
	RequestorAuthentication *RequestorAuthentication `json:"requestorAuthentication,omitempty"`
	// TrustListStatus is Y or N: whether the cardholder has put the merchant on the issuer's trust
	// list, as far as the merchant knows (trustListStatus in 2.3.1, whiteListStatus in 2.2.0).
	TrustListStatus string `json:"trustListStatus,omitempty"`
	// DeviceBindingStatus is the 2.3.1 deviceBindingStatus code (2.3.1 only).
	DeviceBindingStatus string                `json:"deviceBindingStatus,omitempty"`
	MultiTransaction    *emv.MultiTransaction `json:"multiTransaction,omitempty"`
	PayeeOrigin         string                `json:"payeeOrigin,omitempty"`
	SellerInfo          []emv.SellerInfo      `json:"sellerInfo,omitempty"`
	TaxID               string                `json:"taxId,omitempty"`
	// SPCSupport true says the merchant's page can run Secure Payment Confirmation (browser, 2.3.1).
	SPCSupport *bool `json:"spcSupport,omitempty"`
}

// RequestorAuthentication is how and when the cardholder logged in to the merchant
// (threeDSRequestorAuthenticationInfo). Method is a name or the two-digit code; Time is RFC 3339;
// Data is the method's evidence: for "fido" and "fido-signed" the WebAuthn assertion, either the
// object PublicKeyCredential.toJSON() gives or a string in one of the encodings internal/emv reads.
type RequestorAuthentication struct {
	Method string          `json:"method"`
	Time   string          `json:"time"`
	Data   json.RawMessage `json:"data,omitempty"`
}

// authMethods are threeDSReqAuthMethod's readable names, each with the first version that has it.
var authMethods = []struct{ name, code, since string }{
	{"guest", "01", emv.Version210}, {"own-credentials", "02", emv.Version210}, {"federated", "03", emv.Version210},
	{"issuer-credentials", "04", emv.Version210}, {"third-party", "05", emv.Version210}, {"fido", "06", emv.Version210},
	{"fido-signed", "07", emv.Version220}, {"src", "08", emv.Version220},
}

// authMethodCode is the code of a method given by name or code ("" for neither) and its first version.
// 09 (2.3.1 only, meaning not settled in our sources) and the DS range 80–99 are taken as codes.
func authMethodCode(v string) (code, since string) {
	for _, m := range authMethods {
		if v == m.name || v == m.code {
			return m.code, m.since
		}
	}
	switch {
	case v == "09":
		return v, emv.Version231
	case digits(v, 2, 2) && v >= "80":
		return v, emv.Version210
	}
	return "", ""
}

// present reports whether the merchant sent any of the data.
func (d *RequestorData) present() bool {
	return d.RequestorAuthentication != nil || d.TrustListStatus != "" || d.DeviceBindingStatus != "" ||
		d.MultiTransaction != nil || d.PayeeOrigin != "" || d.SellerInfo != nil || d.TaxID != "" || d.SPCSupport != nil
}

// names lists the fields that were sent, for a request that may not carry them.
func (d *RequestorData) names() []string {
	var out []string
	for _, f := range []struct {
		name string
		set  bool
	}{{"requestorAuthentication", d.RequestorAuthentication != nil}, {"trustListStatus", d.TrustListStatus != ""},
		{"deviceBindingStatus", d.DeviceBindingStatus != ""}, {"multiTransaction", d.MultiTransaction != nil},
		{"payeeOrigin", d.PayeeOrigin != ""}, {"sellerInfo", d.SellerInfo != nil}, {"taxId", d.TaxID != ""},
		{"spcSupport", d.SPCSupport != nil}} {
		if f.set {
			out = append(out, f.name)
		}
	}
	return out
}

// check names every field that is malformed, or that the version or the channel lacks. What only
// the AReq's dictionary settles (the WebAuthn assertion, seller and multi-transaction members, code
// ranges) is left to emv.Validate, whose findings requestorDataField turns back into these names.
func (d *RequestorData) check(version, channel string, bad func(field, detail string)) {
	lacks := func(f, since string) {
		bad(f, "exists from "+since+" on; this card's range speaks "+version)
	}
	if a := d.RequestorAuthentication; a != nil {
		code, since := authMethodCode(a.Method)
		switch {
		case code == "":
			bad("requestorAuthentication.method", "must be guest, own-credentials, federated, issuer-credentials, third-party, fido, fido-signed, src or a two-digit code")
		case emv.CompareVersions(version, since) < 0:
			lacks("requestorAuthentication.method", since)
		}
		if _, err := time.Parse(time.RFC3339, a.Time); err != nil {
			bad("requestorAuthentication.time", "is required: when the cardholder logged in, RFC 3339")
		}
		if _, ok := authData(a.Data); !ok {
			bad("requestorAuthentication.data", "must be a string or, for a FIDO login, the assertion's JSON object")
		}
		if (code == "06" || code == "07") && len(a.Data) == 0 {
			bad("requestorAuthentication.data", "is required for a FIDO login: the WebAuthn assertion")
		}
	}
	switch d.TrustListStatus {
	case "", "Y", "N":
		if d.TrustListStatus != "" && version == emv.Version210 {
			lacks("trustListStatus", emv.Version220+" (as whiteListStatus)")
		}
	default:
		bad("trustListStatus", "must be Y or N")
	}
	for _, f := range []struct {
		name string
		set  bool
	}{{"deviceBindingStatus", d.DeviceBindingStatus != ""}, {"multiTransaction", d.MultiTransaction != nil},
		{"payeeOrigin", d.PayeeOrigin != ""}, {"sellerInfo", d.SellerInfo != nil}, {"taxId", d.TaxID != ""},
		{"spcSupport", d.SPCSupport != nil && channel == emv.ChannelBrowser}} {
		if f.set && version != emv.Version231 {
			lacks(f.name, emv.Version231)
		}
	}
	if d.SPCSupport != nil && channel != emv.ChannelBrowser {
		bad("spcSupport", "belongs to a browser authentication: Secure Payment Confirmation runs in the shopper's browser")
	}
}

// authData is threeDSReqAuthData from the merchant's data: a JSON string as it is, an object (the
// assertion as toJSON() gives it) compacted and base64url-encoded, nothing for none.
func authData(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return "", true
	case raw[0] == '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err == nil
	case raw[0] == '{':
		c := compactJSON(raw)
		return emv.EncodeBase64URL(c), c != nil
	}
	return "", false
}

// fill puts the data into the AReq, in the shape of the AReq's version; check has passed.
func (d *RequestorData) fill(a *emv.AReq) {
	if ra := d.RequestorAuthentication; ra != nil {
		code, _ := authMethodCode(ra.Method)
		at, _ := time.Parse(time.RFC3339, ra.Time)
		data, _ := authData(ra.Data)
		info := emv.ThreeDSRequestorAuthenticationInfo{ThreeDSReqAuthMethod: code,
			ThreeDSReqAuthTimestamp: at.UTC().Format("200601021504"), ThreeDSReqAuthData: data}
		if a.MessageVersion == emv.Version231 {
			a.ThreeDSRequestorAuthenticationInfo = emv.Many(info)
		} else {
			a.ThreeDSRequestorAuthenticationInfo = emv.One(info)
		}
	}
	// The merchant's own word: source 01, the 3DS Server [our reading of the source codes].
	if d.TrustListStatus != "" {
		if a.MessageVersion == emv.Version231 {
			a.TrustListStatus, a.TrustListStatusSource = d.TrustListStatus, "01"
		} else {
			a.WhiteListStatus, a.WhiteListStatusSource = d.TrustListStatus, "01"
		}
	}
	if d.DeviceBindingStatus != "" {
		a.DeviceBindingStatus, a.DeviceBindingStatusSource = d.DeviceBindingStatus, "01"
	}
	a.MultiTransaction, a.PayeeOrigin, a.SellerInfo, a.TaxID = d.MultiTransaction, d.PayeeOrigin, d.SellerInfo, d.TaxID
	if d.SPCSupport != nil && *d.SPCSupport {
		a.ThreeDSRequestorSpcSupport = "Y"
	}
}

// requestorDataField maps an AReq element that RequestorData fills to the merchant's field.
func requestorDataField(el string) (string, bool) {
	for _, p := range []struct{ areq, req string }{
		{"threeDSRequestorAuthenticationInfo.threeDSReqAuthMethod", "requestorAuthentication.method"},
		{"threeDSRequestorAuthenticationInfo.threeDSReqAuthTimestamp", "requestorAuthentication.time"},
		{"threeDSRequestorAuthenticationInfo.threeDSReqAuthData", "requestorAuthentication.data"},
		{"threeDSRequestorAuthenticationInfo", "requestorAuthentication"},
		{"whiteListStatusSource", "trustListStatus"}, {"whiteListStatus", "trustListStatus"},
		{"trustListStatusSource", "trustListStatus"}, {"trustListStatus", "trustListStatus"},
		{"deviceBindingStatusSource", "deviceBindingStatus"}, {"deviceBindingStatus", "deviceBindingStatus"},
		{"threeDSRequestorSpcSupport", "spcSupport"},
	} {
		if el == p.areq || strings.HasPrefix(el, p.areq+".") {
			return p.req + strings.TrimPrefix(el, p.areq), true
		}
	}
	for _, same := range []string{"multiTransaction", "payeeOrigin", "sellerInfo", "taxId"} {
		if el == same || strings.HasPrefix(el, same+".") || strings.HasPrefix(el, same+"[") {
			return el, true
		}
	}
	return "", false
}

// requestorDataProblem is check as a problem, nil when all is well.
func (d *RequestorData) problem(version, channel string) error {
	var fe []httpx.FieldError
	d.check(version, channel, func(f, detail string) { fe = append(fe, httpx.FieldError{Field: f, Detail: detail}) })
	if fe != nil {
		return httpx.Invalid(fe...)
	}
	return nil
}
