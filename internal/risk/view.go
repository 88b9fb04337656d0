package risk

import (
	"time"

	"github.com/open3ds/open3ds/internal/emv"
)

// view is the AReq and facts digested once per evaluation, so that every rule reads plain
// fields instead of parsing strings again; a live and a shadow policy each build their own,
// which costs less than sharing one through the API would.
type view struct {
	a    *emv.AReq
	f    *Facts
	now  time.Time
	acct *emv.AcctInfo
	mr   *emv.MerchantRisk

	// amount is purchaseAmount in minor units, or -1 when absent or not a number; exp is
	// purchaseExponent (0 when absent).
	amount int64
	exp    int

	threeRI     bool   // deviceChannel 03: no cardholder is present
	mandate     bool   // threeDSRequestorChallengeInd 04
	noChallenge bool   // a challenge is impossible or invalid (3RI, or indicator 06)
	exemption   string // the first of the exemption indicators 05–08 present, or ""

	// The 2.3.1 data, read once: the trust-list status and its source, whichever of 2.2.0's
	// whiteList* and 2.3.1's trustList* the version has; and the number of sellers, the larger of
	// sellerInfo's and multiTransaction's merchantList's.
	listStatus, listSource string
	sellers                int
}

// Empty stand-ins for absent parts of the AReq, so that rules need no nil checks. They are
// never written to.
var (
	emptyAReq  emv.AReq
	emptyAcct  emv.AcctInfo
	emptyMRisk emv.MerchantRisk
)

// newView digests in. It returns the view by value: filling a *view argument would make the
// compiler move the caller's Input to the heap.
func newView(in *Input) (v view) {
	v.a = in.AReq
	if v.a == nil {
		v.a = &emptyAReq
	}
	v.f = &in.Facts
	v.now = in.Now
	v.acct = v.a.AcctInfo
	if v.acct == nil {
		v.acct = &emptyAcct
	}
	v.mr = v.a.MerchantRiskIndicator
	if v.mr == nil {
		v.mr = &emptyMRisk
	}

	v.amount = -1
	if n, ok := atoi(v.a.PurchaseAmount); ok {
		v.amount = n
	}
	if e, ok := atoi(v.a.PurchaseExponent); ok && e <= 18 {
		v.exp = int(e)
	}

	v.threeRI = v.a.DeviceChannel == emv.Channel3RI
	for _, ind := range v.a.ThreeDSRequestorChallengeInd.Items {
		switch ind {
		case "04":
			v.mandate = true
		case "05", "06", "07", "08":
			if v.exemption == "" {
				v.exemption = ind
			}
			if ind == "06" {
				v.noChallenge = true
			}
		}
	}
	v.noChallenge = v.noChallenge || v.threeRI

	v.listStatus, v.listSource = v.a.TrustListStatus, v.a.TrustListStatusSource
	if v.listStatus == "" {
		v.listStatus, v.listSource = v.a.WhiteListStatus, v.a.WhiteListStatusSource
	}
	v.sellers = len(v.a.SellerInfo)
	if mt := v.a.MultiTransaction; mt != nil {
		v.sellers = max(v.sellers, len(mt.MerchantList))
	}
	return v
}

// atoi parses a non-negative decimal string without allocating. Values too large for an int64
// saturate, which is what a threshold comparison wants; anything else that is not all digits
// reports false.
func atoi(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (1<<63-1-9)/10 {
			n = 1<<63 - 1
			continue
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// pow10 returns 10^e for 0 ≤ e ≤ 18.
func pow10(e int) int64 {
	p := int64(1)
	for range e {
		p *= 10
	}
	return p
}
