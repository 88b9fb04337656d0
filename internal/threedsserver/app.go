package threedsserver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/sdkcrypto"
)

// The app channel of the merchant API (issue 15). The merchant's app runs a certified 3DS SDK, which
// encrypts the device information to the DS and makes an ephemeral key; the app hands those
// parameters to the merchant's back end, which starts the authentication with them. The 3DS Server
// sends the app AReq at once (an app has no 3DS Method), and a C answer carries what the SDK needs to
// run the challenge with the ACS directly. The result comes by RReq, as for the browser.

// The channels of StartRequest.Channel and Result.Channel.
const (
	ChannelBrowser = "browser"
	ChannelApp     = "app"
	Channel3RI     = "3ri"
)

// SDKParameters are the 3DS SDK's authentication request parameters as the app passed them on, and
// the challenge interfaces the app can show.
type SDKParameters struct {
	SDKAppID            string          `json:"sdkAppID"`
	SDKTransID          string          `json:"sdkTransID"`
	SDKEncData          string          `json:"sdkEncData"`
	SDKEphemPubKey      json.RawMessage `json:"sdkEphemPubKey"`
	SDKMaxTimeout       string          `json:"sdkMaxTimeout"`
	SDKReferenceNumber  string          `json:"sdkReferenceNumber"`
	DeviceRenderOptions RenderOptions   `json:"deviceRenderOptions"`
	// SDKType and DefaultSDKType go into a 2.3.1 AReq only. Without them a 2.3.1 AReq says a default
	// SDK (01) of the EMVCo variant (01), which is what a certified SDK is unless it says otherwise.
	SDKType        string          `json:"sdkType,omitempty"`
	DefaultSDKType *DefaultSDKType `json:"defaultSdkType,omitempty"`
	// MessageVersion, when set, is the highest protocol version the SDK speaks: the AReq goes in
	// no later a version, since every CReq and CRes of the challenge carries the AReq's.
	MessageVersion string `json:"messageVersion,omitempty"`
}

// RenderOptions are the AReq's deviceRenderOptions: the interfaces (01 native, 02 HTML, 03 both) and
// the UI types (01 text, 02 single select, 03 multi select, 04 OOB, 05 HTML) the app can show.
type RenderOptions struct {
	SDKInterface string   `json:"sdkInterface"`
	SDKUiType    []string `json:"sdkUiType"`
}

// DefaultSDKType is the 2.3.1 defaultSdkType object.
type DefaultSDKType struct {
	SDKVariant string `json:"sdkVariant"`
	WrappedInd string `json:"wrappedInd,omitempty"`
}

// AppChallenge is what the app's 3DS SDK starts the challenge with: the ids it puts in each CReq and
// the ACS's signed content, which holds the acsURL and the ACS's ephemeral key.
type AppChallenge struct {
	ThreeDSServerTransID string        `json:"threeDSServerTransID"`
	ACSTransID           string        `json:"acsTransID"`
	DSTransID            string        `json:"dsTransID"`
	SDKTransID           string        `json:"sdkTransID"`
	ACSReferenceNumber   string        `json:"acsReferenceNumber"`
	ACSSignedContent     string        `json:"acsSignedContent"`
	ACSRenderingType     RenderingType `json:"acsRenderingType"`
}

// RenderingType is the ARes's acsRenderingType: how the ACS will present the challenge.
type RenderingType struct {
	ACSInterface            string `json:"acsInterface"`
	ACSUiTemplate           string `json:"acsUiTemplate"`
	DeviceUserInterfaceMode string `json:"deviceUserInterfaceMode,omitempty"`
}

