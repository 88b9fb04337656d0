package emv

import (
	"errors"
	"fmt"
	"strings"
)

// Code is an EMV 3DS errorCode (PROTOCOL.md §3.1).
type Code int

// The error codes of the protocol. 205–207 and 308–315 exist from 2.3.1 on; an Erro in an older version
// that needs one of them falls back to the nearest older code (see Error.codeFor).
const (
	CodeMessageInvalid         Code = 101
	CodeVersionNotSupported    Code = 102
	CodeSentLimitExceeded      Code = 103
	CodeRequiredMissing        Code = 201
	CodeCriticalExtension      Code = 202
	CodeFormatInvalid          Code = 203
	CodeDuplicateElement       Code = 204
	CodeCardRangeOverlap       Code = 205
	CodeCardRangeActionInd     Code = 206
	CodeReservedValue          Code = 207
	CodeTransIDNotRecognised   Code = 301
	CodeDecryptionFailure      Code = 302
	CodeAccessDenied           Code = 303
	CodeISOCodeInvalid         Code = 304
	CodeTransDataInvalid       Code = 305
	CodeMCCInvalid             Code = 306
	CodeSerialNumInvalid       Code = 307
	CodeSignatureFailure       Code = 308
	CodeCSPValidation          Code = 309
	CodeCryptoAlgorithm        Code = 310
	CodeIncorrectKid           Code = 311
	CodeDuplicateMessage       Code = 312
	CodeInconsistentRReq       Code = 313
	CodeMultipleCReq           Code = 314
	CodeCReqAfterRReq          Code = 315
	CodeTimeout                Code = 402
	CodeTransientFailure       Code = 403
	CodePermanentFailure       Code = 404
	CodeSystemConnectionFailed Code = 405
)

// descriptions are our short, human-readable errorDescription texts, one per code. They paraphrase the
// meaning of each code; errorDetail carries the specifics (which field, which id).
var descriptions = map[Code]string{
	CodeMessageInvalid:         "Message received invalid",
	CodeVersionNotSupported:    "Message version number not supported",
	CodeSentLimitExceeded:      "Sent messages limit exceeded",
	CodeRequiredMissing:        "A required data element is missing",
	CodeCriticalExtension:      "Critical message extension not recognised",
	CodeFormatInvalid:          "Data element not in the required format or value is invalid",
	CodeDuplicateElement:       "Duplicate data element",
	CodeCardRangeOverlap:       "Card range overlap",
	CodeCardRangeActionInd:     "Card range action indicator invalid",
	CodeReservedValue:          "Data element value in a reserved range",
	CodeTransIDNotRecognised:   "Transaction ID received is not valid for the receiving component",
	CodeDecryptionFailure:      "Data decryption failure",
	CodeAccessDenied:           "Access denied, invalid endpoint",
	CodeISOCodeInvalid:         "ISO code invalid",
	CodeTransDataInvalid:       "Transaction data not valid",
	CodeMCCInvalid:             "Merchant category code not valid for payment system",
	CodeSerialNumInvalid:       "Serial number not valid",
	CodeSignatureFailure:       "Signature verification failure",
	CodeCSPValidation:          "Content security policy validation failure",
	CodeCryptoAlgorithm:        "Incorrect cryptographic algorithm",
	CodeIncorrectKid:           "Incorrect key identifier",
	CodeDuplicateMessage:       "Duplicate message",
	CodeInconsistentRReq:       "Inconsistent results request",
	CodeMultipleCReq:           "Multiple challenge requests not supported",
	CodeCReqAfterRReq:          "Challenge request received after results request",
	CodeTimeout:                "Transaction timed out",
	CodeTransientFailure:       "Transient system failure",
	CodePermanentFailure:       "Permanent system failure",
	CodeSystemConnectionFailed: "System connection failure",
}

