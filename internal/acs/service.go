package acs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/tracing"
)

// Service is the ACS's protocol side: it answers AReqs relayed by a DS.
type Service struct {
	Store Store
	Risk  RiskEngine
	// Keys finds an issuer's authentication-value keys by the issuer's AuthValueKeyRef.
	Keys func(ref string) (AuthValueKeys, bool)
	// ChallengeURL is the public address of the challenge page, sent as acsURL.
	ChallengeURL string
	// AppURL is the public address of the app challenge (POST <acsURL> with a JWE), sent inside
	// acsSignedContent; AppSigning signs that content. Without both, app AReqs that need a
	// challenge get the issuer's no-challenge policy.
	AppURL          string
	AppSigning      *AppSigning
	ReferenceNumber string // acsReferenceNumber
	OperatorID      string // acsOperatorID
	// IPCountries, when set, gives the country of a device's IP address for the risk engine's
	// locale rule; nil knows no country.
	IPCountries *IPCountries
	Now         func() time.Time
	Log         *slog.Logger
	// Exchanges, when set, keeps every AReq and its answer in the message-exchange log. A decided
	// AReq's row is written by the Store instead, in the commit that stores the transaction (the
	// Store's database holds the log too); Exchanges records the AReqs answered with an Erro.
	Exchanges ExchangeRecorder
	// Ended, when set, is called once an authentication's end is committed with its RReq queued;
	// the Sender's Wake, so that the RReq leaves at once instead of at the Sender's next look.
	Ended func()
	// DecoupledMax caps how long a decoupled authentication waits for the cardholder (the
	// requestor's threeDSRequestorDecMaxTime when shorter), DefaultDecoupledMax when zero;
	// DecoupledMin is the least time the ACS tries in, DefaultDecoupledMin when zero.
	DecoupledMax, DecoupledMin time.Duration
	// DecoupledStarted, when set, is called once an ARes D is committed, to tell the cardholder
	// (Browser.SendDecoupled). Without it the ACS answers no D: nobody could approve.
	DecoupledStarted func(ctx context.Context, d DecoupledStart)
	// Drain tracks the AReqs that outlive the DS's request, so that a shutdown waits for them; nil
	// detaches them untracked.
	Drain *httpx.Drain
}

// ExchangeRecorder keeps the message-exchange log; *store.DB is one.
type ExchangeRecorder interface {
	RecordExchange(ctx context.Context, e store.Exchange) error
}

// maxAReq bounds an AReq body: sdkEncData alone may be 64000 characters.
const maxAReq = 256 << 10

// Handler serves the protocol endpoint: POST /areq, for DS certificates only.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /areq", httpx.Protocol(emv.ComponentACS, emv.Version220, s.serveAReq))
	return mux
}

// areqBudget bounds an AReq's work once it has started. The work runs on its own context, not the
// DS's request: a DS that hangs up (its own timeout, a dropped connection) must not leave the
// transaction half stored, and a decision once taken is stored whatever the caller does.
const areqBudget = 30 * time.Second

func (s *Service) serveAReq(w http.ResponseWriter, r *http.Request) (err error) {
	dctx, done := s.Drain.Detach(r.Context(), "AReq")
	defer done()
	ctx, cancel := context.WithTimeout(dctx, areqBudget)
	defer cancel()
	ex := store.Exchange{Role: store.RoleACS, Direction: store.In, Peer: "unknown", MessageType: emv.TypeAReq, StartedAt: time.Now()}
	var res *emv.ARes
	defer func() {
		// A decided AReq's exchange was stored with its transaction.
		if res == nil {
			s.record(ctx, ex, err)
			return
		}
		answered(&ex, res)
		tracing.Exchange(ctx, ex)
	}()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAReq))
	if err != nil {
		return emv.Errorf(emv.CodeMessageInvalid, "message body")
	}
	// The caller's role is checked before the body is trusted in any way, but after reading it,
	// so that the Erro can name the transaction when the body shows it.
	id, err := pki.IdentifyRequest(r)
	if err == nil && id.Name != "" {
		ex.Peer = id.Name
	}
	if err != nil || id.Role != "ds" {
		e := emv.Errorf(emv.CodeAccessDenied, "client certificate")
		e.Err = fmt.Errorf("caller is not a DS: %v %v", id, err)
		if m, perr := emv.ParseAs(body, emv.TypeAReq, nil); perr == nil {
			a := m.(*emv.AReq)
			e.MessageType, e.MessageVersion, e.ThreeDSServerTransID, e.DSTransID = emv.TypeAReq, a.MessageVersion, a.ThreeDSServerTransID, a.DSTransID
		}
		return e
	}
	m, err := DecodeAReq(body)
	if err != nil {
		return err
	}
	ex.ThreeDSServerTransID, ex.DSTransID, ex.SDKTransID = m.ThreeDSServerTransID, m.DSTransID, m.SDKTransID
	ex.MaskedPAN, ex.MessageVersion = MaskPAN(m.AcctNumber), m.MessageVersion
	var logged *store.Exchange
	if s.Exchanges != nil {
		logged = &ex
	}
	if res, err = s.Authenticate(ctx, m, logged); err != nil {
		return err
	}
	return httpx.WriteMessage(w, res)
}

// answered completes an AReq's exchange with its ARes.
func answered(ex *store.Exchange, res *emv.ARes) {
	ex.Duration = time.Since(ex.StartedAt)
	ex.ResponseType, ex.Outcome, ex.ACSTransID = emv.TypeARes, res.TransStatus, res.ACSTransID
}

// record logs the exchange of an AReq answered with an Erro; a failure to record is logged and does
// not change the answer.
func (s *Service) record(ctx context.Context, ex store.Exchange, err error) {
	if s.Exchanges == nil {
		return
	}
	ex.Duration = time.Since(ex.StartedAt)
	// The answer was an Erro (AsError makes any failure one): no transaction was stored, so the row
	// names none, even when the AReq got as far as being given an acsTransID.
	e := emv.AsError(err)
	ex.ACSTransID = ""
	ex.ResponseType, ex.Outcome, ex.ErrorCode, ex.ErrorComponent = emv.TypeErro, "Erro", fmt.Sprint(int(e.Code)), string(emv.ComponentACS)
	if ex.ThreeDSServerTransID == "" {
		ex.ThreeDSServerTransID, ex.DSTransID, ex.MessageVersion = e.ThreeDSServerTransID, e.DSTransID, e.MessageVersion
	}
	tracing.Exchange(ctx, ex)
	if rerr := s.Exchanges.RecordExchange(ctx, ex); rerr != nil {
		s.log().WarnContext(ctx, "recording an exchange", "err", rerr)
	}
}

// DecodeAReq parses and validates an AReq as the ACS receives it: besides the message's own rules,
// the DS must have stamped its dsTransID. Every failure is an *emv.Error for the Erro.
func DecodeAReq(body []byte) (*emv.AReq, error) {
	m, err := emv.ParseAs(body, emv.TypeAReq, nil)
	if err != nil {
		return nil, err
	}
	a := m.(*emv.AReq)
	if a.DSTransID == "" {
		e := emv.Errorf(emv.CodeRequiredMissing, "dsTransID")
		e.MessageType, e.MessageVersion, e.ThreeDSServerTransID = emv.TypeAReq, a.MessageVersion, a.ThreeDSServerTransID
		return nil, e
	}
	return a, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

var errNoKeys = errors.New("acs: no authentication-value keys for the issuer")
