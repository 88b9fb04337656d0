package emv

import (
	"encoding/json"
	"fmt"
)

// PeekErro reads body as an Erro without checking it against the dictionary, for a component that
// got an Erro back and must say so in its log. A peer's Erro that breaks one of our rules still says
// what the peer found wrong; reporting our own parse error about it instead ("101 messageType", since
// an Erro is not the answer we asked for) hides the cause from the operator. ok is false when body is
// not a JSON object whose messageType is Erro. Each member is cut to the longest the dictionary
// allows it, as the peer wrote them and every caller logs them.
func PeekErro(body []byte) (e *Erro, ok bool) {
	var head struct {
		MessageType      string `json:"messageType"`
		MessageVersion   string `json:"messageVersion"`
		ErrorCode        string `json:"errorCode"`
		ErrorComponent   string `json:"errorComponent"`
		ErrorDescription string `json:"errorDescription"`
		ErrorDetail      string `json:"errorDetail"`
		ErrorMessageType string `json:"errorMessageType"`
	}
	if json.Unmarshal(body, &head) != nil || head.MessageType != TypeErro {
		return nil, false
	}
	return &Erro{MessageType: TypeErro, MessageVersion: truncate(head.MessageVersion, 8), ErrorCode: truncate(head.ErrorCode, 3),
		ErrorComponent: truncate(head.ErrorComponent, 1), ErrorDescription: truncate(head.ErrorDescription, 2048),
		ErrorDetail: truncate(head.ErrorDetail, 2048), ErrorMessageType: truncate(head.ErrorMessageType, 4)}, true
}

// Summary is the Erro in one line for a log or an error text: "Erro 405 from D about RReq:
// <errorDetail>". The peer wrote every part of it, so each is cut short; the log handler still
// masks digit runs that could be card numbers.
func (e *Erro) Summary() string {
	return fmt.Sprintf("Erro %s from %s about %s: %s", truncate(e.ErrorCode, 8), truncate(e.ErrorComponent, 4),
		truncate(e.ErrorMessageType, 8), truncate(e.ErrorDetail, 256))
}
