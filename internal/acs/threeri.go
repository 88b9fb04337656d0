package acs

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/store"
)

// 3RI (deviceChannel 03, PROTOCOL.md §1.6): the requestor authenticates with no cardholder present,
// on the strength of an earlier cardholder authentication. The ACS never challenges one. When the
// AReq names a prior authentication this ACS issued (threeDSRequestorPriorAuthenticationInfo's
// threeDSReqPriorRef, which is that one's acsTransID), the 3RI is authenticated against it:
//
//   - the prior is of the same card (its pan_hash) and came from the same requestor
//     (threeDSRequestorID), else N 01 (another card) or N 07 (another requestor);
//   - the prior was a cardholder authentication (browser or app, not a 3RI itself, so that a chain
//     of 3RIs cannot outlive the cardholder's consent) that ended Y, else N 07 or N 01. An A is
//     proof of an attempt, not of the cardholder, so it backs no 3RI;
//   - the recurring limits hold, else N: the limits are the prior's recurring data when it set any
//     (what the cardholder agreed to), else the 3RI AReq's own. recurringExpiry not passed (07);
//     for recurring (01) and instalment (02), not sooner after the previous 3RI on the same prior
//     than recurringFrequency days allow, with a grace of a tenth of the period (at least a day) for
//     billing runs on months of different lengths (04, exceeds frequency limit); for instalments,
//     no more 3RIs than purchaseInstalData less the prior, which was the first instalment (07);
//     with a fixed amount (2.3.1 recurringInd.amountInd 01) not above recurringAmount, or the
//     prior's amount when none was given (07); a split or delayed shipment (06) not above the
//     prior's amount (07); and where amounts are compared, the same currency (07).
//
// The prior's row records how many 3RIs it backed and the latest one's time, written in the 3RI's
// own commit on the condition that nobody linked another meanwhile (PriorLink), so that parallel
// 3RIs on one agreement cannot all pass a limit.
//
// A prior reference this ACS does not know (another ACS's, or a typo) gives U 07: the ACS cannot
// say whether the cardholder agreed. A 3RI with no prior reference keeps the risk engine's decision,
// with a challenge turned into the issuer's no-challenge policy, as before. A 3RI the risk engine
// denies stays denied whatever its prior. A Y carries an authentication value and the scheme's ECI
// for an authenticated transaction: our sources give no separate 3RI ECI [U], so none is invented.

// priorRefOf is the acsTransID of the prior authentication a 3RI AReq names, "" when none.
func priorRefOf(a *emv.AReq) string {
	for _, p := range a.ThreeDSRequestorPriorAuthenticationInfo.Items {
		if p.ThreeDSReqPriorRef != "" {
			return p.ThreeDSReqPriorRef
		}
	}
	return ""
}

// recurringOf fills t's recurring limits from the AReq.
func recurringOf(a *emv.AReq, t *Transaction) {
	t.RequestorID, t.ThreeRIInd, t.RecurringExpiry = a.ThreeDSRequestorID, a.ThreeRIInd, a.RecurringExpiry
	t.RecurringFrequency, _ = strconv.Atoi(a.RecurringFrequency)
	t.InstalCount, _ = strconv.Atoi(a.PurchaseInstalData)
	t.RecurringAmount = -1
	if n, err := strconv.ParseInt(a.RecurringAmount, 10, 64); err == nil {
		t.RecurringAmount = n
	}
	t.RecurringFixed = a.RecurringInd != nil && a.RecurringInd.AmountInd == "01"
	if a.DeviceChannel == emv.Channel3RI {
		t.PriorRef = priorRefOf(a)
	}
}

// limits are the recurring terms a 3RI is held to.
type limits struct {
	expiry    string
	frequency int
	amount    int64
	fixed     bool
	instal    int
	currency  string
}

func limitsOf(t Transaction) limits {
	return limits{expiry: t.RecurringExpiry, frequency: t.RecurringFrequency, amount: t.RecurringAmount,
		fixed: t.RecurringFixed, instal: t.InstalCount, currency: t.Currency}
}

func (l limits) set() bool { return l.expiry != "" || l.frequency > 0 || l.instal > 0 || l.fixed }

