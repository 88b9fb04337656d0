package acs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/open3ds/open3ds/internal/authvalue"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/tracing"
)

// End is how an authentication ended, as the challenge (or a timeout) reports it.
type End struct {
	ACSTransID string
	// TransStatus is Y, N, U, A or R.
	TransStatus string
	Reason      string
	// ChallengeCancel and InteractionCounter go into the RReq when set.
	ChallengeCancel    string
	InteractionCounter int
	// ChallengeFailed marks a challenge the cardholder failed, which the risk engine counts.
	ChallengeFailed bool
	// RenderingType is how an app challenge was shown, for the RReq's acsRenderingType.
	RenderingType *emv.ACSRenderingType
}

// EndAuthentication ends a challenged or decoupled authentication: it makes the authentication
// value for Y or A, and records the outcome with its RReq in the outbox in one store transaction, so
// that the RReq is sent (by a Sender) exactly when the outcome is kept. Ending twice is ErrConflict.
func (s *Service) EndAuthentication(ctx context.Context, end End) error {
	_, err := s.endAuthentication(ctx, end, nil, nil)
	return err
}

// endAuthentication is EndAuthentication that also writes a challenge's final state in the same
// commit (when challenge is set) and returns the transaction as it now stands. read is the
// transaction as the caller just read it, or nil to read it here.
func (s *Service) endAuthentication(ctx context.Context, end End, challenge *ChallengeRow, read *Transaction) (Transaction, error) {
	var t Transaction
	if read != nil {
		t = *read
	} else {
		var err error
		if t, err = s.Store.Transaction(ctx, end.ACSTransID); err != nil {
			return t, err
		}
	}
	is, err := s.Store.Issuer(ctx, t.IssuerID)
	if err != nil {
		return t, err
	}
	r := &emv.RReq{MessageType: emv.TypeRReq, MessageVersion: t.MessageVersion, ThreeDSServerTransID: t.ThreeDSServerTransID,
		ACSTransID: t.ACSTransID, DSTransID: t.DSTransID, SDKTransID: t.SDKTransID, MessageCategory: t.MessageCategory,
		TransStatus: end.TransStatus, TransStatusReason: end.Reason, ChallengeCancel: end.ChallengeCancel,
		InteractionCounter: fmt.Sprintf("%02d", min(end.InteractionCounter, 99))}
	if emv.CompareVersions(t.MessageVersion, emv.Version220) < 0 {
		r.SDKTransID = "" // the RReq carries sdkTransID from 2.2.0 on
	}
	r.ACSRenderingType = end.RenderingType
	if t.TransStatus == "D" {
		r.AuthenticationType = "04"
	} else {
		r.AuthenticationType = "02"
	}
	if emv.CompareVersions(t.MessageVersion, emv.Version231) >= 0 {
		r.AuthenticationMethod, r.AuthenticationType = []string{map[string]string{"04": "11", "02": "02"}[r.AuthenticationType]}, ""
	}
	now := s.now()
	switch end.TransStatus {
	case "Y", "A":
		pan, err := s.Store.TransactionPAN(ctx, t.ACSTransID)
		if err != nil {
			return t, err
		}
		keys, ok := s.Keys(is.AuthValueKeyRef)
		if !ok {
			return t, errNoKeys
		}
		if r.AuthenticationValue, err = keys.Create(AuthFacts{ACSTransID: t.ACSTransID, PAN: pan, Amount: fmt.Sprint(t.Amount),
			Currency: t.Currency, Merchant: t.Merchant, Outcome: end.TransStatus[0], Time: now}); err != nil {
			return t, err
		}
		r.ECI = authvalue.ECI(is.ECIStyle, end.TransStatus[0])
	default:
		r.ECI = authvalue.ECI(is.ECIStyle, 'N')
	}
	if err := emv.Validate(r, nil); err != nil {
		return t, fmt.Errorf("acs: our own RReq is invalid: %w", err)
	}
	body, err := emv.Marshal(r)
	if err != nil {
		return t, err
	}
	ended := Ended{ACSTransID: t.ACSTransID, TransStatus: end.TransStatus, Reason: end.Reason,
		ECI: r.ECI, AuthValue: r.AuthenticationValue, ChallengeFailed: end.ChallengeFailed, At: now, Challenge: challenge}
	if err := s.Store.EndTransaction(ctx, ended, OutboxRow{URL: t.DSURL, Body: body}); err != nil {
		return t, err
	}
	if s.Ended != nil {
		s.Ended()
	}
	t.TransStatus, t.Reason, t.ECI, t.AuthValue, t.EndedAt = ended.TransStatus, ended.Reason, ended.ECI, ended.AuthValue, now
	t.ChallengeFailed = t.ChallengeFailed || ended.ChallengeFailed
	return t, nil
}

