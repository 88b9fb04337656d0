package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/authvalue"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/ids"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/sdkcrypto"
	"github.com/open3ds/open3ds/internal/vault"
)

// The cards of the test network, all Luhn-valid. Bank A answers N for a card it has not enrolled,
// Bank B attempts; the last card lies in no range the DS knows.
const (
	netPANEnrolled    = "4000001234567899"
	netPANEnrolled210 = "4000002100000007" // Bank A's, for the 2.1.0 transactions
	netPANEnrolled231 = "4000002310000003" // Bank A's, for the 2.3.1 transactions
	netPANBlocked     = "4000009876543219"
	netPANNotEnrolled = "4000005555555557" // Bank A's range, no account
	netPANAttempts    = "4111115555555550" // Bank B's range, no account
	netPANNoRange     = "5100000000000008"

	netRequestor = "10075020*SHOPDEMO"
	netDSRef     = "DS-REF-NET"
	netTDSSRef   = "3DSS-REF-NET"
	netACSRef    = "ACS-REF-NET"
	netACSURL    = "https://acs.bank.example/challenge"
	netACSToken  = "acs-admin-token-for-tests"
	// netSDKRef is the one SDK the test network's DS has approved.
	netSDKRef = "3DS_LOA_SDK_OPNS_020301_00003"
	// netDeviceJSON is the device information the test network's SDK sends.
	netDeviceJSON = `{"DV":"1.7","DD":{"C001":"Android","C002":"Pixel 8 Pro"},"DPNA":{"C010":"RE03"},"SW":[]}`
)

var netPANs = []string{netPANEnrolled, netPANEnrolled210, netPANEnrolled231, netPANBlocked, netPANNotEnrolled, netPANAttempts, netPANNoRange}

// netLog is a log buffer the servers write while the test reads it.
type netLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *netLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *netLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// netServer is one `open3ds serve <role>` running in-process.
type netServer struct {
	protocol, admin string
	logs            *netLog
	stop            func()
	// signal ends the server's context, as SIGTERM does, without waiting for it to stop; stop waits.
	signal func()
}

// netNetwork is a DS and an ACS started by their commands on loopback, each with its own store,
// and what a 3DS Server needs to talk to them.
type netNetwork struct {
	t       testing.TB
	layout  pki.Layout
	environ map[string]string
	acsDSN  string
	ds, acs netServer
	client  *http.Client // holds the 3DS Server's certificate
	// results is the 3DS Server's RReq endpoint (threeDSServerURL); rreqs hears what reaches it.
	results string
	rreqs   chan *emv.RReq
}

// netRun runs one open3ds command in-process and fails the test if it fails.
func (n *netNetwork) netRun(args ...string) string {
	n.t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return n.environ[k] }, strings.NewReader(""), &out, &errOut)
	if err != nil {
		n.t.Fatalf("open3ds %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

// netStart runs `open3ds serve <role>` until stop (or the end of the test) and waits until it listens.
func (n *netNetwork) netStart(role string, hook *func(protocol, admin string), args ...string) netServer {
	n.t.Helper()
	addrs := make(chan [2]string, 1)
	*hook = func(p, a string) { addrs <- [2]string{p, a} }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	s := netServer{logs: &netLog{}}
	go func() {
		done <- run(ctx, append([]string{"serve", role}, args...), func(k string) string { return n.environ[k] },
			strings.NewReader(""), io.Discard, s.logs)
	}()
	select {
	case a := <-addrs:
		s.protocol, s.admin = a[0], a[1]
	case err := <-done:
		cancel()
		n.t.Fatalf("serve %s stopped: %v\n%s", role, err, s.logs)
	case <-time.After(10 * time.Second):
		cancel()
		n.t.Fatalf("serve %s did not start", role)
	}
	*hook = nil
	var once sync.Once
	s.signal = cancel
	s.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					n.t.Errorf("serve %s: %v", role, err)
				}
			case <-time.After(10 * time.Second):
				n.t.Errorf("serve %s did not stop", role)
			}
			for _, pan := range netPANs {
				if strings.Contains(s.logs.String(), pan) {
					n.t.Errorf("a full PAN reached the log of serve %s", role)
				}
			}
		})
	}
	n.t.Cleanup(s.stop)
	return s
}