// validate checks a start request, naming every bad field. The browser channel carries the card
// number alone; the purchase comes with authenticate, after the 3DS Method.
func (req *StartRequest) validate() error {
	var fe []httpx.FieldError
	bad := func(f, d string) { fe = append(fe, httpx.FieldError{Field: f, Detail: d}) }
	pan := strings.ReplaceAll(req.CardNumber, " ", "")
	if !digits(pan, 13, 19) {
		bad("cardNumber", "must be 13-19 digits")
	} else if !emv.LuhnValid(pan) {
		// A mistyped number would otherwise go all the way to the DS, whose Erro 203 the merchant
		// would only see after the AReq; the shopper can fix it now.
		bad("cardNumber", "is not a valid card number (its check digit is wrong)")
	}
	payment := true
	switch req.MessageCategory {
	case "", CategoryPayment, emv.CategoryPayment:
	case CategoryNonPayment, emv.CategoryNonPayment:
		payment = false
	default:
		bad("messageCategory", `must be "payment" (01) or "non-payment" (02)`)
	}
	if req.Channel != Channel3RI {
		for _, f := range []struct {
			name string
			set  bool
		}{{"threeRIInd", req.ThreeRIInd != ""}, {"priorAuthentication", req.PriorAuthentication != nil},
			{"recurring", req.Recurring != nil}, {"instalments", req.Instalments != nil}} {
			if f.set {
				bad(f.name, "belongs to a 3RI authentication (channel 3ri)")
			}
		}
	}
	switch req.Channel {
	case "", ChannelBrowser:
		for _, f := range []struct {
			name string
			set  bool
		}{{"amount", req.Amount != ""}, {"currency", req.Currency != ""}, {"exponent", req.Exponent != nil},
			{"cardExpiryDate", req.CardExpiryDate != ""}, {"cardholderName", req.CardholderName != ""},
			{"email", req.Email != ""}, {"sdk", req.SDK != nil}, {"decoupled", req.Decoupled != nil}} {
			if f.set {
				bad(f.name, "belongs to an app or 3RI authentication; a browser one sends it with authenticate")
			}
		}
		for _, f := range req.RequestorData.names() {
			bad(f, "a browser authentication sends it with authenticate, once the start has told the message version")
		}
	case ChannelApp:
		checkAmount(payment, req.Amount, req.Currency, req.Exponent, req.CardExpiryDate, bad)
		if req.SDK == nil {
			bad("sdk", "is required for channel app: the 3DS SDK's authentication request parameters")
		} else {
			req.SDK.check(bad)
		}
		req.Decoupled.check(bad)
	case Channel3RI:
		checkAmount(payment, req.Amount, req.Currency, req.Exponent, req.CardExpiryDate, bad)
		if req.SDK != nil {
			bad("sdk", "belongs to an app authentication (channel app)")
		}
		req.check3RI(bad)
		if req.Decoupled != nil {
			bad("decoupled", "belongs to a browser or app authentication; a 3RI has no cardholder to approve")
		}
	default:
		bad("channel", "must be browser, app or 3ri")
	}
	if fe != nil {
		return httpx.Invalid(fe...)
	}
	return nil
}

// check checks the SDK's parameters as the AReq will need them, so that the merchant hears of a bad
// one by name before anything is sent.
func (p *SDKParameters) check(bad func(field, detail string)) {
	if !isUUID(p.SDKAppID) {
		bad("sdk.sdkAppID", "must be a UUID")
	}
	if !isUUID(p.SDKTransID) {
		bad("sdk.sdkTransID", "must be a UUID")
	}
	if p.SDKEncData == "" || len(p.SDKEncData) > 64000 {
		bad("sdk.sdkEncData", "is required: the SDK's device data as a compact JWE of at most 64000 characters")
	} else if _, err := sdkcrypto.ParseJWE(p.SDKEncData); err != nil {
		bad("sdk.sdkEncData", "is not a compact JWE")
	}
	if _, err := sdkcrypto.ParseJWK(p.SDKEphemPubKey); len(p.SDKEphemPubKey) == 0 || err != nil {
		bad("sdk.sdkEphemPubKey", "is required: the SDK's ephemeral public key as an EC P-256 JWK object")
	} else if compactJSON(p.SDKEphemPubKey) == nil || len(compactJSON(p.SDKEphemPubKey)) > 256 {
		bad("sdk.sdkEphemPubKey", "must be at most 256 characters of JSON")
	}
	if !digits(p.SDKMaxTimeout, 2, 2) || p.SDKMaxTimeout < "05" {
		bad("sdk.sdkMaxTimeout", "must be two digits, 05-99 (minutes)")
	}
	if p.SDKReferenceNumber == "" || len(p.SDKReferenceNumber) > 32 {
		bad("sdk.sdkReferenceNumber", "is required, at most 32 characters")
	}
	switch p.DeviceRenderOptions.SDKInterface {
	case "01", "02", "03":
	default:
		bad("sdk.deviceRenderOptions.sdkInterface", "must be 01 (native), 02 (HTML) or 03 (both)")
	}
	if len(p.DeviceRenderOptions.SDKUiType) == 0 {
		bad("sdk.deviceRenderOptions.sdkUiType", "is required: one or more of 01-05")
	}
	for _, u := range p.DeviceRenderOptions.SDKUiType {
		if !digits(u, 2, 2) || u < "01" || u > "07" {
			bad("sdk.deviceRenderOptions.sdkUiType", "must list UI types 01-05 (06 and 07 in 2.3.1)")
			break
		}
	}
	// Split SDKs (02) need a server part this 3DS Server does not speak to.
	if p.SDKType != "" && p.SDKType != "01" {
		bad("sdk.sdkType", "must be 01 (a default SDK)")
	}
	if p.MessageVersion != "" && !emv.IsSupportedVersion(p.MessageVersion) {
		bad("sdk.messageVersion", "must be 2.1.0, 2.2.0 or 2.3.1")
	}
	if d := p.DefaultSDKType; d != nil && (!digits(d.SDKVariant, 2, 2) || d.WrappedInd != "" && d.WrappedInd != "Y") {
		bad("sdk.defaultSdkType", "must have a two-digit sdkVariant and a wrappedInd of Y or none")
	}
}

