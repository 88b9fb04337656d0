package threedsserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/tracing"
)

// RemoteError is an Erro the DS answered instead of the message asked for.
type RemoteError struct{ Erro *emv.Erro }

func (e *RemoteError) Error() string {
	return fmt.Sprintf("DS answered Erro %s (%s) %s", e.Erro.ErrorCode, e.Erro.ErrorComponent, e.Erro.ErrorDetail)
}

// post sends m to the DS and returns the answer's body. A DS that does not answer within the
// timeout gives an *emv.Error 402, as the protocol names that case.
func (s *Server) post(ctx context.Context, m emv.Message) ([]byte, error) {
	body, err := emv.Marshal(m)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(tracing.Sending(ctx, m.Type()), s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.DSURL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", httpx.ProtocolContentType)
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, &emv.Error{Code: emv.CodeTimeout, Detail: "DS", Err: err}
		}
		return nil, &emv.Error{Code: emv.CodeSystemConnectionFailed, Detail: "DS", Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, httpx.DefaultBodyLimit))
	if err != nil {
		return nil, &emv.Error{Code: emv.CodeTimeout, Detail: "DS", Err: err}
	}
	if resp.StatusCode != http.StatusOK && len(data) == 0 {
		return nil, &emv.Error{Code: emv.CodeTransientFailure, Detail: "DS", Err: fmt.Errorf("DS answered HTTP %d", resp.StatusCode)}
	}
	return data, nil
}

// sendAReq sends areq and returns the checked ARes. An Erro from the DS comes back as *RemoteError;
// an ARes that fails the checks as *emv.Error, after the matching Erro went to the DS.
func (s *Server) sendAReq(ctx context.Context, areq *emv.AReq) (*emv.ARes, error) {
	start := s.cfg.Now()
	ex := store.Exchange{Role: store.Role3DSS, Direction: store.Out, Peer: "ds", MessageType: emv.TypeAReq,
		ThreeDSServerTransID: areq.ThreeDSServerTransID, MaskedPAN: maskPAN(areq.AcctNumber),
		MessageVersion: areq.MessageVersion, StartedAt: start}
	defer func() {
		ex.Duration = s.cfg.Now().Sub(start)
		s.record(ctx, ex)
		s.cfg.Metrics.message(emv.TypeAReq, ex.Outcome)
	}()
	body, err := s.post(ctx, areq)
	if err != nil {
		ex.Outcome, ex.ErrorCode = "timeout", codeOf(err)
		return nil, err
	}
	ares, err := s.checkARes(body, areq)
	var remote *RemoteError
	switch {
	case errors.As(err, &remote):
		ex.ResponseType, ex.Outcome, ex.ErrorCode, ex.ErrorComponent = emv.TypeErro, "Erro", remote.Erro.ErrorCode, remote.Erro.ErrorComponent
		ex.DSTransID = remote.Erro.DSTransID
		s.logRemote(ctx, "DS answered the AReq with an Erro", areq.ThreeDSServerTransID, remote)
		return nil, err
	case err != nil:
		ex.ResponseType, ex.Outcome, ex.ErrorCode = emv.TypeARes, "invalid", codeOf(err)
		s.reportErro(ctx, err, areq)
		return nil, err
	}
	ex.ResponseType, ex.Outcome, ex.DSTransID, ex.ACSTransID = emv.TypeARes, ares.TransStatus, ares.DSTransID, ares.ACSTransID
	return ares, nil
}

// checkARes parses the DS's answer with the AReq as context and applies the checks the parser
// cannot know: the ids must be ours (301) and the version the AReq's (203).
func (s *Server) checkARes(body []byte, areq *emv.AReq) (*emv.ARes, error) {
	m, err := emv.Parse(body, &emv.Context{AReq: areq})
	if err != nil {
		return nil, err
	}
	switch m := m.(type) {
	case *emv.Erro:
		return nil, &RemoteError{Erro: m}
	case *emv.ARes:
		e := func(code emv.Code, field string) error {
			return &emv.Error{Code: code, Detail: field, MessageType: emv.TypeARes, MessageVersion: m.MessageVersion,
				ThreeDSServerTransID: m.ThreeDSServerTransID, DSTransID: m.DSTransID, ACSTransID: m.ACSTransID}
		}
		switch {
		case m.ThreeDSServerTransID != areq.ThreeDSServerTransID:
			return nil, e(emv.CodeTransIDNotRecognised, "threeDSServerTransID")
		case m.MessageVersion != areq.MessageVersion:
			return nil, e(emv.CodeFormatInvalid, "messageVersion")
		case m.TransStatus == "C" && areq.DeviceChannel == emv.ChannelBrowser && m.ACSURL == "":
			return nil, e(emv.CodeRequiredMissing, "acsURL")
		case areq.DeviceChannel == emv.ChannelApp && m.SDKTransID != areq.SDKTransID:
			// The SDK will put this id in every CReq; an ARes for another SDK transaction is not ours.
			return nil, e(emv.CodeTransIDNotRecognised, "sdkTransID")
		}
		return m, nil
	}
	return nil, &emv.Error{Code: emv.CodeMessageInvalid, Detail: "messageType", MessageType: m.Type()}
}

// reportErro tells the DS that its ARes was invalid. The DS's answer to an Erro is of no use, so
// only failures to deliver it are logged.
func (s *Server) reportErro(ctx context.Context, cause error, areq *emv.AReq) {
	erro := emv.ErroFor(cause, emv.ComponentThreeDSServ, areq.MessageVersion)
	if erro.ThreeDSServerTransID == "" {
		erro.ThreeDSServerTransID = areq.ThreeDSServerTransID
	}
	if _, err := s.post(ctx, erro); err != nil {
		s.cfg.Log.WarnContext(ctx, "could not send Erro to the DS", "threeDSServerTransID", areq.ThreeDSServerTransID, "err", err)
	}
	s.record(ctx, store.Exchange{Role: store.Role3DSS, Direction: store.Out, Peer: "ds", MessageType: emv.TypeErro,
		ThreeDSServerTransID: areq.ThreeDSServerTransID, DSTransID: erro.DSTransID, MessageVersion: erro.MessageVersion,
		Outcome: "Erro", ErrorCode: erro.ErrorCode, ErrorComponent: erro.ErrorComponent, StartedAt: s.cfg.Now()})
}

// logRemote says which Erro the DS answered, in the DS's own words: its code, component and detail
// are what an operator needs to fix the cause.
func (s *Server) logRemote(ctx context.Context, msg, id string, remote *RemoteError) {
	e := remote.Erro
	s.cfg.Log.WarnContext(ctx, msg, "threeDSServerTransID", id, "dsTransID", e.DSTransID, "errorCode", e.ErrorCode,
		"errorComponent", e.ErrorComponent, "errorDetail", e.ErrorDetail, "erro", e.Summary())
}

func (s *Server) record(ctx context.Context, ex store.Exchange) {
	tracing.Exchange(ctx, ex)
	if s.cfg.Recorder == nil {
		return
	}
	if err := s.cfg.Recorder.RecordExchange(context.WithoutCancel(ctx), ex); err != nil {
		s.cfg.Log.WarnContext(ctx, "could not record exchange", "type", ex.MessageType, "err", err)
	}
}

func codeOf(err error) string {
	if e := emv.AsError(err); e != nil {
		return fmt.Sprintf("%03d", int(e.Code))
	}
	return ""
}

// since is a duration for the API, in whole milliseconds.
func since(a, b time.Time) int64 {
	if a.IsZero() || b.IsZero() {
		return 0
	}
	return b.Sub(a).Milliseconds()
}
