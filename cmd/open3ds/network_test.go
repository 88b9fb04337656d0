package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/authvalue"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/store/storetest"
	"github.com/open3ds/open3ds/internal/vault"
)

// netStores gives each role a store of its own, as a split deployment has: two SQLite files, or two
// PostgreSQL schemas migrated by `open3ds migrate`.
var netStores = []struct {
	name string
	dsns func(t *testing.T) (ds, acs string)
}{
	{"sqlite", func(t *testing.T) (string, string) { return storetest.SQLiteDSN(t), storetest.SQLiteDSN(t) }},
	{"postgres", func(t *testing.T) (string, string) {
		ds, acs := storetest.PostgresDSN(t), storetest.PostgresDSN(t)
		for _, dsn := range []string{ds, acs} {
			var out bytes.Buffer
			if err := run(context.Background(), []string{"migrate", "--dsn", dsn}, func(string) string { return "" },
				strings.NewReader(""), &out, &out); err != nil {
				t.Fatalf("open3ds migrate: %v\n%s", err, out.String())
			}
		}
		return ds, acs
	}},
}

// netWant is what the 3DS Server should read in an ARes.
type netWant struct {
	status, reason, eci string
	// value says an authentication value comes back; verifies says the ACS admin API accepts it.
	value, verifies bool
	acsRef          string // who answered: the ACS (netACSRef) or the DS standing in (netDSRef)
	acsURL          string
	mandated        string
}

// TestNetworkAnswersEveryOutcomeThroughTheRealDSAndACS runs the network as an operator would: the PKI,
// the enrolment and both roles through the open3ds commands, then AReqs from a 3DS Server over mutual
// TLS to the DS, which routes them to the ACS. Each outcome comes for the reason the risk engine or
// the enrolment gives, and the DS stands in where the ACS cannot answer.
func TestNetworkAnswersEveryOutcomeThroughTheRealDSAndACS(t *testing.T) {
	for _, st := range netStores {
		t.Run(st.name, func(t *testing.T) {
			dsDSN, acsDSN := st.dsns(t)
			n := netStartNetwork(t, dsDSN, acsDSN)
			cases := []struct {
				name, pan, amount string
				change            func(map[string]any)
				want              netWant
			}{
				{"an enrolled card with a small amount passes frictionless with a value the issuer verifies",
					netPANEnrolled, "1500", nil, netWant{status: "Y", eci: "05", value: true, verifies: true, acsRef: netACSRef}},
				{"an enrolled card with a large amount is challenged at the ACS's challenge URL",
					netPANEnrolled, "950000", nil, netWant{status: "C", acsRef: netACSRef, acsURL: netACSURL, mandated: "N"}},
				{"an enrolled card whose requestor mandates a challenge (04) is challenged",
					netPANEnrolled, "1500", func(m map[string]any) { m["threeDSRequestorChallengeInd"] = "04" },
					netWant{status: "C", acsRef: netACSRef, acsURL: netACSURL, mandated: "Y"}},
				{"a blocked card is rejected by the ACS",
					netPANBlocked, "1500", nil, netWant{status: "R", reason: "12", eci: "07", acsRef: netACSRef}},
				{"a card Bank A has not enrolled is not authenticated, reason 13",
					netPANNotEnrolled, "1500", nil, netWant{status: "N", reason: "13", eci: "07", acsRef: netACSRef}},
				{"a card Bank B has not enrolled gets the ACS's attempts with a value the issuer verifies",
					netPANAttempts, "1500", nil, netWant{status: "A", eci: "06", value: true, verifies: true, acsRef: netACSRef}},
				{"a card in no range gets the DS's attempts stand-in, whose value is not the issuer's",
					netPANNoRange, "1500", nil, netWant{status: "A", eci: "06", value: true, acsRef: netDSRef}},
			}
			var challenged *emv.ARes
			for _, c := range cases {
				ares := n.netSend(n.netAReq(emv.Version220, c.pan, c.amount, c.change))
				if ares.TransStatus == "C" && challenged == nil {
					challenged = ares
				}
				n.netCheck(c.name, ares, c.want)
				if c.want.value && ares.AuthenticationValue != "" {
					n.netCheckVerify(c.name, c.pan, c.amount, ares, c.want.verifies)
				}
			}

			if challenged == nil {
				t.Fatal("no challenge to end")
			}
			n.netChallengeEndsWithRReq(challenged, netPANEnrolled, "950000")

			n.acs.stop()
			ares := n.netSend(n.netAReq(emv.Version220, netPANEnrolled, "1500", nil))
			n.netCheck("an enrolled card while the ACS is down gets the DS's unavailable stand-in", ares,
				netWant{status: "U", reason: "22", acsRef: netDSRef})
		})
	}
}

