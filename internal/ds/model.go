// Package ds is the Directory Server: the scheme's registry of ACSs, 3DS Servers and card ranges, and
// the protocol endpoint that answers PReq, routes AReq to the ACS of the card's range (or stands in
// for it by the scheme's policy) and relays RReq back to the 3DS Server that sent the AReq.
//
// The registry lives behind Store, which this package owns; SQLStore implements it on a store.DB.
// Server is the mutual-TLS protocol handler and Admin the bearer-token JSON API; `open3ds serve ds`
// and `open3ds enrol` only wire them.
package ds

import (
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/httpx"
)

// ACS is an issuer's Access Control Server as the scheme knows it. Name is the identity in its
// client certificate (pki Identity name), which is how the DS recognises it when it sends an RReq.
type ACS struct {
	Name            string `json:"name"`
	ReferenceNumber string `json:"referenceNumber"`
	OperatorID      string `json:"operatorId"`
	URL             string `json:"url"` // where it takes AReq
}

// ThreeDSServer is a registered 3DS Server and the 3DS Requestors it may send AReqs for.
type ThreeDSServer struct {
	Name            string   `json:"name"`
	ReferenceNumber string   `json:"referenceNumber"`
	OperatorID      string   `json:"operatorId"`
	RequestorIDs    []string `json:"requestorIds"`
}

// Range is a card range: the PANs from Start to End (equal lengths, 13–19 digits) belong to ACS.
// Start identifies the range, since ranges never overlap.
type Range struct {
	Start      string   `json:"start"`
	End        string   `json:"end"`
	ACS        string   `json:"acs"`
	ACSStart   string   `json:"acsStartProtocolVersion"`
	ACSEnd     string   `json:"acsEndProtocolVersion"`
	DSStart    string   `json:"dsStartProtocolVersion"`
	DSEnd      string   `json:"dsEndProtocolVersion"`
	MethodURL  string   `json:"threeDSMethodURL,omitempty"`
	ACSInfoInd []string `json:"acsInfoInd,omitempty"`
}

// Contains reports whether pan falls in r.
func (r Range) Contains(pan string) bool {
	return len(pan) == len(r.Start) && r.Start <= pan && pan <= r.End
}

// Overlaps reports whether r and o share a PAN.
func (r Range) Overlaps(o Range) bool {
	return len(r.Start) == len(o.Start) && r.Start <= o.End && o.Start <= r.End
}

// Supports reports whether version lies in both the ACS's and the DS's span for this range.
func (r Range) Supports(version string) bool {
	return emv.CompareVersions(r.ACSStart, version) <= 0 && emv.CompareVersions(version, r.ACSEnd) <= 0 &&
		emv.CompareVersions(r.DSStart, version) <= 0 && emv.CompareVersions(version, r.DSEnd) <= 0
}

// Policy is what the DS answers in the ACS's place.
type Policy string

// The stand-in policies: an attempts ARes (A, DS-made authentication value), U with reason 22
// (technical), or N with reason 13 (not enrolled).
const (
	PolicyAttempts    Policy = "attempts"
	PolicyUnavailable Policy = "unavailable"
	PolicyNotEnrolled Policy = "not-enrolled"
)

// Valid reports whether p is one of the policies.
func (p Policy) Valid() bool {
	return p == PolicyAttempts || p == PolicyUnavailable || p == PolicyNotEnrolled
}

// ECITable holds the ECI the scheme stamps per outcome.
type ECITable struct {
	Y string `json:"Y"`
	A string `json:"A"`
	N string `json:"N"`
}

// ECI tables of the two common styles (PROTOCOL.md §2.1).
var (
	ECIDefault    = ECITable{Y: "05", A: "06", N: "07"}
	ECIMastercard = ECITable{Y: "02", A: "01", N: "00"}
)

// Scheme is the DS's own settings. Serial is bumped by every registry change and read-only here.
type Scheme struct {
	DSID            string   `json:"dsId"`
	ReferenceNumber string   `json:"referenceNumber"`
	ECI             ECITable `json:"eci"`
	NotEnrolled     Policy   `json:"standInNotEnrolled"`
	Unavailable     Policy   `json:"standInUnavailable"`
	// UnknownSDK and DeviceInfo steer app AReqs (see app.go); empty means the default.
	UnknownSDK SDKPolicy        `json:"unknownSdk"`
	DeviceInfo DeviceInfoFormat `json:"deviceInfo"`
	Serial     int64            `json:"serial"`
}

