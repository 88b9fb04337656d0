package ds_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/store/storetest"
)

func TestA3DSServerGetsRangesThenTheACSAResThroughTheDSAndTheRReqComesBack(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			n := newNetwork(t, netOptions{open: b.open})
			preq, err := emv.ParseAs(sample(t, "2.2.0", "preq-full.json"), emv.TypePReq, nil)
			must(t, err)
			pres, ok := n.send(t, n.psp, preq).(*emv.PRes)
			if !ok || len(pres.CardRangeData) != 1 || pres.CardRangeData[0].StartRange != "4000000000000000" ||
				pres.CardRangeData[0].ActionInd != "A" || pres.SerialNum == "" {
				t.Fatalf("PRes = %+v", pres)
			}
			must(t, emv.Validate(pres, nil))

			areq := n.areq(t, "4000000000001091")
			ares, ok := n.send(t, n.psp, areq).(*emv.ARes)
			if !ok || ares.TransStatus != "Y" || ares.ThreeDSServerTransID != areq.ThreeDSServerTransID {
				t.Fatalf("ARes = %+v", ares)
			}
			got := n.acs.received(emv.TypeAReq)
			if len(got) != 1 {
				t.Fatalf("ACS got %d AReqs", len(got))
			}
			fwd := got[0].(*emv.AReq)
			if fwd.DSTransID != ares.DSTransID || fwd.DSReferenceNumber == "" || fwd.DSURL != "https://ds.example/3ds" {
				t.Errorf("the forwarded AReq lacks the DS stamps: %q %q %q", fwd.DSTransID, fwd.DSReferenceNumber, fwd.DSURL)
			}
			tx, err := n.store.Transaction(context.Background(), ares.DSTransID)
			if err != nil || tx.ACS != "bank" || tx.ThreeDSServer != "psp" || tx.MaskedPAN != "400000******1091" ||
				tx.ThreeDSServerURL != areq.ThreeDSServerURL || tx.Outcome != "Y" {
				t.Errorf("recorded transaction = %+v, %v", tx, err)
			}

			rreq := &emv.RReq{MessageType: emv.TypeRReq, MessageVersion: "2.2.0", ThreeDSServerTransID: ares.ThreeDSServerTransID,
				ACSTransID: ares.ACSTransID, DSTransID: ares.DSTransID, MessageCategory: "01", TransStatus: "Y",
				AuthenticationType: "02", AuthenticationValue: "rmnQPKCl8XaSeYOGgHda6HFbyYg=", ECI: "05", InteractionCounter: "01"}
			for range 2 { // a duplicate is relayed again with the same answer
				rres, ok := n.send(t, n.bank, rreq).(*emv.RRes)
				if !ok || rres.ResultsStatus != "01" || rres.DSTransID != ares.DSTransID {
					t.Fatalf("RRes = %+v", rres)
				}
			}
			if got := n.tdss.received(emv.TypeRReq); len(got) != 2 {
				t.Errorf("3DS Server got %d RReqs, want 2", len(got))
			}
			exchanges, err := n.db.ExchangesByTransID(context.Background(), areq.ThreeDSServerTransID)
			must(t, err)
			var legs []string
			for _, e := range exchanges {
				legs = append(legs, string(e.Direction)+" "+e.Peer+" "+e.MessageType+" "+e.Outcome)
				if e.MessageType == "AReq" && e.MaskedPAN != "400000******1091" {
					t.Errorf("AReq exchange PAN = %q", e.MaskedPAN)
				}
			}
			slices.Sort(legs)
			want := []string{"in 3dss:psp AReq Y", "in acs:bank RReq 01", "in acs:bank RReq 01",
				"out 3dss:psp RReq 01", "out 3dss:psp RReq 01", "out acs:bank AReq Y"}
			if !slices.Equal(legs, want) {
				t.Errorf("exchanges recorded:\n%q\nwant\n%q", legs, want)
			}
		})
	}
}

func TestTheDSStandsInByPolicy(t *testing.T) {
	cases := []struct {
		name        string
		pan         string
		acs         func(*http.Request, emv.Message) emv.Message
		stopACS     bool
		wantStatus  string
		wantReason  string
		wantECI     string
		wantAuthVal bool
		policy      string
		acsError    string
	}{
		{name: "a PAN in no range gets the not-enrolled policy (attempts by default)", pan: "5100000000000008",
			acs: frictionless, wantStatus: "A", wantECI: "06", wantAuthVal: true, policy: "attempts"},
		{name: "an ACS that is down gets the unavailable policy (U, reason 22)", pan: "4000000000001091",
			stopACS: true, wantStatus: "U", wantReason: "22", policy: "unavailable", acsError: "unreachable"},
		{name: "an ACS that times out gets the unavailable policy (U, reason 22)", pan: "4000000000001091",
			acs: func(r *http.Request, m emv.Message) emv.Message {
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
				return nil
			}, wantStatus: "U", wantReason: "22", policy: "unavailable", acsError: "timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := newNetwork(t, netOptions{timeout: 300 * time.Millisecond})
			if tc.stopACS {
				n.acs.srv.Close()
			} else {
				n.acs.setAnswer(tc.acs)
			}
			areq := n.areq(t, tc.pan)
			ares, ok := n.send(t, n.psp, areq).(*emv.ARes)
			if !ok {
				t.Fatalf("got no ARes")
			}
			if ares.TransStatus != tc.wantStatus || ares.TransStatusReason != tc.wantReason || ares.ECI != tc.wantECI ||
				(ares.AuthenticationValue != "") != tc.wantAuthVal {
				t.Errorf("stand-in ARes %s/%s eci %s av %q", ares.TransStatus, ares.TransStatusReason, ares.ECI, ares.AuthenticationValue)
			}
			must(t, emv.Validate(ares, &emv.Context{AReq: areq}))
			if tx, err := n.store.Transaction(context.Background(), ares.DSTransID); err != nil || tx.ACS != "" {
				t.Errorf("the stand-in was not recorded as one: %+v %v", tx, err)
			}
			if got := n.metric(t, "open3ds_ds_stand_ins_total", map[string]string{"policy": tc.policy}); got != 1 {
				t.Errorf("stand-ins counted for policy %s: %v, want 1", tc.policy, got)
			}
			if tc.acsError != "" {
				if got := n.metric(t, "open3ds_ds_acs_errors_total", map[string]string{"acs": "bank", "kind": tc.acsError}); got != 1 {
					t.Errorf("ACS errors of kind %s: %v, want 1", tc.acsError, got)
				}
			}
		})
	}
}

