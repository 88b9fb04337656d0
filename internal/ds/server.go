package ds

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/logx"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/sdkcrypto"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/tracing"
)

// Recorder keeps the exchange log; *store.DB is one.
type Recorder interface {
	RecordExchange(ctx context.Context, e store.Exchange) error
}

// Config is what a Server is built from.
type Config struct {
	Store    Store
	Recorder Recorder
	// Client calls ACSs and 3DS Servers; it must present the DS's certificate (mutual TLS).
	Client *http.Client
	// URL is this DS's protocol address, stamped into each AReq as dsURL.
	URL string
	// Timeout bounds each call to an ACS or a 3DS Server; default 10 s.
	Timeout time.Duration
	// PReqEvery is how often one 3DS Server may send a PReq; default one hour.
	PReqEvery time.Duration
	// StandInKey is the DS key for the authentication value of an attempts stand-in.
	StandInKey []byte
	// SDKKeys are the DS's sdkEncData keys (RSA, EC P-256), by id, newest first: an sdkEncData
	// without a kid is tried with each key of its kind in this order. Several are live at once while
	// SDKs move to a new key. Without any, every app AReq is refused (302).
	SDKKeys []sdkcrypto.DSKey
	// NotEnrolled and Unavailable override the scheme's stand-in policies when set.
	NotEnrolled, Unavailable Policy
	Metrics                  *Metrics // nil: not counted
	Log                      *slog.Logger
	Now                      func() time.Time
	// Drain tracks the exchanges that outlive their caller, so that a shutdown waits for them; nil
	// detaches them untracked.
	Drain *httpx.Drain
}

// Server is the DS's protocol endpoint: one POST route taking AReq and PReq from 3DS Servers and
// RReq from ACSs, each caller known by its client certificate.
type Server struct {
	cfg Config
}

// NewServer fills in defaults and returns the server.
func NewServer(cfg Config) *Server {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.PReqEvery <= 0 {
		cfg.PReqEvery = time.Hour
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Client == nil {
		cfg.Client = http.DefaultClient
	}
	return &Server{cfg: cfg}
}

// Handler answers every protocol message at any path, as a DS has one endpoint per scheme.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", httpx.Protocol(emv.ComponentDS, emv.Version231, s.serve))
	return mux
}

// roleNames are the roles as people call them, for error details.
var roleNames = map[pki.Role]string{pki.RoleThreeDSServer: "3DS Server", pki.RoleACS: "ACS", pki.RoleDS: "DS"}

// caller is who sent a request, as the registry knows it.
type caller struct {
	role pki.Role
	name string
	// server is the registry's entry for a 3DS Server caller.
	server ThreeDSServer
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) error {
	// Once a message has come in, its exchange is the DS's to finish: a caller that hangs up must not
	// cancel the call to the ACS half way (which would count a healthy ACS as down and stand in for
	// it) nor the write of the transaction, which the RReq relay needs later. It runs to a deadline
	// of its own instead: the call to the peer, an Erro to it about a bad answer, and the store.
	dctx, done := s.cfg.Drain.Detach(r.Context(), "DS exchange")
	defer done()
	ctx, cancel := context.WithTimeout(dctx, 2*s.cfg.Timeout+5*time.Second)
	defer cancel()
	r = r.WithContext(ctx)
	start := s.cfg.Now()
	ex := &store.Exchange{Role: store.RoleDS, Direction: store.In, Peer: "unknown", MessageType: "unknown", StartedAt: start}
	answer, err := s.dispatch(r, ex)
	s.finish(r.Context(), ex, answer, err, start)
	if err != nil {
		return err
	}
	if answer == nil {
		w.WriteHeader(http.StatusOK) // an Erro received: acknowledged, with nothing to say
		return nil
	}
	return httpx.WriteMessage(w, answer)
}

