package ds

import (
	"context"
	"errors"
	"strconv"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/ids"
	"github.com/open3ds/open3ds/internal/store"
)

// handlePReq answers the card ranges: all of them without serialNum, the changes since a known
// serialNum otherwise. It paces each 3DS Server (Erro 103) and answers an unknown serial with 307,
// after which one full PReq is admitted at once.
func (s *Server) handlePReq(ctx context.Context, c caller, preq *emv.PReq, ex *store.Exchange) (emv.Message, error) {
	ex.ThreeDSServerTransID = preq.ThreeDSServerTransID
	if field := identityMismatch(c.server, preq.ThreeDSServerRefNumber, preq.ThreeDSServerOperatorID); field != "" {
		return nil, about(emv.Errorf(emv.CodeAccessDenied, "%s", field), preq)
	}
	full := preq.SerialNum == ""
	ok, err := s.cfg.Store.PacePReq(ctx, c.name, s.cfg.Now(), s.cfg.PReqEvery, full)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, about(emv.Errorf(emv.CodeSentLimitExceeded, "PReq sent more often than the DS allows"), preq)
	}
	pres := &emv.PRes{
		MessageType: emv.TypePRes, MessageVersion: preq.MessageVersion, ThreeDSServerTransID: preq.ThreeDSServerTransID,
		DSTransID: ids.New(), DSStartProtocolVersion: emv.Versions[0], DSEndProtocolVersion: emv.Versions[len(emv.Versions)-1],
	}
	ex.DSTransID = pres.DSTransID
	var serial int64
	if full {
		var ranges []Range
		ranges, serial, err = s.cfg.Store.Ranges(ctx)
		if err != nil {
			return nil, err
		}
		pres.CardRangeData = make([]emv.CardRangeData, len(ranges))
		for i, r := range ranges {
			pres.CardRangeData[i] = cardRange("A", r)
		}
	} else {
		since, valid := parseSerial(preq.SerialNum)
		var changes []RangeChange
		if valid {
			changes, serial, err = s.cfg.Store.RangesSince(ctx, since)
		}
		if !valid || errors.Is(err, store.ErrNotFound) {
			if err := s.cfg.Store.OweReload(ctx, c.name); err != nil {
				return nil, err
			}
			return nil, about(emv.Errorf(emv.CodeSerialNumInvalid, "serialNum"), preq)
		} else if err != nil {
			return nil, err
		}
		pres.CardRangeData = make([]emv.CardRangeData, len(changes))
		for i, ch := range changes {
			pres.CardRangeData[i] = cardRange(ch.Action, ch.Range)
		}
	}
	pres.SerialNum = strconv.FormatInt(serial, 10)
	ex.Outcome = strconv.Itoa(len(pres.CardRangeData)) + " ranges"
	return pres, nil
}

func cardRange(action string, r Range) emv.CardRangeData {
	return emv.CardRangeData{
		StartRange: r.Start, EndRange: r.End, ActionInd: action,
		ACSStartProtocolVersion: r.ACSStart, ACSEndProtocolVersion: r.ACSEnd,
		DSStartProtocolVersion: r.DSStart, DSEndProtocolVersion: r.DSEnd,
		ThreeDSMethodURL: r.MethodURL, ACSInfoInd: r.ACSInfoInd,
	}
}