// netCheck compares an ARes with what the case wants, naming the case in every complaint.
func (n *netNetwork) netCheck(name string, a *emv.ARes, w netWant) {
	n.t.Helper()
	got := netWant{status: a.TransStatus, reason: a.TransStatusReason, eci: a.ECI, value: a.AuthenticationValue != "",
		verifies: w.verifies, acsRef: a.ACSReferenceNumber, acsURL: a.ACSURL, mandated: a.ACSChallengeMandated}
	if got != w {
		n.t.Errorf("%s:\n got %+v\nwant %+v", name, got, w)
	}
	if a.DSReferenceNumber != netDSRef || a.DSTransID == "" || a.ACSTransID == "" {
		n.t.Errorf("%s: the ARes does not carry the DS's stamp: dsReferenceNumber %q, dsTransID %q, acsTransID %q",
			name, a.DSReferenceNumber, a.DSTransID, a.ACSTransID)
	}
}

// netCheckVerify asks the issuer's verify API about the value twice, and once with another amount.
func (n *netNetwork) netCheckVerify(name, pan, amount string, a *emv.ARes, accepted bool) {
	n.t.Helper()
	if v := n.netVerify(pan, amount+"1", a.AuthenticationValue); v.Valid {
		n.t.Errorf("%s: the value verifies for another amount", name)
	}
	first := n.netVerify(pan, amount, a.AuthenticationValue)
	want := netVerdict{}
	if accepted {
		want = netVerdict{Valid: true, ACSTransID: a.ACSTransID, TransStatus: a.TransStatus, ECI: a.ECI}
	}
	if first != want {
		n.t.Errorf("%s: verify said %+v, want %+v", name, first, want)
	}
	if second := n.netVerify(pan, amount, a.AuthenticationValue); accepted && !second.AlreadyUsed {
		n.t.Errorf("%s: a second verify of the same value does not say alreadyUsed: %+v", name, second)
	}
}

// netChallengeEndsWithRReq ends a challenged authentication the way the challenge does, through
// acs.Service.EndAuthentication on a second ACS instance sharing the ACS's store. The running ACS's
// outbox must then carry the RReq through the real DS to the 3DS Server and record the RRes.
func (n *netNetwork) netChallengeEndsWithRReq(challenged *emv.ARes, pan, amount string) {
	n.t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, n.acsDSN, store.Options{})
	if err != nil {
		n.t.Fatal(err)
	}
	defer db.Close()
	ring, err := vault.ParseKeyring(n.environ["OPEN3DS_VAULT_KEYS"])
	if err != nil {
		n.t.Fatal(err)
	}
	keys, err := authvalue.ParseKeys(n.environ["OPEN3DS_ACS_AUTHVALUE_KEYS_BANK_A"])
	if err != nil {
		n.t.Fatal(err)
	}
	st := acs.NewSQLStore(db, acs.Vault(ring))
	second := &acs.Service{Store: st, Keys: func(ref string) (acs.AuthValueKeys, bool) {
		return acs.AuthValues(keys), ref == "bank-a"
	}}
	end := acs.End{ACSTransID: challenged.ACSTransID, TransStatus: "Y", InteractionCounter: 1}
	if err := second.EndAuthentication(ctx, end); err != nil {
		n.t.Fatalf("ending the challenge: %v", err)
	}

	var rreq *emv.RReq
	select {
	case rreq = <-n.rreqs:
	case <-time.After(10 * time.Second):
		n.t.Fatalf("no RReq reached the 3DS Server\nACS log:\n%s\nDS log:\n%s", n.acs.logs, n.ds.logs)
	}
	if rreq.ACSTransID != challenged.ACSTransID || rreq.DSTransID != challenged.DSTransID ||
		rreq.ThreeDSServerTransID != challenged.ThreeDSServerTransID {
		n.t.Errorf("the RReq names another transaction: %+v", rreq)
	}
	if rreq.TransStatus != "Y" || rreq.ECI != "05" || rreq.AuthenticationValue == "" {
		n.t.Errorf("RReq transStatus %q, eci %q, value %t; want Y, 05 and a value", rreq.TransStatus, rreq.ECI, rreq.AuthenticationValue != "")
	}
	var row acs.OutboxRow
	netWaitUntil(n.t, 10*time.Second, "the outbox row is not marked delivered", func() bool {
		row, err = st.Outbox(ctx, challenged.ACSTransID)
		return err == nil && !row.SentAt.IsZero()
	})
	if row.ResultsStatus != "01" {
		n.t.Errorf("the outbox kept resultsStatus %q, want the RRes's 01", row.ResultsStatus)
	}
	if v := n.netVerify(pan, amount, rreq.AuthenticationValue); !v.Valid || v.TransStatus != "Y" || v.ACSTransID != challenged.ACSTransID {
		n.t.Errorf("the issuer does not verify the RReq's value: %+v", v)
	}
	if err := second.EndAuthentication(ctx, end); !errors.Is(err, store.ErrConflict) {
		n.t.Errorf("ending the challenge twice: %v, want ErrConflict", err)
	}
}