// startApp sends the app AReq of the new transaction t and answers with its outcome: final, or C with
// what the SDK needs, or the error that ended it.
func (s *Server) startApp(w http.ResponseWriter, r *http.Request, m Merchant, t Transaction, req *StartRequest, pan string) error {
	ctx := r.Context()
	// An app authentication keeps no PAN: its AReq goes now, with the PAN still in memory.
	t.DeviceChannel, t.SDKTransID, t.MethodURL = emv.ChannelApp, req.SDK.SDKTransID, ""
	if v := req.SDK.MessageVersion; v != "" && emv.CompareVersions(t.MessageVersion, v) > 0 {
		t.MessageVersion = v
	}
	if err := req.RequestorData.problem(t.MessageVersion, emv.ChannelApp); err != nil {
		return err
	}
	areq := s.buildAppAReq(m, t, req, pan)
	if err := emv.Validate(areq, nil); err != nil {
		return appFieldProblem(err)
	}
	if err := s.cfg.Store.CreateTransaction(ctx, t); err != nil {
		return err
	}
	if err := s.cfg.Store.ClaimAReq(ctx, t.ID, s.cfg.Now()); err != nil {
		return err
	}
	t, ares, err := s.exchange(ctx, t, areq)
	if err != nil {
		return err
	}
	res := resultOf(t)
	if ares != nil && ares.TransStatus == "C" {
		// The ARes checks made sure a C for an app carries both the rendering type and the signed content.
		rt := RenderingType{}
		if ares.ACSRenderingType != nil {
			rt = RenderingType{ACSInterface: ares.ACSRenderingType.ACSInterface, ACSUiTemplate: ares.ACSRenderingType.ACSUiTemplate,
				DeviceUserInterfaceMode: ares.ACSRenderingType.DeviceUserInterfaceMode}
		}
		res.AppChallenge = &AppChallenge{ThreeDSServerTransID: t.ID, ACSTransID: ares.ACSTransID, DSTransID: ares.DSTransID,
			SDKTransID: t.SDKTransID, ACSReferenceNumber: ares.ACSReferenceNumber, ACSSignedContent: ares.ACSSignedContent,
			ACSRenderingType: rt}
	}
	return httpx.WriteJSON(w, http.StatusCreated, res)
}

// buildAppAReq makes the app AReq: the merchant and purchase as for the browser, the SDK's parameters
// in place of the browser's data, and no 3DS Method indicator.
func (s *Server) buildAppAReq(m Merchant, t Transaction, req *StartRequest, pan string) *emv.AReq {
	a := s.purchaseAReq(m, t, purchase{amount: req.Amount, currency: req.Currency, exponent: req.Exponent,
		expiry: req.CardExpiryDate, name: req.CardholderName, email: req.Email}, pan)
	p := req.SDK
	a.DeviceChannel = emv.ChannelApp
	a.SDKAppID, a.SDKTransID, a.SDKEncData, a.SDKEphemPubKey = p.SDKAppID, p.SDKTransID, p.SDKEncData, compactJSON(p.SDKEphemPubKey)
	a.SDKMaxTimeout, a.SDKReferenceNumber = p.SDKMaxTimeout, p.SDKReferenceNumber
	decoupledAReq(a, req.Decoupled)
	a.DeviceRenderOptions = &emv.DeviceRenderOptions{SDKInterface: p.DeviceRenderOptions.SDKInterface,
		SDKUiType: p.DeviceRenderOptions.SDKUiType}
	if t.MessageVersion == emv.Version231 {
		a.SDKType, a.DefaultSDKType = "01", &emv.DefaultSDKType{SDKVariant: "01"}
		if d := p.DefaultSDKType; d != nil {
			a.DefaultSDKType = &emv.DefaultSDKType{SDKVariant: d.SDKVariant, WrappedInd: d.WrappedInd}
		}
	}
	req.RequestorData.fill(a)
	return a
}

// appFieldProblem is fieldProblem for an app AReq: each element named is turned into the request
// field it came from, so that the merchant reads "sdk.sdkEncData" or "amount", not the AReq's names.
func appFieldProblem(err error) error {
	e := emv.AsError(err)
	if e == nil {
		return err
	}
	var fe []httpx.FieldError
	for _, el := range strings.Split(e.Detail, ",") {
		fe = append(fe, httpx.FieldError{Field: requestField(strings.TrimSpace(el)), Detail: e.Code.Description()})
	}
	return httpx.Invalid(fe...)
}

// requestField maps an AReq element to the field of StartRequest that fills it.
func requestField(el string) string {
	if f, ok := requestorDataField(el); ok {
		return f
	}
	switch el {
	case "acctNumber":
		return "cardNumber"
	case "purchaseAmount":
		return "amount"
	case "purchaseCurrency":
		return "currency"
	case "purchaseExponent":
		return "exponent"
	}
	if strings.HasPrefix(el, "sdk") || strings.HasPrefix(el, "deviceRenderOptions") || strings.HasPrefix(el, "defaultSdkType") {
		return "sdk." + el
	}
	return el
}

// compactJSON is raw without white space, as the AReq carries the key; nil when raw is not JSON.
func compactJSON(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return nil
	}
	return b.Bytes()
}

// channelName is Result.Channel for a stored device channel.
func channelName(deviceChannel string) string {
	switch deviceChannel {
	case emv.ChannelApp:
		return ChannelApp
	case emv.Channel3RI:
		return Channel3RI
	}
	return ChannelBrowser
}