func (s *Server) dispatch(r *http.Request, ex *store.Exchange) (emv.Message, error) {
	if r.Method != http.MethodPost {
		return nil, emv.Errorf(emv.CodeMessageInvalid, "protocol messages are POSTed")
	}
	id, err := pki.IdentifyRequest(r)
	if err != nil {
		return nil, &emv.Error{Code: emv.CodeAccessDenied, Detail: "client certificate", Err: err}
	}
	ex.Peer = string(id.Role) + ":" + id.Name
	body, err := io.ReadAll(io.LimitReader(r.Body, httpx.DefaultBodyLimit+1))
	if err != nil {
		return nil, emv.Errorf(emv.CodeMessageInvalid, "body unreadable")
	}
	if len(body) > httpx.DefaultBodyLimit {
		return nil, emv.Errorf(emv.CodeMessageInvalid, "message too large")
	}
	m, err := emv.Parse(body, nil)
	if pe := emv.AsError(err); err != nil && slices.Contains(emv.MessageTypes, pe.MessageType) {
		ex.MessageType = pe.MessageType // only a known type, so that the metric labels stay few
	}
	if err != nil {
		return nil, err
	}
	ex.MessageType, ex.MessageVersion = m.Type(), m.Version()
	c, err := s.identify(r.Context(), id)
	if err != nil {
		if pe, ok := err.(*emv.Error); ok {
			about(pe, m)
		}
		return nil, err
	}
	switch m := m.(type) {
	case *emv.AReq:
		if c.role == pki.RoleThreeDSServer {
			return s.handleAReq(r.Context(), c, m, ex)
		}
	case *emv.PReq:
		if c.role == pki.RoleThreeDSServer {
			return s.handlePReq(r.Context(), c, m, ex)
		}
	case *emv.RReq:
		if c.role == pki.RoleACS {
			return s.handleRReq(r.Context(), c, m, ex)
		}
	case *emv.Erro:
		// A peer that found our answer invalid tells us so (PROTOCOL.md §3.2); it wants no answer.
		ex.ThreeDSServerTransID, ex.DSTransID, ex.ACSTransID = m.ThreeDSServerTransID, m.DSTransID, m.ACSTransID
		ex.Outcome, ex.ErrorCode, ex.ErrorComponent = emv.TypeErro, m.ErrorCode, m.ErrorComponent
		s.cfg.Log.WarnContext(r.Context(), "a peer reported an error in our message", "peer", ex.Peer, "errorCode", m.ErrorCode,
			"errorComponent", m.ErrorComponent, "errorDetail", m.ErrorDetail, "errorMessageType", m.ErrorMessageType,
			"dsTransID", m.DSTransID)
		return nil, nil
	}
	return nil, about(emv.Errorf(emv.CodeAccessDenied, "the caller is a %s, which may not send %s", roleNames[c.role], m.Type()), m)
}

// identify finds the caller's registered identity. TLS has already checked that the certificate
// comes from the scheme CA; a certificate whose identity the registry lacks is still refused (303).
func (s *Server) identify(ctx context.Context, id pki.Identity) (caller, error) {
	c := caller{role: id.Role, name: id.Name}
	var err error
	switch id.Role {
	case pki.RoleThreeDSServer:
		c.server, err = s.cfg.Store.ThreeDSServer(ctx, id.Name)
	case pki.RoleACS:
		_, err = s.cfg.Store.ACS(ctx, id.Name)
	default:
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		return c, emv.Errorf(emv.CodeAccessDenied, "the caller's certificate (%s) is not registered with this DS", id)
	}
	return c, err
}

// finish records the exchange and counts it. A failure to record is logged, not answered: the
// message itself has been dealt with.
func (s *Server) finish(ctx context.Context, ex *store.Exchange, answer emv.Message, err error, start time.Time) {
	ex.Duration = s.cfg.Now().Sub(start)
	if err != nil {
		pe := emv.AsError(err)
		ex.ResponseType, ex.Outcome = emv.TypeErro, emv.TypeErro
		ex.ErrorCode, ex.ErrorComponent = fmt.Sprintf("%03d", int(pe.Code)), string(emv.ComponentDS)
		if pe.Component != "" {
			ex.ErrorComponent = string(pe.Component)
		}
		if ex.ThreeDSServerTransID == "" {
			ex.ThreeDSServerTransID, ex.DSTransID = pe.ThreeDSServerTransID, pe.DSTransID
		}
	} else if answer != nil {
		ex.ResponseType = answer.Type()
		if ex.Outcome == "" {
			ex.Outcome = answer.Type()
		}
		if e, ok := answer.(*emv.Erro); ok {
			ex.Outcome, ex.ErrorCode, ex.ErrorComponent = emv.TypeErro, e.ErrorCode, e.ErrorComponent
		}
	}
	s.cfg.Metrics.message(ex.MessageType, ex.Outcome, ex.Duration)
	tracing.Exchange(ctx, *ex)
	if s.cfg.Recorder != nil {
		if rerr := s.cfg.Recorder.RecordExchange(context.WithoutCancel(ctx), *ex); rerr != nil {
			s.cfg.Log.ErrorContext(ctx, "recording an exchange failed", "messageType", ex.MessageType, "err", rerr)
		}
	}
}

// callPeer sends m to a peer (an AReq to an ACS, an RReq to a 3DS Server) as who, records the leg
// in the exchange log, and says in the log which Erro the peer answered, in its own words (code,
// component, detail), so that an operator sees the cause and not only that something failed. The
// answer is read here once for all three. An Erro under an HTTP status other than 200 is the peer's
// answer all the same: err is nil for it, and the caller reads it as one under 200.
func (s *Server) callPeer(ctx context.Context, base store.Exchange, peer, who, url string, m emv.Message) ([]byte, error) {
	start := s.cfg.Now()
	body, err := s.post(ctx, url, m)
	head := readHead(body)
	var se *statusError
	if head.erro != nil && errors.As(err, &se) {
		err = nil
	}
	s.recordOut(ctx, base, peer, start, head, err)
	if e := head.erro; e != nil {
		s.cfg.Log.WarnContext(ctx, who+" answered the "+m.Type()+" with an Erro", "peer", peer, "dsTransID", base.DSTransID,
			"errorCode", e.ErrorCode, "errorComponent", e.ErrorComponent, "errorDetail", e.ErrorDetail, "erro", e.Summary())
	}
	return body, err
}