// SDKPolicy is what the DS does with an app AReq whose sdkReferenceNumber is not in its registry of
// approved SDKs.
type SDKPolicy string

// The SDK policies. Reject answers Erro 303 naming sdkReferenceNumber: an unapproved SDK is a
// participant the scheme has not admitted, which is what 303 (access denied) says of a 3DS Server
// whose reference number is not the enrolled one; 203 would claim the value is malformed, which it
// is not. Accept routes the AReq and logs a warning, for a scheme that is still filling its registry.
const (
	SDKReject SDKPolicy = "reject"
	SDKAccept SDKPolicy = "accept"
)

// Valid reports whether p is one of the policies.
func (p SDKPolicy) Valid() bool { return p == SDKReject || p == SDKAccept }

// DeviceInfoFormat is how the DS writes the decrypted device information into the deviceInfo
// element of the AReq it forwards to the ACS.
type DeviceInfoFormat string

// The formats. Base64URL, the default, is a JSON string holding the unpadded base64url encoding of
// the device-information JSON as the SDK wrote it (our choice: our sources name the element but
// not its encoding, and a string keeps the SDK's bytes exactly). JSON is the object itself, for an
// ACS that wants that.
const (
	DeviceInfoBase64URL DeviceInfoFormat = "base64url"
	DeviceInfoJSON      DeviceInfoFormat = "json"
)

// Valid reports whether f is one of the formats.
func (f DeviceInfoFormat) Valid() bool { return f == DeviceInfoBase64URL || f == DeviceInfoJSON }

// withDefaults fills in the settings a client written before they existed leaves empty, so that its
// PUT of the scheme keeps working.
func (s Scheme) withDefaults() Scheme {
	if s.UnknownSDK == "" {
		s.UnknownSDK = SDKReject
	}
	if s.DeviceInfo == "" {
		s.DeviceInfo = DeviceInfoBase64URL
	}
	return s
}

// SDK is a 3DS SDK the scheme has approved, known by the sdkReferenceNumber EMVCo assigned it.
type SDK struct {
	ReferenceNumber string `json:"referenceNumber"`
	Description     string `json:"description,omitempty"` // the operator's note; the DS does not read it
}

// Validate checks an SDK before it is stored: the reference number as an AReq may carry it.
func (k SDK) Validate() error {
	var c fieldCheck
	c.need(maxLen(k.ReferenceNumber, 32) && printable(k.ReferenceNumber), "referenceNumber",
		"is required, at most 32 printable characters")
	c.need(len(k.Description) <= 256, "description", "must be at most 256 characters")
	return c.err()
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

var (
	panPattern     = regexp.MustCompile(`^[0-9]{13,19}$`)
	eciPattern     = regexp.MustCompile(`^[0-9]{2}$`)
	ridPattern     = regexp.MustCompile(`^[0-9A-F]{10}$`)
	namePattern    = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	acsInfoPattern = regexp.MustCompile(`^[0-9]{2}$`)
)

// fieldCheck collects the bad fields of one request so that a caller hears of all of them at once.
type fieldCheck []httpx.FieldError

func (c *fieldCheck) need(ok bool, field, detail string) {
	if !ok {
		*c = append(*c, httpx.FieldError{Field: field, Detail: detail})
	}
}

func (c fieldCheck) err() error {
	if len(c) == 0 {
		return nil
	}
	return httpx.Invalid(c...)
}

func maxLen(s string, n int) bool { return s != "" && len(s) <= n }

func validURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && len(s) <= 2048
}

// Validate checks an ACS before it is stored.
func (a ACS) Validate() error {
	var c fieldCheck
	c.need(namePattern.MatchString(a.Name), "name", "must be 1–64 letters, digits, dot, dash or underscore")
	c.need(maxLen(a.ReferenceNumber, 32), "referenceNumber", "is required, at most 32 characters")
	c.need(len(a.OperatorID) <= 32, "operatorId", "must be at most 32 characters")
	c.need(validURL(a.URL), "url", "must be an http(s) URL of at most 2048 characters")
	return c.err()
}

