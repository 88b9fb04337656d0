// Package emv is the EMV 3-D Secure protocol vocabulary shared by every open3ds role: the message types of
// versions 2.1.0, 2.2.0 and 2.3.1, the data-element dictionary that drives validation, the error code table
// and the Erro message. It does no I/O beyond what net/http needs to write an answer.
package emv

import "encoding/json"

// Protocol versions. We parse all three; we emit 2.2.0 and 2.3.1 and accept 2.1.0 in both directions,
// applying 2.1.0's enum ranges and presence rules whenever a message says messageVersion 2.1.0.
const (
	Version210 = "2.1.0"
	Version220 = "2.2.0"
	Version231 = "2.3.1"
)

// Versions lists the supported versions, oldest first.
var Versions = []string{Version210, Version220, Version231}

// IsSupportedVersion reports whether v is one of Versions.
func IsSupportedVersion(v string) bool {
	for _, s := range Versions {
		if s == v {
			return true
		}
	}
	return false
}

// Message types.
const (
	TypeAReq = "AReq"
	TypeARes = "ARes"
	TypeCReq = "CReq"
	TypeCRes = "CRes"
	TypeRReq = "RReq"
	TypeRRes = "RRes"
	TypePReq = "PReq"
	TypePRes = "PRes"
	TypeErro = "Erro"
)

// MessageTypes lists every message type in the order the specification introduces them.
var MessageTypes = []string{TypeAReq, TypeARes, TypeCReq, TypeCRes, TypeRReq, TypeRRes, TypePReq, TypePRes, TypeErro}

func isKnownType(t string) bool {
	for _, s := range MessageTypes {
		if s == t {
			return true
		}
	}
	return false
}

// Erro is the protocol's error message (PROTOCOL.md §2.9). Build one with ErroFor. Like every message
// struct, it leaves an empty element out of the JSON rather than write "": an Erro missing a required
// element fails Validate with 201 instead of reaching a peer as blank.
type Erro struct {
	MessageType          string             `json:"messageType"`
	MessageVersion       string             `json:"messageVersion,omitempty"`
	ErrorCode            string             `json:"errorCode,omitempty"`
	ErrorComponent       string             `json:"errorComponent,omitempty"`
	ErrorDescription     string             `json:"errorDescription,omitempty"`
	ErrorDetail          string             `json:"errorDetail,omitempty"`
	ErrorMessageType     string             `json:"errorMessageType,omitempty"`
	ThreeDSServerTransID string             `json:"threeDSServerTransID,omitempty"`
	ACSTransID           string             `json:"acsTransID,omitempty"`
	DSTransID            string             `json:"dsTransID,omitempty"`
	SDKTransID           string             `json:"sdkTransID,omitempty"`
	MessageExtension     []MessageExtension `json:"messageExtension,omitempty"`
}

// MessageExtension is one entry of a messageExtension array. Data is kept as raw JSON: we pass it on but
// interpret only the extensions we know.
type MessageExtension struct {
	Name                 string          `json:"name,omitempty"`
	ID                   string          `json:"id,omitempty"`
	CriticalityIndicator bool            `json:"criticalityIndicator"`
	Data                 json.RawMessage `json:"data,omitempty"`
}