func TestNetworkCarriesEveryProtocolVersionFromAReqToRReq(t *testing.T) {
	n := netStartNetwork(t, storetest.SQLiteDSN(t), storetest.SQLiteDSN(t))
	for _, c := range []struct{ version, pan string }{
		{emv.Version210, netPANEnrolled210},
		{emv.Version231, netPANEnrolled231},
	} {
		t.Run(c.version, func(t *testing.T) {
			y := n.netSend(n.netAReq(c.version, c.pan, "1500", nil))
			n.netCheck(c.version+" frictionless", y, netWant{status: "Y", eci: "05", value: true, verifies: true, acsRef: netACSRef})
			if y.MessageVersion != c.version {
				t.Errorf("the ARes is version %s, want %s", y.MessageVersion, c.version)
			}
			n.netCheckVerify(c.version+" frictionless", c.pan, "1500", y, true)

			ch := n.netSend(n.netAReq(c.version, c.pan, "950000", nil))
			n.netCheck(c.version+" challenge", ch, netWant{status: "C", acsRef: netACSRef, acsURL: netACSURL, mandated: "N"})
			if ch.TransStatus == "C" {
				n.netChallengeEndsWithRReq(ch, c.pan, "950000")
			}
		})
	}
}

func TestServeDSStampsItsListenerAsDSURLWhenNoURLIsGiven(t *testing.T) {
	for _, c := range []struct {
		name string
		addr net.TCPAddr
		want string
	}{
		{"a loopback listener is its own host", net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9000}, "https://127.0.0.1:9000/"},
		{"a listener on every IPv4 address is reached as localhost", net.TCPAddr{IP: net.IPv4zero, Port: 8443}, "https://localhost:8443/"},
		{"a listener on every IPv6 address is reached as localhost", net.TCPAddr{IP: net.IPv6unspecified, Port: 8443}, "https://localhost:8443/"},
		{"a listener with no address is reached as localhost", net.TCPAddr{Port: 8443}, "https://localhost:8443/"},
		{"an IPv6 loopback listener keeps its brackets", net.TCPAddr{IP: net.IPv6loopback, Port: 8443}, "https://[::1]:8443/"},
	} {
		if got := dsSelfURL(&c.addr); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
	}
}

