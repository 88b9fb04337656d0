package emv

import "encoding/json"

// ARes is the authentication response (PROTOCOL.md §2.3): the ACS's decision, relayed by the DS.
type ARes struct {
	MessageType          string `json:"messageType"`
	MessageVersion       string `json:"messageVersion,omitempty"`
	ThreeDSServerTransID string `json:"threeDSServerTransID,omitempty"`
	ACSTransID           string `json:"acsTransID,omitempty"`
	DSTransID            string `json:"dsTransID,omitempty"`
	SDKTransID           string `json:"sdkTransID,omitempty"`
	ACSReferenceNumber   string `json:"acsReferenceNumber,omitempty"`
	ACSOperatorID        string `json:"acsOperatorID,omitempty"`
	DSReferenceNumber    string `json:"dsReferenceNumber,omitempty"`

	// The outcome.
	TransStatus             string         `json:"transStatus,omitempty"`
	TransStatusReason       string         `json:"transStatusReason,omitempty"`
	TransStatusReasonInfo   string         `json:"transStatusReasonInfo,omitempty"`
	TransChallengeExemption string         `json:"transChallengeExemption,omitempty"`
	AuthenticationValue     string         `json:"authenticationValue,omitempty"`
	ECI                     string         `json:"eci,omitempty"`
	CardholderInfo          CardholderInfo `json:"cardholderInfo,omitzero"`

	// The challenge, when there is one.
	ACSChallengeMandated        string            `json:"acsChallengeMandated,omitempty"`
	AuthenticationType          string            `json:"authenticationType,omitempty"`
	AuthenticationMethod        []string          `json:"authenticationMethod,omitempty"`
	ACSURL                      string            `json:"acsURL,omitempty"`
	ACSRenderingType            *ACSRenderingType `json:"acsRenderingType,omitempty"`
	ACSSignedContent            string            `json:"acsSignedContent,omitempty"`
	ACSDecConInd                string            `json:"acsDecConInd,omitempty"`
	ThreeDSRequestorAppURLInd   string            `json:"threeDSRequestorAppURLInd,omitempty"`
	DeviceInfoRecognisedVersion string            `json:"deviceInfoRecognisedVersion,omitempty"`
	SpcTransData                json.RawMessage   `json:"spcTransData,omitempty"`
	WebAuthnCredList            json.RawMessage   `json:"webAuthnCredList,omitempty"`

	// Statuses the ACS reports back to the requestor.
	WhiteListStatus              string          `json:"whiteListStatus,omitempty"`
	WhiteListStatusSource        string          `json:"whiteListStatusSource,omitempty"`
	TrustListStatus              string          `json:"trustListStatus,omitempty"`
	TrustListStatusSource        string          `json:"trustListStatusSource,omitempty"`
	CardSecurityCodeStatus       string          `json:"cardSecurityCodeStatus,omitempty"`
	CardSecurityCodeStatusSource string          `json:"cardSecurityCodeStatusSource,omitempty"`
	DeviceBindingStatus          string          `json:"deviceBindingStatus,omitempty"`
	DeviceBindingStatusSource    string          `json:"deviceBindingStatusSource,omitempty"`
	BroadInfo                    json.RawMessage `json:"broadInfo,omitempty"`

	MessageExtension []MessageExtension `json:"messageExtension,omitempty"`
}

// ACSRenderingType says how the ACS will present an app challenge (acsRenderingType).
type ACSRenderingType struct {
	ACSInterface            string `json:"acsInterface,omitempty"`
	ACSUiTemplate           string `json:"acsUiTemplate,omitempty"`
	DeviceUserInterfaceMode string `json:"deviceUserInterfaceMode,omitempty"`
}