// netOptions change how netStartNetwork starts the network.
type netOptions struct {
	// acsVia, when set, gives the ACS URL the DS is enrolled with, from the network's PKI and the
	// ACS's protocol address: a relay in front of the ACS, say.
	acsVia func(l pki.Layout, acsProtocol string) string
	dsArgs []string // more flags for `serve ds`
}

// netStartNetwork makes the PKI, enrols the network with the real commands and starts both roles.
func netStartNetwork(t testing.TB, dsDSN, acsDSN string, opts ...netOptions) *netNetwork {
	t.Helper()
	vaultKeys, err := vault.NewRandomSpec()
	if err != nil {
		t.Fatal(err)
	}
	keysA, _ := authvalue.NewRandomSpec()
	keysB, _ := authvalue.NewRandomSpec()
	n := &netNetwork{t: t, acsDSN: acsDSN, rreqs: make(chan *emv.RReq, 4), environ: map[string]string{
		"OPEN3DS_VAULT_KEYS": vaultKeys, "OPEN3DS_ACS_AUTHVALUE_KEYS_BANK_A": keysA, "OPEN3DS_ACS_AUTHVALUE_KEYS_BANK_B": keysB,
		"OPEN3DS_ACS_ADMIN_TOKEN": netACSToken, "OPEN3DS_DS_ADMIN_TOKEN": "ds-admin-token-for-tests",
		"OPEN3DS_DS_STAND_IN_KEY": "ds-stand-in-key-for-tests", "OPEN3DS_DRAIN_DELAY": "0",
	}}
	dir := filepath.Join(t.TempDir(), "pki")
	n.netRun("pki", "init", "--dir", dir)
	n.layout = pki.Paths(dir)
	l := n.layout

	// The issuer's side: two banks, three accounts, then the ACS on a port the kernel picks.
	n.netRun("enrol", "issuer", "add", "--dsn", acsDSN, "--id", "bank-a", "--name", "Bank A", "--ranges", "400000", "--not-enrolled", "N")
	n.netRun("enrol", "issuer", "add", "--dsn", acsDSN, "--id", "bank-b", "--name", "Bank B", "--ranges", "411111", "--not-enrolled", "A")
	for _, pan := range []string{netPANEnrolled, netPANEnrolled210, netPANEnrolled231} {
		n.netRun("enrol", "cardholder", "add", "--dsn", acsDSN, "--issuer", "bank-a", "--pan", pan, "--mobiles", "+33612345678")
	}
	n.netRun("enrol", "cardholder", "add", "--dsn", acsDSN, "--issuer", "bank-a", "--pan", netPANBlocked, "--status", "blocked")
	n.acs = n.netStart("acs", &acsListening, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--dsn", acsDSN,
		"--tls.ca", l.CA.Cert, "--tls.cert", l.ACS.Cert, "--tls.key", l.ACS.Key, "--challenge-url", netACSURL,
		"--reference-number", netACSRef)

	// The scheme's side: the ACS under its certificate's name, the 3DS Server, the ranges.
	n.netRun("enrol", "scheme", "set", "--dsn", dsDSN, "--ds-id", "F000000001", "--ref", netDSRef, "--eci", "default",
		"--stand-in-not-enrolled", "attempts", "--stand-in-unavailable", "unavailable")
	var o netOptions
	for _, x := range opts {
		o = x
	}
	acsURL := "https://" + n.acs.protocol + "/areq"
	if o.acsVia != nil {
		acsURL = o.acsVia(n.layout, n.acs.protocol)
	}
	n.netRun("enrol", "acs", "add", "--dsn", dsDSN, "--name", "acs", "--ref", netACSRef, "--url", acsURL)
	n.netRun("enrol", "3dss", "add", "--dsn", dsDSN, "--name", "3dss", "--ref", netTDSSRef, "--requestors", netRequestor)
	n.netRun("enrol", "range", "add", "--dsn", dsDSN, "--start", "4000000000000000", "--end", "4000009999999999", "--acs", "acs")
	n.netRun("enrol", "range", "add", "--dsn", dsDSN, "--start", "4111110000000000", "--end", "4111119999999999", "--acs", "acs")
	// The SDK of the golden app AReqs is approved in one version; the others are not (netAppAReq).
	n.netRun("enrol", "sdk", "add", "--dsn", dsDSN, "--ref", netSDKRef, "--description", "the golden AReqs' SDK")
	// The RSA key under an id of the operator's, the EC key under the one its public key gives it.
	n.ds = n.netStart("ds", &dsListening, append([]string{"--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--dsn", dsDSN,
		"--tls.ca", l.CA.Cert, "--tls.cert", l.DS.Cert, "--tls.key", l.DS.Key,
		"--sdk-key", "rsa-2026=" + l.DSEncryptionRSA.Prefix(), "--sdk-key", l.DSEncryptionEC.Prefix()}, o.dsArgs...)...)

	cert, err := pki.LoadKeyPair(l.ThreeDSServer.Cert, l.ThreeDSServer.Key)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pki.LoadPool(l.CA.Cert)
	if err != nil {
		t.Fatal(err)
	}
	n.client = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: pki.ClientConfig(&cert, pool, "")}}
	t.Cleanup(n.client.CloseIdleConnections)
	n.netStartResults(cert, pool)
	return n
}