func TestNetworkAuthenticatesAppPurchasesAsEachVersionRequires(t *testing.T) {
	n := netStartNetwork(t, storetest.SQLiteDSN(t), storetest.SQLiteDSN(t))
	for _, c := range []struct {
		name, version, pan string
		want               netWant
		// deviceInfo is the deviceInfoRecognisedVersion 2.3.1 requires of an app ARes.
		deviceInfo string
	}{
		{"a 2.2.0 app purchase passes frictionless at the ACS", emv.Version220, netPANEnrolled210,
			netWant{status: "Y", eci: "05", value: true, verifies: true, acsRef: netACSRef}, ""},
		{"a 2.3.1 app purchase passes frictionless with the fields 2.3.1 requires of an app ARes", emv.Version231, netPANEnrolled231,
			netWant{status: "Y", eci: "05", value: true, verifies: true, acsRef: netACSRef}, "1.7"},
		{"a 2.3.1 app purchase in no range gets the DS's stand-in with the same fields", emv.Version231, netPANNoRange,
			netWant{status: "A", eci: "06", value: true, acsRef: netDSRef}, "1.7"},
	} {
		body := n.netGolden(c.version, "areq-app-pa.json", c.pan, "1500", n.netApp)
		ares := n.netSend(body)
		n.netCheck(c.name, ares, c.want)
		if c.want.value && ares.AuthenticationValue != "" {
			n.netCheckVerify(c.name, c.pan, "1500", ares, c.want.verifies)
		}
		var sent struct{ SDKTransID string }
		json.Unmarshal(body, &sent)
		if ares.SDKTransID != sent.SDKTransID || ares.DeviceInfoRecognisedVersion != c.deviceInfo {
			t.Errorf("%s: sdkTransID %q (sent %q), deviceInfoRecognisedVersion %q (want %q)", c.name,
				ares.SDKTransID, sent.SDKTransID, ares.DeviceInfoRecognisedVersion, c.deviceInfo)
		}
		if wantInd := map[bool]string{true: "N"}[c.deviceInfo != ""]; ares.ThreeDSRequestorAppURLInd != wantInd {
			t.Errorf("%s: threeDSRequestorAppURLInd %q, want %q", c.name, ares.ThreeDSRequestorAppURLInd, wantInd)
		}
	}
	// What the DS refuses of an app AReq it answers itself, before any ACS.
	for _, c := range []struct {
		name, code, detail string
		change             func(m map[string]any)
	}{
		{"sdkEncData that does not decrypt is 302", "302", "sdkEncData", func(m map[string]any) {
			n.netApp(m)
			m["sdkEncData"] = strings.Replace(m["sdkEncData"].(string), "..", "..AAAA", 1)
		}},
		{"an SDK the scheme has not approved is 303", "303", "sdkReferenceNumber", func(m map[string]any) {
			n.netApp(m)
			m["sdkReferenceNumber"] = "3DS_LOA_SDK_UNKN_020301_00001"
		}},
	} {
		e := n.netSendErro(n.netGolden(emv.Version231, "areq-app-pa.json", netPANEnrolled231, "1500", c.change))
		if e.ErrorCode != c.code || e.ErrorComponent != "D" || e.ErrorDetail != c.detail {
			t.Errorf("%s: got Erro %s/%s %q", c.name, e.ErrorCode, e.ErrorComponent, e.ErrorDetail)
		}
	}
	for _, logs := range []string{n.ds.logs.String(), n.acs.logs.String()} {
		if strings.Contains(logs, "Pixel 8 Pro") || strings.Contains(logs, base64.RawURLEncoding.EncodeToString([]byte(netDeviceJSON))[:24]) {
			t.Error("device information reached a log")
		}
	}
}

// BenchmarkNetworkAttemptsAReq measures one AReq from the 3DS Server through the DS to the ACS and
// back, over mutual TLS on loopback with SQLite stores: the latency a merchant sees from the scheme's
// side. Each iteration uses a fresh card number in Bank B's range, which Bank B has not enrolled and
// answers with attempts (A, with an authentication value), so that no card's history builds up and
// changes the answer; the risk engine, which has its own benchmarks, is not on this path.
func BenchmarkNetworkAttemptsAReq(b *testing.B) {
	n := netStartNetwork(b, storetest.SQLiteDSN(b), storetest.SQLiteDSN(b))
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = n.netAReq(emv.Version220, luhnComplete(fmt.Sprintf("411111%09d", i)), "1500", nil)
	}
	b.ResetTimer()
	for i := range b.N {
		if ares := n.netSend(bodies[i]); ares.TransStatus != "A" {
			b.Fatalf("transStatus %s", ares.TransStatus)
		}
	}
}
