package emv

// PReq is the preparation request (PROTOCOL.md §1.3): a 3DS Server asking the DS for its card ranges.
type PReq struct {
	MessageType             string `json:"messageType"`
	MessageVersion          string `json:"messageVersion,omitempty"`
	ThreeDSServerTransID    string `json:"threeDSServerTransID,omitempty"`
	ThreeDSServerRefNumber  string `json:"threeDSServerRefNumber,omitempty"`
	ThreeDSServerOperatorID string `json:"threeDSServerOperatorID,omitempty"`
	SerialNum               string `json:"serialNum,omitempty"`

	MessageExtension []MessageExtension `json:"messageExtension,omitempty"`
}

// PRes is the preparation response: the DS's card ranges, all of them or the changes since SerialNum.
type PRes struct {
	MessageType            string          `json:"messageType"`
	MessageVersion         string          `json:"messageVersion,omitempty"`
	ThreeDSServerTransID   string          `json:"threeDSServerTransID,omitempty"`
	DSTransID              string          `json:"dsTransID,omitempty"`
	SerialNum              string          `json:"serialNum,omitempty"`
	DSStartProtocolVersion string          `json:"dsStartProtocolVersion,omitempty"`
	DSEndProtocolVersion   string          `json:"dsEndProtocolVersion,omitempty"`
	CardRangeData          []CardRangeData `json:"cardRangeData,omitempty"`

	MessageExtension []MessageExtension `json:"messageExtension,omitempty"`
}

// CardRangeData is one card range of a PRes and what its ACS and the DS support for it.
type CardRangeData struct {
	StartRange              string   `json:"startRange,omitempty"`
	EndRange                string   `json:"endRange,omitempty"`
	ActionInd               string   `json:"actionInd,omitempty"`
	ACSStartProtocolVersion string   `json:"acsStartProtocolVersion,omitempty"`
	ACSEndProtocolVersion   string   `json:"acsEndProtocolVersion,omitempty"`
	DSStartProtocolVersion  string   `json:"dsStartProtocolVersion,omitempty"`
	DSEndProtocolVersion    string   `json:"dsEndProtocolVersion,omitempty"`
	ThreeDSMethodURL        string   `json:"threeDSMethodURL,omitempty"`
	ACSInfoInd              []string `json:"acsInfoInd,omitempty"`
}