// threeRI authenticates a 3RI AReq against its prior (see the comment above). d is the risk engine's
// decision as apply made it, denied whether the engine denied it; the answer is d when there is no
// prior to check or the engine denied it, and with a Y the PriorLink to record.
func (s *Service) threeRI(ctx context.Context, a *emv.AReq, t *Transaction, d decision, denied bool) (decision, *PriorLink, error) {
	if t.PriorRef == "" || denied {
		return d, nil, nil
	}
	prior, err := s.Store.Transaction(ctx, t.PriorRef)
	if errors.Is(err, store.ErrNotFound) {
		return refuse(d, "U", "07", "prior authentication unknown to this ACS"), nil, nil
	}
	if err != nil {
		return d, nil, err
	}
	status, reason, why := checkPrior(a, *t, prior)
	if status != "Y" {
		return refuse(d, status, reason, why), nil, nil
	}
	d.status, d.reason, d.mandated = "Y", "", false
	d.reasons = append(d.reasons, "authenticated against prior authentication "+prior.ACSTransID)
	limited := a.ThreeRIInd == "01" || a.ThreeRIInd == "02"
	return d, &PriorLink{PriorRef: prior.ACSTransID, SeenCount: prior.LinkedCount, Limited: limited, At: t.CreatedAt}, nil
}

func refuse(d decision, status, reason, why string) decision {
	d.status, d.reason, d.mandated = status, reason, false
	d.reasons = append(d.reasons, why)
	return d
}

// checkPrior holds the 3RI t (its AReq a) to its prior; it answers Y, or the status, reason and why
// of the refusal.
func checkPrior(a *emv.AReq, t, prior Transaction) (status, reason, why string) {
	switch {
	case prior.PANHash == "" || prior.PANHash != t.PANHash:
		return "N", "01", "prior authentication was of another card"
	case prior.RequestorID == "" || prior.RequestorID != t.RequestorID:
		return "N", "07", "prior authentication was for another requestor"
	case prior.DeviceChannel == emv.Channel3RI:
		return "N", "07", "prior authentication was itself a 3RI"
	case prior.TransStatus != "Y":
		return "N", "01", "prior authentication did not succeed"
	}
	lim := limitsOf(prior)
	if !lim.set() {
		lim = limitsOf(t)
	}
	if lim.expiry != "" && lim.expiry < t.CreatedAt.UTC().Format("20060102") {
		return "N", "07", "recurring agreement expired"
	}
	ind := a.ThreeRIInd
	if (ind == "01" || ind == "02") && lim.frequency > 0 && !prior.LinkedLastAt.IsZero() {
		period := time.Duration(lim.frequency) * 24 * time.Hour
		grace := max(24*time.Hour, period/10)
		if t.CreatedAt.Sub(prior.LinkedLastAt) < period-grace {
			return "N", "04", "sooner than the recurring frequency allows"
		}
	}
	if ind == "02" && lim.instal > 0 && prior.LinkedCount+1 >= lim.instal {
		return "N", "07", "every instalment was already authenticated"
	}
	ceiling := int64(-1)
	if lim.fixed {
		ceiling = lim.amount
		if ceiling < 0 {
			ceiling = prior.Amount
		}
	}
	if ind == "06" {
		ceiling = prior.Amount
	}
	if ceiling >= 0 {
		if t.Currency != "" && lim.currency != "" && t.Currency != lim.currency {
			return "N", "07", "currency differs from the prior authentication's"
		}
		if t.Amount > ceiling {
			return "N", "07", "amount above what the prior authentication agreed"
		}
	}
	return "Y", "", ""
}

// channelPolicy is the issuer's refusal of a whole kind of AReq: 3RI (reason 21) or non-payment
// (reason 20), whatever the channel. ok is false when the issuer refuses it.
func channelPolicy(a *emv.AReq, is Issuer) (decision, bool) {
	switch {
	case a.DeviceChannel == emv.Channel3RI && is.Refuse3RI:
		return decision{status: "N", reason: "21", reasons: []string{"issuer does not support 3RI"}}, false
	case a.MessageCategory == emv.CategoryNonPayment && is.RefuseNonPayment:
		return decision{status: "N", reason: "20", reasons: []string{"issuer does not support non-payment authentication"}}, false
	}
	return decision{}, true
}