// netStartResults plays the 3DS Server's RReq endpoint: mutual TLS with the 3DS Server's certificate,
// only the DS may call, and each RReq is acknowledged with an RRes for the same transaction.
func (n *netNetwork) netStartResults(cert tls.Certificate, pool *x509.CertPool) {
	srv := httptest.NewUnstartedServer(httpx.Protocol(emv.ComponentThreeDSServ, emv.Version220, func(w http.ResponseWriter, r *http.Request) error {
		if id, err := pki.IdentifyRequest(r); err != nil || id.Role != pki.RoleDS {
			return emv.Errorf(emv.CodeAccessDenied, "client certificate")
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			return err
		}
		m, err := emv.ParseAs(body, emv.TypeRReq, nil)
		if err != nil {
			return err
		}
		rreq := m.(*emv.RReq)
		n.rreqs <- rreq
		return httpx.WriteMessage(w, &emv.RRes{MessageType: emv.TypeRRes, MessageVersion: rreq.MessageVersion,
			ThreeDSServerTransID: rreq.ThreeDSServerTransID, ACSTransID: rreq.ACSTransID, DSTransID: rreq.DSTransID,
			SDKTransID: rreq.SDKTransID, ResultsStatus: "01"})
	}))
	srv.TLS = pki.ServerConfig(cert, pool, true)
	srv.StartTLS()
	n.t.Cleanup(srv.Close)
	n.results = srv.URL + "/3ds/results"
}

// netAReq is the golden browser AReq of a protocol version as this network's 3DS Server sends it: a
// fresh transaction id, its requestor and results URL, no DS fields (the DS stamps them), and change
// applied.
func (n *netNetwork) netAReq(version, pan, amount string, change func(m map[string]any)) []byte {
	n.t.Helper()
	return n.netGolden(version, "areq-browser-pa.json", pan, amount, change)
}

// netGolden is netAReq for any golden AReq; an empty amount leaves the fixture's (or its absence).
func (n *netNetwork) netGolden(version, fixture, pan, amount string, change func(m map[string]any)) []byte {
	n.t.Helper()
	raw, err := os.ReadFile(filepath.Join(emvTestdata, "valid", version, fixture))
	if err != nil {
		n.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		n.t.Fatal(err)
	}
	for _, k := range []string{"dsTransID", "dsReferenceNumber", "dsURL"} {
		delete(m, k)
	}
	m["threeDSServerTransID"], m["acctNumber"] = ids.New(), pan
	if amount != "" {
		m["purchaseAmount"] = amount
	}
	m["threeDSRequestorID"], m["threeDSServerURL"], m["threeDSServerRefNumber"] = netRequestor, n.results, netTDSSRef
	if change != nil {
		change(m)
	}
	body, err := json.Marshal(m)
	if err != nil {
		n.t.Fatal(err)
	}
	return body
}

