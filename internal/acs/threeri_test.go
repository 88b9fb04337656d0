package acs_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/ids"
	"github.com/open3ds/open3ds/internal/store"
)

// threeRIClock is the ACS's clock in the 3RI tests, moved on by hand between authentications.
type threeRIClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *threeRIClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *threeRIClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newThreeRIACS(tb testing.TB, open func(testing.TB) *store.DB) (*acsEnv, *threeRIClock) {
	tb.Helper()
	e := newACSOn(tb, open)
	c := &threeRIClock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	e.svc.Now = c.now
	return e, c
}

// ares posts an AReq and wants an ARes.
func (e *acsEnv) ares(tb testing.TB, body []byte) *emv.ARes {
	tb.Helper()
	res, ok := post(tb, e.ds, e.url, body).(*emv.ARes)
	if !ok {
		tb.Fatalf("got %+v, want an ARes", res)
	}
	return res
}

// prior runs a frictionless browser payment of pan and returns its acsTransID.
func (e *acsEnv) prior(tb testing.TB, version, pan string, set map[string]any) string {
	tb.Helper()
	m := map[string]any{"acctNumber": pan, "threeDSServerTransID": ids.New()}
	for k, v := range set {
		m[k] = v
	}
	res := e.ares(tb, areq(tb, version, "areq-browser-pa", m))
	if res.TransStatus != "Y" {
		tb.Fatalf("prior: transStatus %q %q, want Y", res.TransStatus, res.TransStatusReason)
	}
	return res.ACSTransID
}

// threeRI builds a payment 3RI AReq linked to prior (an acsTransID).
func threeRI(tb testing.TB, version, pan, prior, ind string, set map[string]any) []byte {
	tb.Helper()
	info := map[string]any{"threeDSReqPriorAuthMethod": "01", "threeDSReqPriorAuthTimestamp": "202603010955", "threeDSReqPriorRef": prior}
	var infoField any = info
	if version == emv.Version231 {
		infoField = []any{info}
	}
	m := map[string]any{"acctNumber": pan, "threeDSServerTransID": ids.New(), "threeRIInd": ind,
		"threeDSRequestorPriorAuthenticationInfo": infoField, "messageCategory": "01", "purchaseAmount": "999",
		"purchaseCurrency": "978", "purchaseExponent": "2", "purchaseDate": "20260301100000",
		"recurringExpiry": "20261231", "recurringFrequency": "30"}
	if prior == "" {
		delete(m, "threeDSRequestorPriorAuthenticationInfo")
	}
	for k, v := range set {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return areq(tb, version, "areq-3ri-npa", m)
}

func TestThreeRIIsAuthenticatedAgainstItsPrior(t *testing.T) {
	e, _ := newThreeRIACS(t, backends[0].open)
	cases := []struct {
		name                string
		version, pan, ind   string
		prior               func(t *testing.T) string
		set                 map[string]any
		status, reason, eci string
	}{
		{name: "a recurring payment of the card and requestor of a Y prior is Y with a value and the Y ECI",
			version: "2.2.0", pan: panEnrolled, ind: "01", status: "Y", eci: "05"},
		{name: "another card naming the prior is N 01",
			version: "2.2.0", pan: panMastercard, ind: "01", status: "N", reason: "01", eci: "00"},
		{name: "another requestor naming the prior is N 07",
			version: "2.2.0", pan: panEnrolled, ind: "01", set: map[string]any{"threeDSRequestorID": "OTHER*REQUESTOR"},
			status: "N", reason: "07", eci: "07"},
		{name: "a recurring agreement that expired yesterday is N 07",
			version: "2.2.0", pan: panEnrolled, ind: "01", set: map[string]any{"recurringExpiry": "20260228"},
			status: "N", reason: "07", eci: "07"},
		{name: "a prior this ACS never issued is U 07",
			version: "2.2.0", pan: panEnrolled, ind: "01", prior: func(*testing.T) string { return ids.New() },
			status: "U", reason: "07"},
		{name: "a prior that was itself a 3RI backs no other",
			version: "2.2.0", pan: panEnrolled, ind: "04", prior: func(t *testing.T) string {
				p := e.prior(t, "2.2.0", panEnrolled, nil)
				return e.ares(t, threeRI(t, "2.2.0", panEnrolled, p, "04", nil)).ACSTransID
			}, status: "N", reason: "07", eci: "07"},
		{name: "a 2.3.1 fixed-amount recurring payment above the agreed amount is N 07",
			version: "2.3.1", pan: panEnrolled, ind: "01", set: map[string]any{"purchaseAmount": "1000",
				"recurringAmount": "999", "recurringCurrency": "978", "recurringExponent": "2", "recurringDate": "20260401",
				"recurringInd": map[string]any{"amountInd": "01", "frequencyInd": "01"}},
			status: "N", reason: "07", eci: "07"},
		{name: "a 2.3.1 fixed-amount recurring payment at the agreed amount is Y",
			version: "2.3.1", pan: panEnrolled, ind: "01", set: map[string]any{"purchaseAmount": "999",
				"recurringAmount": "999", "recurringCurrency": "978", "recurringExponent": "2", "recurringDate": "20260401",
				"recurringInd": map[string]any{"amountInd": "01", "frequencyInd": "01"}},
			status: "Y", eci: "05"},
		{name: "a split shipment above the prior purchase is N 07",
			version: "2.2.0", pan: panEnrolled, ind: "06", set: map[string]any{"purchaseAmount": "13000"},
			status: "N", reason: "07", eci: "07"},
		{name: "a 2.1.0 non-payment account verification against a 2.1.0 prior is Y",
			version: "2.1.0", pan: panEnrolled, ind: "05", set: map[string]any{"messageCategory": "02", "purchaseAmount": nil,
				"purchaseCurrency": nil, "purchaseExponent": nil, "purchaseDate": nil, "recurringExpiry": nil, "recurringFrequency": nil},
			status: "Y", eci: "05"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p string
			if c.prior != nil {
				p = c.prior(t)
			} else {
				p = e.prior(t, c.version, panEnrolled, map[string]any{"purchaseAmount": "12999"})
			}
			res := e.ares(t, threeRI(t, c.version, c.pan, p, c.ind, c.set))
			if res.TransStatus != c.status || res.TransStatusReason != c.reason || res.ECI != c.eci {
				t.Fatalf("got %s %q eci %q, want %s %q eci %q", res.TransStatus, res.TransStatusReason, res.ECI, c.status, c.reason, c.eci)
			}
			if (res.AuthenticationValue != "") != (c.status == "Y") {
				t.Errorf("authenticationValue %q with status %s", res.AuthenticationValue, res.TransStatus)
			}
			tx, err := e.store.Transaction(t.Context(), res.ACSTransID)
			if err != nil || tx.PriorRef != p || tx.ThreeRIInd != c.ind || tx.RequestorID == "" || len(tx.Reasons) == 0 {
				t.Errorf("stored %+v (%v)", tx, err)
			}
		})
	}

}