// Description is the standard short text for a code.
func (c Code) Description() string {
	if d, ok := descriptions[c]; ok {
		return d
	}
	return "Unknown error"
}

// Component names who detected an error (errorComponent): the component that found it, not the one at fault.
type Component string

const (
	ComponentSDK         Component = "C"
	ComponentThreeDSServ Component = "S"
	ComponentDS          Component = "D"
	ComponentACS         Component = "A"
)

// Error is a protocol error: everything an Erro message carries. Parsing and validation return it;
// a role stamps its own Component before answering (see Error.Erro).
type Error struct {
	Code        Code
	Component   Component // who detected it; the answering role sets it when empty
	Description string    // errorDescription; the code's standard text when empty
	Detail      string    // errorDetail: the offending field name(s), comma-separated, or what timed out

	// What was readable of the message in error: its type and version, and its transaction ids.
	MessageType          string
	MessageVersion       string
	ThreeDSServerTransID string
	ACSTransID           string
	DSTransID            string
	SDKTransID           string

	// Err is the underlying cause, for logs only; it never reaches the peer.
	Err error
}

// Errorf makes a protocol error with a detail text.
func Errorf(code Code, format string, a ...any) *Error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, a...)}
}

func (e *Error) Error() string {
	s := fmt.Sprintf("emv %d %s", e.Code, e.Code.Description())
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// AsError finds the protocol error in err's chain. Anything that is not one becomes an internal error:
// 403 "transient system failure" (we chose 403 over 404 because an unclassified failure, a database
// hiccup most often, is worth a retry), with no detail of ours leaking to the peer.
func AsError(err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	return &Error{Code: CodeTransientFailure, Detail: "internal error", Err: err}
}

// ErroFor builds the Erro message for err as seen by component. The version echoes the offending message's
// when it was readable and supported, else fallbackVersion (the highest the answering role speaks).
// 2.3.1-only codes are mapped to their pre-2.3.1 equivalents in older versions.
func ErroFor(err error, component Component, fallbackVersion string) *Erro {
	pe := AsError(err)
	comp := pe.Component
	if comp == "" {
		comp = component
	}
	version := pe.MessageVersion
	if !IsSupportedVersion(version) {
		version = fallbackVersion
	}
	code := pe.Code
	if version != Version231 {
		code = pre231Code(code)
	}
	desc := pe.Description
	if desc == "" || code != pe.Code {
		desc = code.Description()
	}
	detail := pe.Detail
	if strings.TrimSpace(detail) == "" {
		// errorDetail is required and may not be blank (a repeated key of white space would make it so).
		detail = desc
	}
	m := &Erro{
		MessageType:          TypeErro,
		MessageVersion:       version,
		ErrorCode:            fmt.Sprintf("%03d", int(code)),
		ErrorComponent:       string(comp),
		ErrorDescription:     truncate(desc, 2048),
		ErrorDetail:          truncate(detail, 2048),
		ErrorMessageType:     pe.MessageType,
		ThreeDSServerTransID: pe.ThreeDSServerTransID,
		ACSTransID:           pe.ACSTransID,
		DSTransID:            pe.DSTransID,
		SDKTransID:           pe.SDKTransID,
	}
	if !isKnownType(m.ErrorMessageType) {
		m.ErrorMessageType = ""
	}
	return m
}

// pre231Code maps the codes 2.3.1 added onto the codes that covered the same failure before it.
func pre231Code(c Code) Code {
	switch c {
	case CodeCardRangeOverlap, CodeCardRangeActionInd, CodeReservedValue:
		return CodeFormatInvalid
	case CodeSignatureFailure, CodeCryptoAlgorithm, CodeIncorrectKid:
		return CodeDecryptionFailure
	case CodeCSPValidation, CodeDuplicateMessage, CodeInconsistentRReq, CodeMultipleCReq, CodeCReqAfterRReq:
		return CodeTransDataInvalid
	}
	return c
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary so the result stays valid UTF-8.
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