// netSend posts an AReq to the DS as the 3DS Server and returns the ARes, checked against the AReq
// as a 3DS Server checks it.
func (n *netNetwork) netSend(body []byte) *emv.ARes {
	n.t.Helper()
	resp, err := n.client.Post("https://"+n.ds.protocol+"/", httpx.ProtocolContentType, bytes.NewReader(body))
	if err != nil {
		n.t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	sent, err := emv.ParseAs(body, emv.TypeAReq, nil)
	if err != nil {
		n.t.Fatalf("the test's own AReq is invalid: %v", err)
	}
	m, err := emv.ParseAs(out, emv.TypeARes, &emv.Context{AReq: sent.(*emv.AReq)})
	if err != nil {
		n.t.Fatalf("the DS did not answer a valid ARes: %v\n%s\nDS log:\n%s\nACS log:\n%s", err, out, n.ds.logs, n.acs.logs)
	}
	return m.(*emv.ARes)
}

// netVerdict is the ACS admin API's answer about an authentication value.
type netVerdict struct {
	Valid       bool   `json:"valid"`
	ACSTransID  string `json:"acsTransID"`
	TransStatus string `json:"transStatus"`
	ECI         string `json:"eci"`
	AlreadyUsed bool   `json:"alreadyUsed"`
}

// netVerify asks the ACS admin API, as the issuer's authorisation system does, about a value.
func (n *netNetwork) netVerify(pan, amount, value string) netVerdict {
	n.t.Helper()
	ask, _ := json.Marshal(map[string]string{"pan": pan, "amount": amount, "currency": "978", "authenticationValue": value})
	req, _ := http.NewRequest("POST", "http://"+n.acs.admin+"/v1/authentication-values/verify", bytes.NewReader(ask))
	req.Header.Set("Authorization", "Bearer "+netACSToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	var v netVerdict
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&v) != nil {
		n.t.Fatalf("verify answered HTTP %d", resp.StatusCode)
	}
	return v
}

// netWaitUntil polls cond until it holds or the bound passes; it never sleeps longer than it must.
func netWaitUntil(t testing.TB, bound time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", bound, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// netApp changes a golden app AReq into one from the network's approved SDK, with sdkEncData made
// as an SDK makes it: netDeviceJSON encrypted to the DS's EC key under the scheme's DS id.
func (n *netNetwork) netApp(m map[string]any) {
	n.t.Helper()
	kp, err := pki.LoadKeyPair(n.layout.DSEncryptionEC.Cert, n.layout.DSEncryptionEC.Key)
	if err != nil {
		n.t.Fatal(err)
	}
	data, err := sdkcrypto.EncryptSDKEncData([]byte(netDeviceJSON), kp.PrivateKey.(crypto.Signer).Public(), "", "F000000001",
		sdkcrypto.EncA128CBCHS256, sdkcrypto.AlgDir)
	if err != nil {
		n.t.Fatal(err)
	}
	m["sdkEncData"], m["sdkReferenceNumber"] = data, netSDKRef
}

// netSendErro posts body to the DS and returns the Erro it answers.
func (n *netNetwork) netSendErro(body []byte) *emv.Erro {
	n.t.Helper()
	resp, err := n.client.Post("https://"+n.ds.protocol+"/", httpx.ProtocolContentType, bytes.NewReader(body))
	if err != nil {
		n.t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var e emv.Erro
	if err := json.Unmarshal(out, &e); err != nil || e.MessageType != emv.TypeErro {
		n.t.Fatalf("the DS answered %s, want an Erro", out)
	}
	return &e
}
