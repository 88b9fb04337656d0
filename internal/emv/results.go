package emv

import "encoding/json"

// RReq is the results request (PROTOCOL.md §2.6): the ACS's final word on a challenged or decoupled
// transaction, relayed by the DS to the 3DS Server.
type RReq struct {
	MessageType          string `json:"messageType"`
	MessageVersion       string `json:"messageVersion,omitempty"`
	ThreeDSServerTransID string `json:"threeDSServerTransID,omitempty"`
	ACSTransID           string `json:"acsTransID,omitempty"`
	DSTransID            string `json:"dsTransID,omitempty"`
	SDKTransID           string `json:"sdkTransID,omitempty"`
	MessageCategory      string `json:"messageCategory,omitempty"`

	TransStatus           string            `json:"transStatus,omitempty"`
	TransStatusReason     string            `json:"transStatusReason,omitempty"`
	TransStatusReasonInfo string            `json:"transStatusReasonInfo,omitempty"`
	AuthenticationType    string            `json:"authenticationType,omitempty"`
	AuthenticationMethod  []string          `json:"authenticationMethod,omitempty"`
	AuthenticationValue   string            `json:"authenticationValue,omitempty"`
	ECI                   string            `json:"eci,omitempty"`
	InteractionCounter    string            `json:"interactionCounter,omitempty"`
	ChallengeCancel       string            `json:"challengeCancel,omitempty"`
	ACSRenderingType      *ACSRenderingType `json:"acsRenderingType,omitempty"`
	CardholderInfo        CardholderInfo    `json:"cardholderInfo,omitzero"`

	WhiteListStatus           string          `json:"whiteListStatus,omitempty"`
	WhiteListStatusSource     string          `json:"whiteListStatusSource,omitempty"`
	TrustListStatus           string          `json:"trustListStatus,omitempty"`
	TrustListStatusSource     string          `json:"trustListStatusSource,omitempty"`
	DeviceBindingStatus       string          `json:"deviceBindingStatus,omitempty"`
	DeviceBindingStatusSource string          `json:"deviceBindingStatusSource,omitempty"`
	ChallengeErrorReporting   json.RawMessage `json:"challengeErrorReporting,omitempty"`

	MessageExtension []MessageExtension `json:"messageExtension,omitempty"`
}

// RRes is the results response: the 3DS Server's acknowledgement of an RReq.
type RRes struct {
	MessageType          string `json:"messageType"`
	MessageVersion       string `json:"messageVersion,omitempty"`
	ThreeDSServerTransID string `json:"threeDSServerTransID,omitempty"`
	ACSTransID           string `json:"acsTransID,omitempty"`
	DSTransID            string `json:"dsTransID,omitempty"`
	SDKTransID           string `json:"sdkTransID,omitempty"`
	ResultsStatus        string `json:"resultsStatus,omitempty"`

	MessageExtension []MessageExtension `json:"messageExtension,omitempty"`
}