func TestSchemePoliciesChooseTheStandInAnswer(t *testing.T) {
	n := newNetwork(t, netOptions{})
	ctx := context.Background()
	sc, err := n.store.Scheme(ctx)
	must(t, err)
	sc.NotEnrolled = "not-enrolled"
	sc.ECI = ECIMastercardForTest
	_, err = n.store.SetScheme(ctx, sc)
	must(t, err)
	ares := n.send(t, n.psp, n.areq(t, "5100000000000008")).(*emv.ARes)
	if ares.TransStatus != "N" || ares.TransStatusReason != "13" || ares.ECI != "00" {
		t.Errorf("not-enrolled stand-in = %s/%s eci %s, want N/13 eci 00", ares.TransStatus, ares.TransStatusReason, ares.ECI)
	}
}

func TestCallersTheRegistryDoesNotAllowGet303(t *testing.T) {
	n := newNetwork(t, netOptions{})
	must(t, n.store.AddThreeDSServer(context.Background(), dsThreeDSServer("other", "OTHER*REQ")))
	cases := []struct {
		name   string
		client *http.Client
		msg    func() emv.Message
		detail string
	}{
		{"an ACS certificate sending an AReq", n.bank, func() emv.Message { return n.areq(t, "4000000000001091") }, ""},
		{"a DS certificate sending an AReq", clientFor(t, pki.RoleDS, "ds"), func() emv.Message { return n.areq(t, "4000000000001091") }, ""},
		{"an unregistered 3DS Server", clientFor(t, pki.RoleThreeDSServer, "stranger"), func() emv.Message { return n.areq(t, "4000000000001091") }, ""},
		{"a 3DS Server sending an RReq", n.psp, func() emv.Message {
			m, _ := emv.ParseAs(sample(t, "2.2.0", "rreq.json"), emv.TypeRReq, nil)
			return m
		}, ""},
		{"a 3DS Server sending for another's requestor", clientFor(t, pki.RoleThreeDSServer, "other"),
			func() emv.Message { return n.areq(t, "4000000000001091") }, "threeDSRequestorID"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantErro(t, n.send(t, tc.client, tc.msg()), "303", tc.detail)
		})
	}
	if got := n.acs.received(emv.TypeAReq); len(got) != 0 {
		t.Errorf("the ACS got %d AReqs from refused callers", len(got))
	}
}

func TestACertificateFromAnotherCANeverGetsThroughTLS(t *testing.T) {
	n := newNetwork(t, netOptions{})
	foreign, err := pki.NewCA("someone else")
	must(t, err)
	certPEM, keyPEM, err := foreign.Issue(pki.IssueRequest{Role: pki.RoleThreeDSServer, Name: "psp"})
	must(t, err)
	cert, err := tlsPair(certPEM, keyPEM)
	must(t, err)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: pki.ClientConfig(&cert, caPool(t), "")}}
	if _, err := c.Post(n.ds.URL, "application/json", nil); err == nil {
		t.Fatal("a certificate of a foreign CA got through the handshake")
	}
}

var _ = storetest.OpenSQLite

func TestAStandInAResIsValidForEveryGoldenAReq(t *testing.T) {
	n := newNetwork(t, netOptions{})
	for _, version := range emv.Versions {
		for _, name := range []string{"areq-browser-pa.json", "areq-app-pa.json", "areq-3ri-npa.json"} {
			t.Run(version+"/"+name, func(t *testing.T) {
				m, err := emv.ParseAs(sample(t, version, name), emv.TypeAReq, nil)
				must(t, err)
				areq := m.(*emv.AReq)
				areq.ThreeDSServerTransID, areq.AcctNumber, areq.ThreeDSRequestorID = newID(), "5100000000000008", "10075020*SHOPDEMO"
				areq.ThreeDSServerRefNumber = pspRef // one 3DS Server whatever the version
				if areq.DeviceChannel == emv.ChannelApp {
					areq.SDKEncData = ourSDKEncData(t) // the golden one is encrypted to another DS's key
				}
				ares, ok := n.send(t, n.psp, areq).(*emv.ARes)
				if !ok {
					t.Fatal("no ARes")
				}
				must(t, emv.Validate(ares, &emv.Context{AReq: areq}))
			})
		}
	}
}
