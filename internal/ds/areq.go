package ds

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"log/slog"
	"slices"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/ids"
	"github.com/open3ds/open3ds/internal/store"
)

// handleAReq checks the requestor, routes the AReq by card range to its ACS (or stands in), checks
// the ARes and records the transaction before answering.
func (s *Server) handleAReq(ctx context.Context, c caller, areq *emv.AReq, ex *store.Exchange) (emv.Message, error) {
	ex.ThreeDSServerTransID, ex.MaskedPAN = areq.ThreeDSServerTransID, maskPAN(areq.AcctNumber)
	// identify read the caller's registration: its requestor ids, reference number and operator id.
	if !slices.Contains(c.server.RequestorIDs, areq.ThreeDSRequestorID) {
		return nil, about(emv.Errorf(emv.CodeAccessDenied, "threeDSRequestorID"), areq)
	}
	if field := identityMismatch(c.server, areq.ThreeDSServerRefNumber, areq.ThreeDSServerOperatorID); field != "" {
		return nil, about(emv.Errorf(emv.CodeAccessDenied, "%s", field), areq)
	}
	scheme, err := s.cfg.Store.Scheme(ctx)
	if err != nil {
		return nil, err
	}
	fwd := *areq
	// An app AReq is checked before it is routed, so that one the DS refuses reaches no ACS, and a
	// stand-in answers only AReqs the DS would have forwarded.
	if err := s.prepareApp(ctx, areq, &fwd, scheme); err != nil {
		return nil, err
	}
	fwd.DSTransID, fwd.DSReferenceNumber, fwd.DSURL = ids.New(), scheme.ReferenceNumber, s.cfg.URL
	ex.DSTransID = fwd.DSTransID

	rng, err := s.cfg.Store.FindRange(ctx, areq.AcctNumber)
	if errors.Is(err, store.ErrNotFound) {
		return s.standIn(ctx, c, &fwd, scheme, s.policy(s.cfg.NotEnrolled, scheme.NotEnrolled), "not enrolled", ex)
	} else if err != nil {
		return nil, err
	}
	if !rng.Supports(areq.MessageVersion) {
		return nil, about(emv.Errorf(emv.CodeVersionNotSupported, "messageVersion"), areq)
	}
	acs, err := s.cfg.Store.ACS(ctx, rng.ACS)
	if err != nil {
		return nil, err
	}
	// An Erro under another HTTP status is the ACS's answer (err is nil), relayed like one under 200:
	// the ACS is up, so no stand-in.
	body, err := s.callPeer(ctx, *ex, "acs:"+acs.Name, "ACS", acs.URL, &fwd)
	if err != nil {
		kind := "unreachable"
		if errors.Is(err, context.DeadlineExceeded) {
			kind = "timeout"
		}
		s.cfg.Metrics.acsError(acs.Name, kind)
		s.cfg.Log.WarnContext(ctx, "ACS did not answer", "acs", acs.Name, "kind", kind, "dsTransID", fwd.DSTransID, "err", err)
		return s.standIn(ctx, c, &fwd, scheme, s.policy(s.cfg.Unavailable, scheme.Unavailable), "ACS "+kind, ex)
	}
	answer, err := s.checkARes(body, &fwd)
	if err != nil {
		s.cfg.Metrics.acsError(acs.Name, "invalid")
		// The ACS hears what was wrong with its ARes, best effort: the 3DS Server's answer does not
		// wait on whether the ACS takes it.
		erro := emv.ErroFor(err, emv.ComponentDS, fwd.MessageVersion)
		if _, perr := s.post(ctx, acs.URL, erro); perr != nil {
			s.cfg.Log.WarnContext(ctx, "sending an Erro to the ACS failed", "acs", acs.Name, "err", perr)
		}
		return nil, err
	}
	outcome := emv.TypeErro
	ares, isARes := answer.(*emv.ARes)
	if isARes {
		outcome = ares.TransStatus
		if outcome == "" {
			outcome = emv.TypeARes
		}
		ex.ACSTransID = ares.ACSTransID
	}
	ex.Outcome = outcome
	if err := s.cfg.Store.CreateTransaction(ctx, s.transaction(c, &fwd, ex.ACSTransID, acs.Name, outcome)); err != nil {
		return nil, err
	}
	return answer, nil
}

// identityMismatch names the field in which a 3DS Server's message disagrees with what the scheme
// registered for the certificate it came with, or "". The reference number (the EMVCo approval
// number) must be the registered one. An operator id is DS-specific: when the scheme registered one,
// the message must carry it; when it did not, whatever the message carries is not checked. Both
// answer 303 (access denied), as a wrong requestor id does.
func identityMismatch(registered ThreeDSServer, refNumber, operatorID string) string {
	switch {
	case refNumber != registered.ReferenceNumber:
		return "threeDSServerRefNumber"
	case registered.OperatorID != "" && operatorID != registered.OperatorID:
		return "threeDSServerOperatorID"
	}
	return ""
}