// Sender delivers queued RReqs to the DS over mutual TLS, retrying with exponential back-off until an
// RRes comes back. Several senders (one per ACS instance) may share a store: rows are leased.
type Sender struct {
	Store  Store
	Client *http.Client // carries the ACS certificate
	// DSURL is where RReqs go when the AReq carried no dsURL.
	DSURL string
	Owner string        // this instance's name in leases; random when empty
	Lease time.Duration // how long a row stays ours while sending; 30 s when zero
	Every time.Duration // how often to look for due rows besides Wake (retries, other instances' leftovers); 1 s when zero
	// Backoff is the first retry delay, doubled per attempt up to MaxBackoff (1 s and 10 min when zero).
	Backoff, MaxBackoff time.Duration
	Log                 *slog.Logger
	Now                 func() time.Time
	// Drain, when set, lets a batch being sent finish when Run's context ends (a shutdown), within
	// the drain's grace, instead of cancelling the posts half way; without it ctx ends them at once.
	Drain *httpx.Drain

	wakeOnce sync.Once
	wake     chan struct{}
}

// Wake makes a running Sender look for due rows now, without waiting for its next tick. It never
// blocks: wakes that arrive while one is pending are one wake.
func (s *Sender) Wake() {
	select {
	case s.wakeup() <- struct{}{}:
	default:
	}
}

func (s *Sender) wakeup() chan struct{} {
	s.wakeOnce.Do(func() { s.wake = make(chan struct{}, 1) })
	return s.wake
}

// Run sends until ctx ends: at every tick of Every, and whenever Wake is called.
func (s *Sender) Run(ctx context.Context) {
	s.defaults()
	tick := time.NewTicker(s.Every)
	defer tick.Stop()
	wake := s.wakeup()
	for {
		s.SendDue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-wake:
		}
	}
}

func (s *Sender) defaults() {
	if s.Owner == "" {
		s.Owner = newID("sender-")
	}
	if s.Lease == 0 {
		s.Lease = 30 * time.Second
	}
	if s.Every == 0 {
		s.Every = time.Second
	}
	if s.Backoff == 0 {
		s.Backoff = time.Second
	}
	if s.MaxBackoff == 0 {
		s.MaxBackoff = 10 * time.Minute
	}
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
}

// SendDue sends every row due now once, and says how many were delivered.
func (s *Sender) SendDue(ctx context.Context) int {
	s.defaults()
	stop := ctx
	if s.Drain != nil {
		var done func()
		ctx, done = s.Drain.Detach(stop, "RReq delivery")
		defer done()
	}
	if stop.Err() != nil || ctx.Err() != nil {
		return 0
	}
	rows, err := s.Store.LeaseRReqs(ctx, s.Owner, s.Now(), s.Lease, 20)
	if err != nil {
		s.Log.ErrorContext(ctx, "leasing RReqs", "err", err)
		return 0
	}
	sent := 0
	for i, row := range rows {
		if stop.Err() != nil {
			// Shutting down: the row being sent was finished, the rest keep their lease until it
			// runs out and another instance (or this one, restarted) sends them.
			s.Log.InfoContext(ctx, "stopping with RReqs leased but not sent; they go when the lease ends", "rows", len(rows)-i)
			break
		}
		status, err := s.send(ctx, row)
		if err == nil {
			err = s.Store.RReqSent(ctx, row, status, s.Now())
			if err == nil {
				sent++
				continue
			}
		}
		delay := min(s.Backoff<<min(row.Attempts, 20), s.MaxBackoff)
		delay += time.Duration(rand.Int64N(int64(delay)/5 + 1)) // jitter, so instances do not retry in step
		s.Log.WarnContext(ctx, "RReq not delivered; will retry", "acsTransID", row.ACSTransID, "attempt", row.Attempts+1, "in", delay, "err", err)
		if ferr := s.Store.RReqFailed(ctx, row, err.Error(), s.Now().Add(delay)); ferr != nil {
			s.Log.ErrorContext(ctx, "recording a failed RReq", "err", ferr)
		}
	}
	return sent
}

// send posts one RReq and accepts only an RRes for the same transaction.
func (s *Sender) send(ctx context.Context, row OutboxRow) (string, error) {
	url := row.URL
	if url == "" {
		url = s.DSURL
	}
	if url == "" {
		return "", errors.New("no DS URL for the RReq")
	}
	req, err := http.NewRequestWithContext(tracing.Sending(ctx, emv.TypeRReq), http.MethodPost, url, bytes.NewReader(row.Body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := s.Client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", err
	}
	// An Erro is read first, whatever the HTTP status: the DS's own words (405, "3DS Server did not
	// answer the RReq") tell the operator what to fix, where parsing it as the RRes we asked for
	// would only say "101 messageType".
	if e, ok := emv.PeekErro(body); ok {
		return "", fmt.Errorf("DS answered %s", e.Summary())
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("DS answered HTTP %d", resp.StatusCode)
	}
	m, err := emv.ParseAs(body, emv.TypeRRes, nil)
	if err != nil {
		return "", fmt.Errorf("DS answered no valid RRes: %w", err)
	}
	rres := m.(*emv.RRes)
	if rres.ACSTransID != row.ACSTransID {
		return "", errors.New("RRes names another transaction")
	}
	return rres.ResultsStatus, nil
}