func TestThreeRIRecurringLimits(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e, clock := newThreeRIACS(t, b.open)
			p := e.prior(t, "2.2.0", panEnrolled, nil)
			monthly := func() *emv.ARes { return e.ares(t, threeRI(t, "2.2.0", panEnrolled, p, "01", nil)) }
			if r := monthly(); r.TransStatus != "Y" {
				t.Fatalf("first monthly payment: %s %s", r.TransStatus, r.TransStatusReason)
			}
			clock.add(10 * 24 * time.Hour)
			if r := monthly(); r.TransStatus != "N" || r.TransStatusReason != "04" {
				t.Fatalf("ten days later: %s %q, want N 04 (too frequent)", r.TransStatus, r.TransStatusReason)
			}
			// An ACS started afresh on the same store holds the agreement as firmly: the limit lives
			// in the prior's row, not in the process.
			fresh := &acs.Service{Store: e.store, Risk: e.svc.Risk, Keys: e.svc.Keys, Now: clock.now}
			m, err := emv.Parse(threeRI(t, "2.2.0", panEnrolled, p, "01", nil), nil)
			if err != nil {
				t.Fatal(err)
			}
			if r, err := fresh.Authenticate(t.Context(), m.(*emv.AReq), nil); err != nil || r.TransStatus != "N" || r.TransStatusReason != "04" {
				t.Fatalf("after a restart, ten days later: %+v (%v), want N 04", r, err)
			}
			// A 30-day agreement billed on the same date of a shorter month (28 days on) passes.
			clock.add(18 * 24 * time.Hour)
			if r := monthly(); r.TransStatus != "Y" {
				t.Fatalf("28 days after the first: %s %q, want Y", r.TransStatus, r.TransStatusReason)
			}
			prior, _ := e.store.Transaction(t.Context(), p)
			if prior.LinkedCount != 2 || !prior.LinkedLastAt.Equal(clock.now()) {
				t.Errorf("prior backed %d 3RIs, latest %v; want 2 at %v", prior.LinkedCount, prior.LinkedLastAt, clock.now())
			}

			// Three instalments: the prior purchase was the first, so two 3RIs follow, and a third is N.
			ip := e.prior(t, "2.2.0", panEnrolled, map[string]any{"purchaseInstalData": "3", "threeDSRequestorAuthenticationInd": "03",
				"recurringExpiry": "20261231", "recurringFrequency": "30"})
			instalment := func() *emv.ARes {
				return e.ares(t, threeRI(t, "2.2.0", panEnrolled, ip, "02", map[string]any{"purchaseInstalData": "3"}))
			}
			for i, want := range []string{"Y", "Y", "N"} {
				clock.add(31 * 24 * time.Hour)
				if r := instalment(); r.TransStatus != want {
					t.Fatalf("instalment %d: %s %q, want %s", i+2, r.TransStatus, r.TransStatusReason, want)
				}
			}

			// The agreement set at the prior binds: expired there, expired for every 3RI on it.
			ep := e.prior(t, "2.2.0", panEnrolled, map[string]any{"threeDSRequestorAuthenticationInd": "02",
				"recurringExpiry": "20260101", "recurringFrequency": "30"})
			r := e.ares(t, threeRI(t, "2.2.0", panEnrolled, ep, "01", map[string]any{"recurringExpiry": "20301231"}))
			if r.TransStatus != "N" || r.TransStatusReason != "07" {
				t.Errorf("a 3RI on an expired agreement: %s %q, want N 07", r.TransStatus, r.TransStatusReason)
			}
		})
	}
}