// Validate checks a 3DS Server before it is stored.
func (s ThreeDSServer) Validate() error {
	var c fieldCheck
	c.need(namePattern.MatchString(s.Name), "name", "must be 1–64 letters, digits, dot, dash or underscore")
	c.need(maxLen(s.ReferenceNumber, 32), "referenceNumber", "is required, at most 32 characters")
	c.need(len(s.OperatorID) <= 32, "operatorId", "must be at most 32 characters")
	for _, id := range s.RequestorIDs {
		c.need(maxLen(id, 35), "requestorIds", "each id must be 1–35 characters")
	}
	sorted := slices.Clone(s.RequestorIDs)
	slices.Sort(sorted)
	c.need(len(slices.Compact(sorted)) == len(s.RequestorIDs), "requestorIds", "must not repeat an id")
	return c.err()
}

// Validate checks a card range before it is stored; overlaps are the store's to find.
func (r Range) Validate() error {
	var c fieldCheck
	c.need(panPattern.MatchString(r.Start), "start", "must be 13–19 digits")
	c.need(panPattern.MatchString(r.End), "end", "must be 13–19 digits")
	if panPattern.MatchString(r.Start) && panPattern.MatchString(r.End) {
		c.need(len(r.Start) == len(r.End), "end", "must have as many digits as start")
		c.need(r.Start <= r.End, "end", "must not be below start")
	}
	c.need(r.ACS != "", "acs", "is required")
	for _, f := range []struct{ name, v string }{
		{"acsStartProtocolVersion", r.ACSStart}, {"acsEndProtocolVersion", r.ACSEnd},
		{"dsStartProtocolVersion", r.DSStart}, {"dsEndProtocolVersion", r.DSEnd},
	} {
		c.need(emv.IsSupportedVersion(f.v), f.name, "must be one of "+strings.Join(emv.Versions, ", "))
	}
	if emv.IsSupportedVersion(r.ACSStart) && emv.IsSupportedVersion(r.ACSEnd) {
		c.need(emv.CompareVersions(r.ACSStart, r.ACSEnd) <= 0, "acsEndProtocolVersion", "must not be below the start version")
	}
	if emv.IsSupportedVersion(r.DSStart) && emv.IsSupportedVersion(r.DSEnd) {
		c.need(emv.CompareVersions(r.DSStart, r.DSEnd) <= 0, "dsEndProtocolVersion", "must not be below the start version")
	}
	c.need(r.MethodURL == "" || (validURL(r.MethodURL) && len(r.MethodURL) <= 256), "threeDSMethodURL",
		"must be an http(s) URL of at most 256 characters")
	for _, v := range r.ACSInfoInd {
		c.need(acsInfoPattern.MatchString(v), "acsInfoInd", "each value must be two digits")
	}
	return c.err()
}

// Validate checks the scheme settings before they are stored.
func (s Scheme) Validate() error {
	var c fieldCheck
	c.need(ridPattern.MatchString(s.DSID), "dsId", "must be a RID of ten upper-case hex digits")
	c.need(maxLen(s.ReferenceNumber, 32), "referenceNumber", "is required, at most 32 characters")
	c.need(eciPattern.MatchString(s.ECI.Y), "eci.Y", "must be two digits")
	c.need(eciPattern.MatchString(s.ECI.A), "eci.A", "must be two digits")
	c.need(eciPattern.MatchString(s.ECI.N), "eci.N", "must be two digits")
	c.need(s.NotEnrolled.Valid(), "standInNotEnrolled", "must be attempts, unavailable or not-enrolled")
	c.need(s.Unavailable.Valid(), "standInUnavailable", "must be attempts, unavailable or not-enrolled")
	c.need(s.UnknownSDK.Valid(), "unknownSdk", "must be reject or accept")
	c.need(s.DeviceInfo.Valid(), "deviceInfo", "must be base64url or json")
	return c.err()
}
