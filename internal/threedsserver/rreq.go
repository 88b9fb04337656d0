package threedsserver

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/tracing"
)

// RReqPath is the route of the RReq endpoint under Config.ProtocolURL; each AReq's threeDSServerURL
// is the two joined.
const RReqPath = "/3ds/rreq"

// ProtocolHandler is the endpoint the DS calls over mutual TLS: RReq at /3ds/rreq. Only a client
// certificate of the DS role is admitted.
func (s *Server) ProtocolHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST "+RReqPath, httpx.Protocol(emv.ComponentThreeDSServ, emv.Version220, s.handleRReq))
	return mux
}

func (s *Server) handleRReq(w http.ResponseWriter, r *http.Request) error {
	id, err := pki.IdentifyRequest(r)
	if err != nil || id.Role != pki.RoleDS {
		return emv.Errorf(emv.CodeAccessDenied, "client certificate")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, httpx.DefaultBodyLimit))
	if err != nil {
		return err
	}
	// The result is stored on the 3DS Server's own time: a DS that hangs up after sending the RReq
	// must not leave it half taken.
	dctx, done := s.cfg.Drain.Detach(r.Context(), "RReq")
	defer done()
	ctx, cancel := context.WithTimeout(dctx, s.exchangeBudget())
	defer cancel()
	start := s.cfg.Now()
	rres, err := s.TakeRReq(ctx, body)
	ex := store.Exchange{Role: store.Role3DSS, Direction: store.In, Peer: "ds:" + id.Name, MessageType: emv.TypeRReq,
		StartedAt: start, Duration: s.cfg.Now().Sub(start)}
	if err != nil {
		e := emv.AsError(err)
		ex.ResponseType, ex.Outcome, ex.ErrorCode = emv.TypeErro, "Erro", codeOf(err)
		if e != nil {
			ex.ThreeDSServerTransID, ex.DSTransID, ex.ACSTransID, ex.MessageVersion = e.ThreeDSServerTransID, e.DSTransID, e.ACSTransID, e.MessageVersion
		}
		s.record(ctx, ex)
		s.cfg.Metrics.message(emv.TypeRReq, "Erro")
		return err
	}
	ex.ResponseType, ex.Outcome = emv.TypeRRes, rres.ResultsStatus
	ex.ThreeDSServerTransID, ex.DSTransID, ex.ACSTransID, ex.MessageVersion = rres.ThreeDSServerTransID, rres.DSTransID, rres.ACSTransID, rres.MessageVersion
	s.record(ctx, ex)
	s.cfg.Metrics.message(emv.TypeRReq, "ok")
	return httpx.WriteMessage(w, rres)
}

// TakeRReq validates an RReq body against its transaction's AReq, stores the final result and
// returns the RRes. A repeated RReq for a final transaction is acknowledged again without change.
// Errors are *emv.Error: 301 for an unknown transaction or ids that do not match.
func (s *Server) TakeRReq(ctx context.Context, body []byte) (*emv.RRes, error) {
	m, err := emv.ParseAs(body, emv.TypeRReq, nil)
	if err != nil {
		return nil, err
	}
	rreq := m.(*emv.RReq)
	tracing.TransStatus(ctx, rreq.TransStatus)
	about := func(code emv.Code, field string) error {
		return &emv.Error{Code: code, Detail: field, MessageType: emv.TypeRReq, MessageVersion: rreq.MessageVersion,
			ThreeDSServerTransID: rreq.ThreeDSServerTransID, DSTransID: rreq.DSTransID, ACSTransID: rreq.ACSTransID}
	}
	t, err := s.cfg.Store.Transaction(ctx, rreq.ThreeDSServerTransID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, about(emv.CodeTransIDNotRecognised, "threeDSServerTransID")
	} else if err != nil {
		return nil, err
	}
	switch {
	case t.DSTransID == "" || rreq.DSTransID != t.DSTransID:
		return nil, about(emv.CodeTransIDNotRecognised, "dsTransID")
	case rreq.ACSTransID != t.ACSTransID:
		return nil, about(emv.CodeTransIDNotRecognised, "acsTransID")
	case rreq.MessageVersion != t.MessageVersion:
		return nil, about(emv.CodeFormatInvalid, "messageVersion")
	case t.DeviceChannel == emv.ChannelApp && rreq.SDKTransID != "" && rreq.SDKTransID != t.SDKTransID:
		// 2.1.0 RReqs carry no sdkTransID; the rules below ask for it from 2.2.0 on.
		return nil, about(emv.CodeTransIDNotRecognised, "sdkTransID")
	}
	// Now that the transaction is known, the RReq is checked again with its AReq's rules, those of
	// its own channel.
	ctxAReq := &emv.AReq{MessageType: emv.TypeAReq, MessageVersion: t.MessageVersion, MessageCategory: categoryOrPayment(t.MessageCategory),
		DeviceChannel: channelOrBrowser(t.DeviceChannel), ThreeDSServerTransID: t.ID, SDKTransID: t.SDKTransID}
	if err := emv.Validate(rreq, &emv.Context{AReq: ctxAReq}); err != nil {
		return nil, err
	}
	rres := &emv.RRes{MessageType: emv.TypeRRes, MessageVersion: rreq.MessageVersion, ThreeDSServerTransID: t.ID,
		ACSTransID: t.ACSTransID, DSTransID: t.DSTransID, SDKTransID: rreq.SDKTransID, ResultsStatus: "01"}
	if rreq.ChallengeCancel == "05" {
		// The ACS never saw the first CReq: the challenge was not performed.
		rres.ResultsStatus = "02"
	}
	if t.State == StateFinal || (rreq.TransStatus == "D" && t.TransStatus == "D") {
		return rres, nil
	}
	if rreq.TransStatus == "D" {
		// 2.3.1's decoupled fallback (the AReq allowed F or B): the ACS switched from the challenge
		// to decoupled authentication. The result is not final; the ACS's next RReq brings it.
		t.TransStatus, t.TransStatusReason = "D", rreq.TransStatusReason
		if err := s.cfg.Store.UpdateTransaction(ctx, t); err != nil {
			return nil, err
		}
		s.notify(ctx, t)
		return rres, nil
	}
	t.State, t.TransStatus, t.TransStatusReason = StateFinal, rreq.TransStatus, rreq.TransStatusReason
	t.AuthenticationValue, t.ECI, t.ChallengeCancel, t.ResultAt = rreq.AuthenticationValue, rreq.ECI, rreq.ChallengeCancel, s.cfg.Now()
	if err := s.cfg.Store.UpdateTransaction(ctx, t); err != nil {
		return nil, err
	}
	s.cfg.Metrics.auth(rreq.TransStatus)
	s.notify(ctx, t)
	return rres, nil
}