func TestThreeRIRaceOnOnePriorLetsOnePass(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e, _ := newThreeRIACS(t, b.open)
			p := e.prior(t, "2.2.0", panEnrolled, nil)
			const n = 12
			bodies := make([][]byte, n)
			for i := range bodies {
				bodies[i] = threeRI(t, "2.2.0", panEnrolled, p, "01", nil)
			}
			var wg sync.WaitGroup
			got := make([]*emv.ARes, n)
			for i := range n {
				wg.Add(1)
				go func() { defer wg.Done(); got[i] = e.ares(t, bodies[i]) }()
			}
			wg.Wait()
			yes := 0
			for _, r := range got {
				switch {
				case r.TransStatus == "Y":
					yes++
				case r.TransStatus != "N" || r.TransStatusReason != "04" || r.AuthenticationValue != "":
					t.Errorf("a losing 3RI: %s %q value %q, want N 04 without a value", r.TransStatus, r.TransStatusReason, r.AuthenticationValue)
				}
			}
			prior, _ := e.store.Transaction(context.Background(), p)
			if yes != 1 || prior.LinkedCount != 1 {
				t.Errorf("%d of %d parallel monthly payments passed, prior backs %d; want 1 and 1", yes, n, prior.LinkedCount)
			}
		})
	}
}

func TestIssuerPoliciesRefuse3RIAndNonPayment(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { issuerPolicies(t, b.open) })
	}
}

func issuerPolicies(t *testing.T, open func(testing.TB) *store.DB) {
	e, _ := newThreeRIACS(t, open)
	p := e.prior(t, "2.2.0", panEnrolled, nil)
	is, err := e.store.Issuer(t.Context(), "bank-a")
	if err != nil {
		t.Fatal(err)
	}
	is.Refuse3RI = true
	if err := e.store.UpdateIssuer(t.Context(), is); err != nil {
		t.Fatal(err)
	}
	e.store.IssuerTTL = 0
	if r := e.ares(t, threeRI(t, "2.2.0", panEnrolled, p, "01", nil)); r.TransStatus != "N" || r.TransStatusReason != "21" {
		t.Errorf("3RI at an issuer that refuses it: %s %q, want N 21", r.TransStatus, r.TransStatusReason)
	}
	is.Refuse3RI, is.RefuseNonPayment = false, true
	if err := e.store.UpdateIssuer(t.Context(), is); err != nil {
		t.Fatal(err)
	}
	back, _ := e.store.Issuer(t.Context(), "bank-a")
	if back.Refuse3RI || !back.RefuseNonPayment {
		t.Fatalf("issuer settings not kept: %+v", back)
	}
	npa := areq(t, "2.2.0", "areq-browser-pa", map[string]any{"acctNumber": panEnrolled, "messageCategory": "02",
		"threeDSServerTransID": ids.New()})
	if r := e.ares(t, npa); r.TransStatus != "N" || r.TransStatusReason != "20" {
		t.Errorf("a browser NPA at an issuer that refuses it: %s %q, want N 20", r.TransStatus, r.TransStatusReason)
	}
	if r := e.ares(t, threeRI(t, "2.2.0", panEnrolled, p, "01", nil)); r.TransStatus != "Y" {
		t.Errorf("a payment 3RI once 3RI is allowed again: %s %q, want Y", r.TransStatus, r.TransStatusReason)
	}
}

func TestThreeRIPaymentIn210IsAnErro(t *testing.T) {
	e, _ := newThreeRIACS(t, backends[0].open)
	m := post(t, e.ds, e.url, threeRI(t, "2.1.0", panEnrolled, ids.New(), "01", nil))
	erro, ok := m.(*emv.Erro)
	if !ok || erro.ErrorCode != "203" || erro.ErrorDetail != "messageCategory" {
		t.Fatalf("a 2.1.0 payment 3RI: %+v, want Erro 203 naming messageCategory", m)
	}
	m = post(t, e.ds, e.url, threeRI(t, "2.1.0", panEnrolled, ids.New(), "06", map[string]any{"messageCategory": "02",
		"purchaseAmount": nil, "purchaseCurrency": nil, "purchaseExponent": nil, "purchaseDate": nil}))
	if erro, ok := m.(*emv.Erro); !ok || erro.ErrorCode != "203" || erro.ErrorDetail != "threeRIInd" {
		t.Fatalf("threeRIInd 06 in 2.1.0: %+v, want Erro 203 naming threeRIInd", m)
	}
}