// checkARes parses the ACS's answer to fwd. An Erro from the ACS is relayed as it is; an ARes must
// be valid for fwd (its version included: 203) and carry fwd's transaction ids (301).
func (s *Server) checkARes(body []byte, fwd *emv.AReq) (emv.Message, error) {
	m, err := emv.Parse(body, &emv.Context{AReq: fwd})
	if err != nil {
		return nil, err
	}
	switch m := m.(type) {
	case *emv.Erro:
		return m, nil
	case *emv.ARes:
		switch {
		case m.ThreeDSServerTransID != fwd.ThreeDSServerTransID:
			return nil, about(emv.Errorf(emv.CodeTransIDNotRecognised, "threeDSServerTransID"), m)
		case m.DSTransID != fwd.DSTransID:
			return nil, about(emv.Errorf(emv.CodeTransIDNotRecognised, "dsTransID"), m)
		case fwd.SDKTransID != "" && m.SDKTransID != fwd.SDKTransID:
			return nil, about(emv.Errorf(emv.CodeTransIDNotRecognised, "sdkTransID"), m)
		}
		return m, nil
	}
	return nil, about(emv.Errorf(emv.CodeMessageInvalid, "messageType"), m)
}

func (s *Server) policy(override, scheme Policy) Policy {
	if override.Valid() {
		return override
	}
	return scheme
}

func (s *Server) transaction(c caller, fwd *emv.AReq, acsTransID, acs, outcome string) Transaction {
	return Transaction{
		DSTransID: fwd.DSTransID, ThreeDSServerTransID: fwd.ThreeDSServerTransID, ACSTransID: acsTransID, ACS: acs,
		ThreeDSServer: c.name, ThreeDSServerURL: fwd.ThreeDSServerURL, MessageVersion: fwd.MessageVersion,
		MessageCategory: fwd.MessageCategory, DeviceChannel: fwd.DeviceChannel, MaskedPAN: maskPAN(fwd.AcctNumber),
		Outcome: outcome, CreatedAt: s.cfg.Now(),
	}
}

// standIn answers the AReq in the ACS's place by policy, and says in the log which policy fired.
func (s *Server) standIn(ctx context.Context, c caller, fwd *emv.AReq, scheme Scheme, p Policy, why string,
	ex *store.Exchange) (emv.Message, error) {
	ares := &emv.ARes{
		MessageType: emv.TypeARes, MessageVersion: fwd.MessageVersion,
		ThreeDSServerTransID: fwd.ThreeDSServerTransID, DSTransID: fwd.DSTransID, ACSTransID: ids.New(),
		SDKTransID: fwd.SDKTransID, DSReferenceNumber: scheme.ReferenceNumber, ACSReferenceNumber: scheme.ReferenceNumber,
	}
	switch p {
	case PolicyAttempts:
		ares.TransStatus, ares.ECI = "A", scheme.ECI.A
		ares.AuthenticationValue = s.standInValue(fwd, ares.ACSTransID)
	case PolicyNotEnrolled:
		ares.TransStatus, ares.TransStatusReason, ares.ECI = "N", "13", scheme.ECI.N
	default:
		p = PolicyUnavailable
		ares.TransStatus, ares.TransStatusReason = "U", "22"
	}
	if fwd.DeviceChannel == emv.ChannelApp && emv.CompareVersions(fwd.MessageVersion, emv.Version231) >= 0 {
		// deviceInfoRecognisedVersion names a version of the SDK's device information (its DV, such
		// as 1.7), not of the protocol; the ACS answers the same.
		ares.ThreeDSRequestorAppURLInd, ares.DeviceInfoRecognisedVersion = "N", "1.7"
	}
	s.cfg.Metrics.standIn(p)
	s.cfg.Log.LogAttrs(ctx, slog.LevelInfo, "DS stood in for the ACS", slog.String("policy", string(p)),
		slog.String("why", why), slog.String("dsTransID", fwd.DSTransID), slog.String("transStatus", ares.TransStatus))
	if err := emv.Validate(ares, &emv.Context{AReq: fwd}); err != nil {
		return nil, err
	}
	ex.ACSTransID, ex.Outcome = ares.ACSTransID, ares.TransStatus
	if err := s.cfg.Store.CreateTransaction(ctx, s.transaction(c, fwd, ares.ACSTransID, "", ares.TransStatus)); err != nil {
		return nil, err
	}
	return ares, nil
}

// standInValue is the DS-made authentication value of an attempts stand-in: an HMAC-SHA-256 over
// the transaction's facts under the DS key, cut to 20 bytes and base64-encoded (28 characters),
// the shape of a CAVV, so that the scheme can verify it later.
func (s *Server) standInValue(fwd *emv.AReq, acsTransID string) string {
	mac := hmac.New(sha256.New, s.cfg.StandInKey)
	for _, f := range []string{fwd.DSTransID, fwd.ThreeDSServerTransID, acsTransID, fwd.AcctNumber,
		fwd.PurchaseAmount, fwd.PurchaseCurrency, fwd.MessageVersion} {
		mac.Write([]byte(f))
		mac.Write([]byte{0})
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil)[:20])
}
