package threedsserver_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/authvalue"
	"github.com/open3ds/open3ds/internal/ds"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/store/storetest"
	"github.com/open3ds/open3ds/internal/threedsserver"
	"github.com/open3ds/open3ds/internal/vault"
)

const panRealACS = "4100001234567891"

// withRealACS puts the real ACS service (acs.Service over SQLite, one issuer and one cardholder)
// behind the network's DS for the 4100 range. Its risk rule challenges amounts above 1000.00.
func (n *network) withRealACS(tb testing.TB) {
	tb.Helper()
	ctx := context.Background()
	spec, err := authvalue.NewRandomSpec()
	must(tb, err)
	keys, err := authvalue.ParseKeys(spec)
	must(tb, err)
	vspec, err := vault.NewRandomSpec()
	must(tb, err)
	ring, err := vault.ParseKeyring(vspec)
	must(tb, err)
	db := storetest.OpenSQLite(tb)
	st := acs.NewSQLStore(db, acs.Vault(ring))
	must(tb, st.CreateIssuer(ctx, acs.Issuer{ID: "bank-r", Name: "Real Bank", Ranges: []acs.CardRange{{Start: "4100", End: "4100"}},
		Brand: acs.Branding{LogoURL: "https://bank.example/logo.png", SupportText: "Call us"}}))
	_, err = st.CreateCardholder(ctx, acs.Cardholder{IssuerID: "bank-r", PAN: panRealACS, Mobiles: []string{"+447700900123"}})
	must(tb, err)
	svc := &acs.Service{Store: st, ChallengeURL: "https://acs.example/challenge", Exchanges: db,
		Keys: func(string) (acs.AuthValueKeys, bool) { return acs.AuthValues(keys), true },
		Risk: acs.RiskFunc(func(_ string, in acs.RiskInput) (acs.RiskResult, *acs.RiskResult) {
			if amount, _ := strconv.ParseInt(in.AReq.PurchaseAmount, 10, 64); amount > 100000 {
				return acs.RiskResult{Score: 60, Outcome: acs.Challenge, Reasons: []string{"high amount"}}, nil
			}
			return acs.RiskResult{Score: 5, Outcome: acs.Frictionless, Reasons: []string{"low risk"}}, nil
		})}
	srv := startTLS(tb, pki.RoleACS, "real-bank", svc.Handler())
	must(tb, n.dsStore.AddACS(ctx, ds.ACS{Name: "real-bank", ReferenceNumber: "REAL-ACS", URL: srv.URL + "/areq"}))
	r := dsRange("4100000000000000", "4100009999999999")
	r.ACS = "real-bank"
	must(tb, n.dsStore.AddRange(ctx, r))
	must(tb, n.server.RefreshRanges(ctx))
}

func TestTheRealACSAnswersFrictionlessYAndAChallengeForAHighAmount(t *testing.T) {
	n := newNetwork(t)
	n.withRealACS(t)
	tests := []struct {
		name, amount, status string
	}{
		{"a small purchase is frictionless", "12999", "Y"},
		{"a purchase above 1000.00 is challenged", "250000", "C"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := start(t, n, panRealACS)
			body := authenticateBody()
			body["amount"] = tt.amount
			var res threedsserver.Result
			n.call(t, "POST", "/v1/authentications/"+st.ID+"/authenticate", body, &res)
			if res.TransStatus != tt.status {
				t.Fatalf("authenticate answered %+v; want %s", res, tt.status)
			}
			switch tt.status {
			case "Y":
				if res.ECI != "05" || len(res.AuthenticationValue) != 28 || !res.Final {
					t.Fatalf("frictionless result %+v lacks the ACS's ECI or authentication value", res)
				}
			case "C":
				if res.Challenge == nil || res.Challenge.ACSURL != "https://acs.example/challenge" || res.Final {
					t.Fatalf("challenge result %+v lacks the form", res)
				}
				raw, err := emv.DecodeBase64Lenient(res.Challenge.CReq)
				must(t, err)
				if _, err := emv.ParseAs(raw, emv.TypeCReq, nil); err != nil {
					t.Fatalf("the creq does not parse: %v", err)
				}
			}
		})
	}
}