// answerHead is what the exchange log takes from a peer's answer before the answer is checked, and
// the answer as an Erro when it is one.
type answerHead struct {
	MessageType, TransStatus, ResultsStatus, ErrorCode, ErrorComponent string
	erro                                                               *emv.Erro
}

// readHead reads body's head, with no checks (the answer is parsed in full afterwards), and
// only an answer that says it is an Erro a second time, as an Erro.
func readHead(body []byte) answerHead {
	var h answerHead
	json.Unmarshal(body, &h)
	if h.MessageType == emv.TypeErro {
		h.erro, _ = emv.PeekErro(body)
	}
	return h
}

// recordOut logs the DS's own call to a peer, so that a transaction's path shows both legs with
// their timings. base carries the ids known so far.
func (s *Server) recordOut(ctx context.Context, base store.Exchange, peer string, start time.Time, head answerHead, callErr error) {
	out := base
	out.ID, out.Direction, out.Peer, out.StartedAt = "", store.Out, peer, start
	out.Duration = s.cfg.Now().Sub(start)
	out.ResponseType, out.Outcome, out.ErrorCode, out.ErrorComponent = "", "", "", ""
	switch {
	case errors.Is(callErr, context.DeadlineExceeded):
		out.Outcome = "timeout"
	case callErr != nil:
		out.Outcome = "unreachable"
	default:
		out.ResponseType = truncateType(head.MessageType)
		out.Outcome = head.TransStatus + head.ResultsStatus
		if head.MessageType == emv.TypeErro {
			out.Outcome, out.ErrorCode, out.ErrorComponent = emv.TypeErro, truncateType(head.ErrorCode), truncateType(head.ErrorComponent)
		}
		if out.Outcome == "" {
			out.Outcome = "answered"
		}
	}
	tracing.Exchange(ctx, out)
	if s.cfg.Recorder != nil {
		if err := s.cfg.Recorder.RecordExchange(context.WithoutCancel(ctx), out); err != nil {
			s.cfg.Log.ErrorContext(ctx, "recording an exchange failed", "messageType", out.MessageType, "err", err)
		}
	}
}

// truncateType keeps a peer-supplied label short: it goes to the exchange log, not to a protocol message.
func truncateType(v string) string {
	if len(v) > 8 {
		return v[:8]
	}
	return v
}

// about stamps e with the type, version and ids of the message it is about.
func about(e *emv.Error, m emv.Message) *emv.Error {
	e.MessageType, e.MessageVersion = m.Type(), m.Version()
	switch m := m.(type) {
	case *emv.AReq:
		e.ThreeDSServerTransID, e.DSTransID, e.SDKTransID = m.ThreeDSServerTransID, m.DSTransID, m.SDKTransID
	case *emv.ARes:
		e.ThreeDSServerTransID, e.DSTransID, e.ACSTransID, e.SDKTransID = m.ThreeDSServerTransID, m.DSTransID, m.ACSTransID, m.SDKTransID
	case *emv.RReq:
		e.ThreeDSServerTransID, e.DSTransID, e.ACSTransID, e.SDKTransID = m.ThreeDSServerTransID, m.DSTransID, m.ACSTransID, m.SDKTransID
	case *emv.RRes:
		e.ThreeDSServerTransID, e.DSTransID, e.ACSTransID, e.SDKTransID = m.ThreeDSServerTransID, m.DSTransID, m.ACSTransID, m.SDKTransID
	case *emv.PReq:
		e.ThreeDSServerTransID = m.ThreeDSServerTransID
	}
	return e
}

// statusError is a peer's answer with an HTTP status other than 200. post returns it with the body,
// since that may still be the peer's Erro, which says more than the status does (see callPeer).
type statusError struct{ status int }

func (e *statusError) Error() string { return fmt.Sprintf("peer answered HTTP %d", e.status) }

// post sends m to url over the DS's client and returns the answer's body. A transport failure or a
// timeout is an error; so is an HTTP status other than 200, as *statusError with the body.
func (s *Server) post(ctx context.Context, url string, m emv.Message) ([]byte, error) {
	body, err := emv.Marshal(m)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(tracing.Sending(ctx, m.Type()), s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", httpx.ProtocolContentType)
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, httpx.DefaultBodyLimit))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return data, &statusError{status: resp.StatusCode}
	}
	return data, nil
}

func maskPAN(pan string) string {
	if pan == "" {
		return ""
	}
	return logx.MaskPAN(pan)
}
