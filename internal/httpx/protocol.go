package httpx

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/open3ds/open3ds/internal/emv"
)

// ProtocolContentType is the Content-Type of every EMV 3DS JSON message we send (PROTOCOL.md §1.2).
const ProtocolContentType = "application/json; charset=utf-8"

// ProtocolHandler adapts a handler to an EMV 3DS endpoint between 3DS Server, DS and ACS. An error the
// handler returns becomes an Erro message from the one code table in package emv (emv.ErroFor):
// an *emv.Error keeps its code and detail; a *Problem of status 4xx (a body DecodeJSON could not read)
// becomes 101 "message received invalid"; anything else is 403 "transient system failure" with the
// whole error in the log only.
type ProtocolHandler struct {
	Component emv.Component // who we are, as errorComponent
	Version   string        // the messageVersion of an Erro when the request's is unknown
	Handle    HandlerFunc

	// ErroStatus chooses the HTTP status of an Erro answer. Nil means 200 for every Erro, the
	// recommended practice: the answer is a protocol message, and other statuses are for transport
	// failures. Some peers expect 400 for a body they sent that was not JSON; see
	// BadRequestOnInvalidMessage.
	ErroStatus func(*emv.Error) int
}

// Protocol adapts h to a protocol endpoint of component, answering Erro messages in fallbackVersion
// when the request's own version cannot be read.
func Protocol(component emv.Component, fallbackVersion string, h HandlerFunc) *ProtocolHandler {
	return &ProtocolHandler{Component: component, Version: fallbackVersion, Handle: h}
}

// WithErroStatus sets ErroStatus and returns p, for use in one expression at route registration.
func (p *ProtocolHandler) WithErroStatus(status func(*emv.Error) int) *ProtocolHandler {
	p.ErroStatus = status
	return p
}

// BadRequestOnInvalidMessage answers 400 for an Erro 101 (a request that was not a readable message)
// and 200 for every other Erro.
func BadRequestOnInvalidMessage(e *emv.Error) int {
	if e.Code == emv.CodeMessageInvalid {
		return http.StatusBadRequest
	}
	return http.StatusOK
}

func (p *ProtocolHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	serve("protocol", w, r, p.Handle, p.classify)
}

type protocolFailure struct {
	err    *emv.Error
	erro   *emv.Erro
	status int
}

func (p *ProtocolHandler) classify(err error) failure {
	pe := protocolError(err)
	status := http.StatusOK
	if p.ErroStatus != nil {
		status = p.ErroStatus(pe)
	}
	return protocolFailure{err: pe, erro: emv.ErroFor(pe, p.Component, p.Version), status: status}
}

// protocolError finds the protocol error an error stands for.
func protocolError(err error) *emv.Error {
	var pe *emv.Error
	if errors.As(err, &pe) {
		return pe
	}
	var prob *Problem
	if errors.As(err, &prob) && prob.Status >= 400 && prob.Status < 500 {
		detail := prob.Detail
		if len(prob.Errors) > 0 {
			fields := make([]string, len(prob.Errors))
			for i, f := range prob.Errors {
				fields[i] = f.Field
			}
			detail = strings.Join(fields, ",")
		}
		return &emv.Error{Code: emv.CodeMessageInvalid, Detail: detail, Err: err}
	}
	return emv.AsError(err)
}

func (f protocolFailure) code() string       { return f.erro.ErrorCode }
func (f protocolFailure) logAttr() slog.Attr { return slog.String("errorCode", f.erro.ErrorCode) }

// serverFault is true for the 4xx codes of the protocol (timeouts and system failures), which are
// ours to look into; 1xx to 3xx say the peer's message was wrong.
func (f protocolFailure) serverFault() bool { return f.err.Code >= 400 }

func (f protocolFailure) write(w http.ResponseWriter, _ *http.Request) {
	body, err := emv.Marshal(f.erro)
	if err != nil {
		panic("httpx: encoding an Erro: " + err.Error()) // an Erro holds only strings
	}
	writeProtocol(w, f.status, body)
}

// WriteProtocol sends body, an encoded protocol message, as the answer of a protocol endpoint.
func WriteProtocol(w http.ResponseWriter, body []byte) error {
	return writeProtocol(w, http.StatusOK, body)
}

// WriteMessage encodes m with emv.Marshal and sends it as a protocol answer.
func WriteMessage(w http.ResponseWriter, m emv.Message) error {
	body, err := emv.Marshal(m)
	if err != nil {
		return err
	}
	return WriteProtocol(w, body)
}

func writeProtocol(w http.ResponseWriter, status int, body []byte) error {
	h := w.Header()
	h.Set("Content-Type", ProtocolContentType)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}
