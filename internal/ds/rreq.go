package ds

import (
	"context"
	"errors"
	"fmt"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/tracing"
)

// handleRReq relays an ACS's RReq to the 3DS Server its transaction came from and brings the RRes
// (or the 3DS Server's Erro) back. It changes no state, so a repeated RReq is simply relayed again.
func (s *Server) handleRReq(ctx context.Context, c caller, rreq *emv.RReq, ex *store.Exchange) (emv.Message, error) {
	ex.ThreeDSServerTransID, ex.DSTransID, ex.ACSTransID = rreq.ThreeDSServerTransID, rreq.DSTransID, rreq.ACSTransID
	tracing.TransStatus(ctx, rreq.TransStatus)
	t, err := s.cfg.Store.Transaction(ctx, rreq.DSTransID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, about(emv.Errorf(emv.CodeTransIDNotRecognised, "dsTransID"), rreq)
	} else if err != nil {
		return nil, err
	}
	switch {
	case t.ThreeDSServerTransID != rreq.ThreeDSServerTransID:
		return nil, about(emv.Errorf(emv.CodeTransIDNotRecognised, "threeDSServerTransID"), rreq)
	case t.ACSTransID != rreq.ACSTransID:
		return nil, about(emv.Errorf(emv.CodeTransIDNotRecognised, "acsTransID"), rreq)
	case t.ACS != c.name:
		return nil, about(emv.Errorf(emv.CodeAccessDenied, "the transaction was not routed to this ACS"), rreq)
	}
	// Now that the transaction is known, the RReq is checked again with what its rules depend on:
	// the AReq's version, channel and category (a 2.1.0 browser RReq needs interactionCounter, say).
	known := &emv.AReq{MessageVersion: t.MessageVersion, DeviceChannel: t.DeviceChannel, MessageCategory: t.MessageCategory}
	if err := emv.Validate(rreq, &emv.Context{AReq: known}); err != nil {
		if pe := emv.AsError(err); pe.ThreeDSServerTransID == "" {
			about(pe, rreq)
		}
		return nil, err
	}
	ex.MaskedPAN = t.MaskedPAN
	body, err := s.callPeer(ctx, *ex, "3dss:"+t.ThreeDSServer, "3DS Server", t.ThreeDSServerURL, rreq)
	if err != nil {
		code, detail := emv.CodeSystemConnectionFailed, "3DS Server did not answer the RReq"
		var se *statusError
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			code = emv.CodeTimeout
		case errors.As(err, &se):
			// A status without an Erro is most often a wrong threeDSServerURL (404): the ACS's
			// operator should read that in our Erro rather than guess.
			detail = fmt.Sprintf("3DS Server answered the RReq with HTTP %d", se.status)
		}
		s.cfg.Log.WarnContext(ctx, "3DS Server did not take the RReq", "threeDSServer", t.ThreeDSServer, "dsTransID", t.DSTransID, "err", err)
		pe := about(emv.Errorf(code, "%s", detail), rreq)
		pe.Err = err
		return nil, pe
	}
	m, err := emv.Parse(body, nil)
	if err != nil {
		return nil, err
	}
	switch m := m.(type) {
	case *emv.RRes:
		if m.ThreeDSServerTransID != rreq.ThreeDSServerTransID || m.DSTransID != rreq.DSTransID {
			return nil, about(emv.Errorf(emv.CodeTransIDNotRecognised, "threeDSServerTransID,dsTransID"), m)
		}
		ex.Outcome = m.ResultsStatus
		return m, nil
	case *emv.Erro:
		return m, nil
	}
	return nil, about(emv.Errorf(emv.CodeMessageInvalid, "messageType"), m)
}
