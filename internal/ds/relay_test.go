package ds_test

import (
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
	n := newNetwork(t, netOptions{})
	rreq := challengedThrough(t, n, n.tdss.srv.URL+"/rreq")
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
}

func TestAnRReqURLThatAnswers404GivesTheACSAnErroSayingSo(t *testing.T) {
	n := newNetwork(t, netOptions{})
	// A 3DS Server whose threeDSServerURL names a path it does not serve, as a --protocol-url
	// given with the path did (…/3ds/rreq/3ds/rreq).
	lost := startTLS(t, pki.RoleThreeDSServer, "psp", http.NotFoundHandler())
	rreq := challengedThrough(t, n, lost.URL+"/3ds/rreq/3ds/rreq")
	wantErro(t, n.send(t, n.bank, rreq), "405", "3DS Server answered the RReq with HTTP 404")
}
