package threedsserver

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/store"
)

// exchangeBudget is the most an authenticate call's exchange may take once it has claimed its
// transaction: the AReq (Timeout), an Erro to the DS about a bad ARes (Timeout again), and a few
// seconds for the store. The exchange runs under this deadline whatever the merchant's request does.
func (s *Server) exchangeBudget() time.Duration { return 2*s.cfg.Timeout + 5*time.Second }

// stuckAfter is how long a transaction may stay in "sending" before the sweeper ends it: past the
// exchange's own deadline, no exchange can still finish it, so its instance died mid-way. The extra
// half minute covers clocks of several instances that disagree a little, since one instance writes
// sending_at and another may sweep.
func (s *Server) stuckAfter() time.Duration { return s.exchangeBudget() + 30*time.Second }

// What a swept transaction says. 402 is the code the protocol gives a transaction that timed out,
// and what a merchant already gets when the DS does not answer in time: a final error, after which
// it starts a new authentication.
var sweptCode = strconv.Itoa(int(emv.CodeTimeout))

const sweptDetail = "AReq outcome not recorded in time"

// SweepStuck ends every transaction left in "sending" for longer than an exchange may take, as
// error 402, and says how many this call ended. Any number of instances may sweep at once: each row
// is ended by one conditional UPDATE, so exactly one of them ends it and notifies the merchant.
func (s *Server) SweepStuck(ctx context.Context) (int, error) {
	now := s.cfg.Now()
	before := now.Add(-s.stuckAfter())
	ended := 0
	for {
		ids, err := s.cfg.Store.StuckInSending(ctx, before, 100)
		if err != nil {
			return ended, err
		}
		won := 0
		for _, id := range ids {
			err := s.cfg.Store.EndStuck(ctx, id, before, now, sweptCode, sweptDetail)
			if errors.Is(err, store.ErrNotFound) {
				continue // another instance, or the exchange itself, came first
			} else if err != nil {
				return ended, err
			}
			won++
			s.cfg.Log.Warn("ended a transaction left in sending", "id", id, "errorCode", sweptCode)
			s.cfg.Metrics.auth("error")
			if t, err := s.cfg.Store.Transaction(ctx, id); err == nil {
				s.notify(ctx, t)
			}
		}
		ended += won
		// A full page that this call did not empty is being swept by another instance too; the
		// rows it left are theirs, and the next tick looks again.
		if len(ids) < 100 || won == 0 {
			return ended, nil
		}
	}
}

// RunSweeper sweeps until ctx ends, every ARes timeout: often enough that a stuck transaction ends
// within a minute or two of its exchange's deadline, rarely enough to cost nothing.
func (s *Server) RunSweeper(ctx context.Context) {
	tick := time.NewTicker(max(s.cfg.Timeout, time.Second))
	defer tick.Stop()
	for {
		if _, err := s.SweepStuck(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Log.Error("sweeping transactions left in sending", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
