package ds_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/pki"
)

// challengedThrough sends an AReq through the DS whose threeDSServerURL is rreqURL and returns the
// RReq the ACS would send for it.
func challengedThrough(t *testing.T, n *network, rreqURL string) *emv.RReq {
	t.Helper()
	areq := n.areq(t, "4000000000001091")
	areq.ThreeDSServerURL = rreqURL
	ares, ok := n.send(t, n.psp, areq).(*emv.ARes)
	if !ok {
		t.Fatalf("the AReq got no ARes")
	}
	return &emv.RReq{MessageType: emv.TypeRReq, MessageVersion: "2.2.0", ThreeDSServerTransID: ares.ThreeDSServerTransID,
		ACSTransID: ares.ACSTransID, DSTransID: ares.DSTransID, MessageCategory: "01", TransStatus: "Y",
		AuthenticationType: "02", AuthenticationValue: "rmnQPKCl8XaSeYOGgHda6HFbyYg=", ECI: "05", InteractionCounter: "01"}
}

func TestTheDSRelaysAndLogsThe3DSServersErroInItsOwnWords(t *testing.T) {
	// Under 200, as recommended, and under 400, as a component may send its Erro: either way it is
	// the 3DS Server's answer, not a failure to answer.
	for _, status := range []int{http.StatusOK, http.StatusBadRequest} {
		t.Run(fmt.Sprintf("HTTP status %d", status), func(t *testing.T) {
			n := newNetwork(t, netOptions{})
			rreq := challengedThrough(t, n, n.tdss.srv.URL+"/rreq")
			n.tdss.setErroStatus(status)
			n.tdss.setAnswer(func(_ *http.Request, m emv.Message) emv.Message {
				r := m.(*emv.RReq)
				return &emv.Erro{MessageType: emv.TypeErro, MessageVersion: r.MessageVersion, ThreeDSServerTransID: r.ThreeDSServerTransID,
					DSTransID: r.DSTransID, ACSTransID: r.ACSTransID, ErrorCode: "203", ErrorComponent: "S",
					ErrorDescription: "Data element not in the required format", ErrorDetail: "eci", ErrorMessageType: emv.TypeRReq}
			})
			e, ok := n.send(t, n.bank, rreq).(*emv.Erro)
			if !ok || e.ErrorCode != "203" || e.ErrorComponent != "S" || e.ErrorDetail != "eci" {
				t.Fatalf("the ACS got %+v; want the 3DS Server's Erro 203 about eci", e)
			}
			logs := n.logs.String()
			for _, want := range []string{`"errorCode":"203"`, `"errorComponent":"S"`, `"errorDetail":"eci"`} {
				if !strings.Contains(logs, want) {
					t.Errorf("the DS's log lacks %s:\n%s", want, logs)
				}
			}
		})
	}
}

func TestAnACSsErroUnderAnotherHTTPStatusIsRelayedWithNoStandIn(t *testing.T) {
	n := newNetwork(t, netOptions{})
	n.acs.setErroStatus(http.StatusBadRequest)
	n.acs.setAnswer(func(_ *http.Request, m emv.Message) emv.Message {
		a, ok := m.(*emv.AReq)
		if !ok {
			return nil
		}
		return &emv.Erro{MessageType: emv.TypeErro, MessageVersion: a.MessageVersion, ThreeDSServerTransID: a.ThreeDSServerTransID,
			DSTransID: a.DSTransID, ErrorCode: "203", ErrorComponent: "A", ErrorDescription: "Data element not in the required format",
			ErrorDetail: "purchaseAmount", ErrorMessageType: emv.TypeAReq}
	})
	areq := n.areq(t, "4000000000001091")
	e, ok := n.send(t, n.psp, areq).(*emv.Erro)
	if !ok || e.ErrorCode != "203" || e.ErrorComponent != "A" || e.ErrorDetail != "purchaseAmount" {
		t.Fatalf("the 3DS Server got %+v; want the ACS's Erro 203 about purchaseAmount", e)
	}
	if got := n.metric(t, "open3ds_ds_stand_ins_total", map[string]string{}); got != 0 {
		t.Errorf("the DS stood in %v times for an ACS that answered", got)
	}
	if got := n.metric(t, "open3ds_ds_acs_errors_total", map[string]string{}); got != 0 {
		t.Errorf("the DS counted %v errors of an ACS that answered", got)
	}
	ex, err := n.db.ExchangesByTransID(context.Background(), areq.ThreeDSServerTransID)
	must(t, err)
	for _, x := range ex {
		if x.Peer == "acs:bank" && (x.Outcome != emv.TypeErro || x.ErrorCode != "203" || x.ErrorComponent != "A") {
			t.Errorf("the exchange log has the call to the ACS as %+v; want its Erro 203 from A", x)
		}
	}
	if logs := n.logs.String(); !strings.Contains(logs, `"msg":"ACS answered the AReq with an Erro"`) ||
		!strings.Contains(logs, `"errorDetail":"purchaseAmount"`) {
		t.Errorf("the DS's log does not say which Erro the ACS answered:\n%s", logs)
	}
}

func TestAnRReqURLThatAnswers404GivesTheACSAnErroSayingSo(t *testing.T) {
	n := newNetwork(t, netOptions{})
	// A 3DS Server whose threeDSServerURL names a path it does not serve, as a --protocol-url
	// given with the path did (…/3ds/rreq/3ds/rreq).
	lost := startTLS(t, pki.RoleThreeDSServer, "psp", http.NotFoundHandler())
	rreq := challengedThrough(t, n, lost.URL+"/3ds/rreq/3ds/rreq")
	wantErro(t, n.send(t, n.bank, rreq), "405", "3DS Server answered the RReq with HTTP 404")
}
