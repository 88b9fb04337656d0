package threedsserver

import (
	"context"
	"errors"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/ids"
	"github.com/open3ds/open3ds/internal/logx"
	"github.com/open3ds/open3ds/internal/store"
)

func maskPAN(pan string) string { return logx.MaskPAN(pan) }

// RefreshRanges brings the card-range cache up to date with one PReq: a delta since the stored
// serialNum when there is one, a full load otherwise, and a full load again when the DS answers
// 307 (it no longer knows our serial).
func (s *Server) RefreshRanges(ctx context.Context) error {
	st, err := s.cfg.Store.CacheState(ctx)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	err = s.preq(ctx, st.Serial)
	var remote *RemoteError
	if st.Serial != "" && errors.As(err, &remote) && remote.Erro.ErrorCode == "307" {
		s.cfg.Log.Info("DS no longer knows our serialNum; reloading every range")
		err = s.preq(ctx, "")
	}
	return err
}

func (s *Server) preq(ctx context.Context, serial string) error {
	req := &emv.PReq{MessageType: emv.TypePReq, MessageVersion: emv.Version220, ThreeDSServerTransID: ids.New(),
		ThreeDSServerRefNumber: s.cfg.RefNumber, ThreeDSServerOperatorID: s.cfg.OperatorID, SerialNum: serial}
	start := s.cfg.Now()
	ex := store.Exchange{Role: store.Role3DSS, Direction: store.Out, Peer: "ds", MessageType: emv.TypePReq,
		ThreeDSServerTransID: req.ThreeDSServerTransID, MessageVersion: req.MessageVersion, StartedAt: start}
	defer func() {
		ex.Duration = s.cfg.Now().Sub(start)
		s.record(ctx, ex)
		s.cfg.Metrics.message(emv.TypePReq, ex.Outcome)
	}()
	body, err := s.post(ctx, req)
	if err != nil {
		ex.Outcome, ex.ErrorCode = "timeout", codeOf(err)
		return err
	}
	m, err := emv.Parse(body, nil)
	if err != nil {
		ex.Outcome, ex.ErrorCode = "invalid", codeOf(err)
		return err
	}
	switch m := m.(type) {
	case *emv.Erro:
		ex.ResponseType, ex.Outcome, ex.ErrorCode, ex.ErrorComponent = emv.TypeErro, "Erro", m.ErrorCode, m.ErrorComponent
		return &RemoteError{Erro: m}
	case *emv.PRes:
		ex.ResponseType, ex.Outcome, ex.DSTransID = emv.TypePRes, "ok", m.DSTransID
		if m.ThreeDSServerTransID != req.ThreeDSServerTransID {
			ex.Outcome = "invalid"
			return &emv.Error{Code: emv.CodeTransIDNotRecognised, Detail: "threeDSServerTransID", MessageType: emv.TypePRes}
		}
		return s.applyPRes(ctx, m, serial == "")
	}
	ex.Outcome = "invalid"
	return &emv.Error{Code: emv.CodeMessageInvalid, Detail: "messageType", MessageType: m.Type()}
}

// applyPRes stores a PRes: the whole list for a full load, the A/M/D changes for a delta.
func (s *Server) applyPRes(ctx context.Context, pres *emv.PRes, full bool) error {
	now := s.cfg.Now()
	st := CacheState{Serial: pres.SerialNum, DSStart: pres.DSStartProtocolVersion, DSEnd: pres.DSEndProtocolVersion,
		Refresh: s.cfg.Refresh, LoadedAt: now, NextAt: now.Add(s.cfg.Refresh)}
	var upsert []Range
	var remove []string
	for _, c := range pres.CardRangeData {
		if c.ActionInd == "D" {
			// In a full list a deletion has nothing to delete; in a delta it removes the range.
			if !full {
				remove = append(remove, c.StartRange)
			}
			continue
		}
		upsert = append(upsert, Range{Start: c.StartRange, End: c.EndRange, ACSStart: c.ACSStartProtocolVersion,
			ACSEnd: c.ACSEndProtocolVersion, DSStart: c.DSStartProtocolVersion, DSEnd: c.DSEndProtocolVersion,
			MethodURL: c.ThreeDSMethodURL, ACSInfoInd: c.ACSInfoInd})
	}
	if full {
		return s.cfg.Store.ReplaceRanges(ctx, upsert, st)
	}
	return s.cfg.Store.ApplyRanges(ctx, upsert, remove, st)
}

// RunRefresher loads the ranges now if the cache is empty, then wakes every minute and sends a PReq
// when the shared schedule says one is due and this instance claims it. It returns when ctx ends.
func (s *Server) RunRefresher(ctx context.Context) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		if err := s.RefreshIfDue(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Log.Warn("card-range refresh failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// RefreshIfDue loads the card ranges when none are cached yet, or when this instance wins the claim
// on a due refresh; otherwise it does nothing. RunRefresher calls it every minute.
func (s *Server) RefreshIfDue(ctx context.Context) error {
	_, err := s.cfg.Store.CacheState(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return s.RefreshRanges(ctx)
	} else if err != nil {
		return err
	}
	now := s.cfg.Now()
	// A failed PReq is retried after a few minutes rather than a whole period.
	won, err := s.cfg.Store.ClaimRefresh(ctx, now, now.Add(5*time.Minute))
	if err != nil || !won {
		return err
	}
	return s.RefreshRanges(ctx)
}

// PickVersion is the highest version that we, the DS and the range's ACS all support
// (PROTOCOL.md §6), or "" when there is none.
func PickVersion(r Range, dsStart, dsEnd string) string {
	for i := len(emv.Versions) - 1; i >= 0; i-- {
		v := emv.Versions[i]
		if within(v, ourLowest, ourHighest) && within(v, r.ACSStart, r.ACSEnd) && within(v, r.DSStart, r.DSEnd) &&
			(dsStart == "" || within(v, dsStart, dsEnd)) {
			return v
		}
	}
	return ""
}

func within(v, lo, hi string) bool {
	return lo != "" && hi != "" && emv.CompareVersions(v, lo) >= 0 && emv.CompareVersions(v, hi) <= 0
}

// RangesReady is the 3DS Server's readiness check beyond its store: it cannot tell a merchant
// whether a card is enrolled, or which version to speak, before the first card-range list from the
// DS is in the store. Once loaded, ranges that the DS has not refreshed since still serve, so an
// unreachable DS does not take every instance out of the load balancer.
func (s *Server) RangesReady(ctx context.Context) error {
	_, err := s.cfg.Store.CacheState(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return errors.New("no card ranges loaded from the DS yet (the first PReq has not succeeded)")
	}
	return err
}
