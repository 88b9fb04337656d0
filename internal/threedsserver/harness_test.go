package threedsserver_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/ds"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/logx"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/sdkcrypto"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/store/storetest"
	"github.com/open3ds/open3ds/internal/threedsserver"
	"github.com/open3ds/open3ds/internal/vault"
)

// The test PKI is made once per test binary; identities are issued from its CA on demand.
var (
	pkiDir   string
	pkiOnce  sync.Once
	pkiCA    *pki.CA
	pkiMu    sync.Mutex
	pkiCerts = map[string]tls.Certificate{}
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "3dss-test-pki-")
	if err != nil {
		panic(err)
	}
	pkiDir = filepath.Join(dir, "pki")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func caPool(tb testing.TB) *x509.CertPool {
	pkiOnce.Do(func() {
		if _, err := pki.Init(pkiDir, pki.InitOptions{}); err != nil {
			panic(err)
		}
		ca, err := pki.LoadCA(pkiDir)
		if err != nil {
			panic(err)
		}
		pkiCA = ca
	})
	return pkiCA.Pool()
}

func certFor(tb testing.TB, role pki.Role, name string) tls.Certificate {
	tb.Helper()
	caPool(tb)
	pkiMu.Lock()
	defer pkiMu.Unlock()
	if c, ok := pkiCerts[string(role)+":"+name]; ok {
		return c
	}
	certPEM, keyPEM, err := pkiCA.Issue(pki.IssueRequest{Role: role, Name: name, DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}})
	must(tb, err)
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	must(tb, err)
	pkiCerts[string(role)+":"+name] = c
	return c
}

func clientFor(tb testing.TB, role pki.Role, name string) *http.Client {
	cert := certFor(tb, role, name)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: pki.ClientConfig(&cert, caPool(tb), ""), MaxIdleConnsPerHost: 64}}
}

func startTLS(tb testing.TB, role pki.Role, name string, h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = pki.ServerConfig(certFor(tb, role, name), caPool(tb), true)
	srv.StartTLS()
	tb.Cleanup(srv.Close)
	return srv
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// Card numbers of the test range: the test ACS answers by the last digit.
const (
	panFrictionless = "4000000000001000"
	panChallenge    = "4000000000001091"
	panBadVersion   = "4000000000001042"
	// panDecoupled is answered D when the AReq allows decoupled authentication, C otherwise.
	panDecoupled = "4000000000001133"
	panOutside   = "5500000000000004"
	requestorID  = "10075020*SHOPDEMO"
)

// network is a real DS (ds.NewServer over SQLite, mutual TLS) with a small test ACS behind it, and
// the 3DS Server under test with its three listeners.
type network struct {
	dsDB, db *store.DB
	dsStore  *ds.SQLStore
	dsSrv    *httptest.Server
	acs      *httptest.Server
	st       *threedsserver.SQLStore
	server   *threedsserver.Server
	api      *httptest.Server
	public   *httptest.Server
	proto    *httptest.Server
	apiKey   string
	bank     *http.Client
	ring     *vault.Keyring

	mu      sync.Mutex
	lastReq *emv.AReq
	// acsGate, when set, runs in the test ACS before it answers an AReq, so a test can act while the
	// AReq is at the ACS.
	acsGate func()
	logs    bytes.Buffer
	tb      testing.TB
}

// newNetwork builds the network; open, when given, opens the 3DS Server's store (SQLite otherwise).
func newNetwork(tb testing.TB, open ...func(testing.TB) *store.DB) *network {
	tb.Helper()
	ctx := context.Background()
	n := &network{dsDB: storetest.OpenSQLite(tb), tb: tb}
	if len(open) > 0 {
		n.db = open[0](tb)
	} else {
		n.db = storetest.OpenSQLite(tb)
	}
	n.dsStore = ds.NewSQLStore(n.dsDB)
	n.acs = startTLS(tb, pki.RoleACS, "bank", http.HandlerFunc(n.answerAReq))
	dsServer := ds.NewServer(ds.Config{Store: n.dsStore, Recorder: n.dsDB, Client: clientFor(tb, pki.RoleDS, "ds"),
		URL: "https://ds.example/3ds", Timeout: 2 * time.Second, PReqEvery: time.Nanosecond, StandInKey: []byte("test stand-in key"),
		SDKKeys: dsSDKKeys(tb)})
	n.dsSrv = startTLS(tb, pki.RoleDS, "ds", dsServer.Handler())
	must(tb, n.dsStore.AddACS(ctx, ds.ACS{Name: "bank", ReferenceNumber: "ACS-REF", URL: n.acs.URL}))
	must(tb, n.dsStore.AddThreeDSServer(ctx, ds.ThreeDSServer{Name: "3dss", ReferenceNumber: "open3ds-3dss", RequestorIDs: []string{requestorID}}))
	must(tb, n.dsStore.AddRange(ctx, dsRange("4000000000000000", "4000000000009999")))
	// The app SDK of these tests is one the scheme approved.
	must(tb, n.dsStore.AddSDK(ctx, ds.SDK{ReferenceNumber: testSDKReference}))

	spec, err := vault.NewRandomSpec()
	must(tb, err)
	ring, err := vault.ParseKeyring(spec)
	must(tb, err)
	n.ring = ring
	n.st = threedsserver.NewSQLStore(n.db)
	// The protocol listener starts first, since its URL goes into every AReq.
	mux := http.NewServeMux()
	n.proto = startTLS(tb, pki.RoleThreeDSServer, "3dss", mux)
	n.public = httptest.NewServer(http.NotFoundHandler())
	tb.Cleanup(n.public.Close)
	n.server = threedsserver.NewServer(threedsserver.Config{Store: n.st, Recorder: n.db, Client: clientFor(tb, pki.RoleThreeDSServer, "3dss"),
		DSURL: n.dsSrv.URL, PublicURL: n.public.URL, ProtocolURL: n.proto.URL, Vault: ring, Timeout: 2 * time.Second,
		Log: logx.New(&n.logs, slog.LevelDebug, "json")})
	// Card data is never logged: at the end, no test card number may appear in the log.
	tb.Cleanup(func() {
		for _, pan := range []string{panFrictionless, panChallenge, panBadVersion, panOutside, panRealACS, panDecoupled, panRealDecoupled} {
			if strings.Contains(n.logs.String(), pan) {
				tb.Errorf("the 3DS Server logged the card number %s", logx.MaskPAN(pan))
			}
		}
	})
	mux.Handle("/", n.server.ProtocolHandler())
	n.public.Config.Handler = n.server.PublicHandler()
	n.api = httptest.NewServer(n.server.MerchantHandler())
	tb.Cleanup(n.api.Close)
	n.bank = clientFor(tb, pki.RoleACS, "bank")

	key, hash := threedsserver.NewAPIKey()
	n.apiKey = key
	must(tb, n.st.AddMerchant(ctx, testMerchant("shop"), hash))
	must(tb, n.server.RefreshRanges(ctx))
	return n
}

func dsRange(start, end string) ds.Range {
	return ds.Range{Start: start, End: end, ACS: "bank", ACSStart: "2.1.0", ACSEnd: "2.2.0", DSStart: "2.1.0", DSEnd: "2.3.1",
		MethodURL: "https://acs.example/method", ACSInfoInd: []string{"01", "02"}}
}

func testMerchant(id string) threedsserver.Merchant {
	return threedsserver.Merchant{ID: id, Name: "Shop Demo", RequestorID: requestorID, RequestorName: "Shop Demo SAS",
		RequestorURL: "https://shop.example", AcquirerBIN: "412345", AcquirerMerchantID: "SHOPDEMO0001", MCC: "5732",
		Country: "250", CreatedAt: time.Now()}
}

// answerAReq is the test ACS: Y for a PAN ending 0, C for 1, an ARes of the wrong version for 2.
func (n *network) answerAReq(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	m, err := emv.Parse(body, nil)
	areq, ok := m.(*emv.AReq)
	if err != nil || !ok {
		http.Error(w, "bad AReq", http.StatusBadRequest)
		return
	}
	n.mu.Lock()
	n.lastReq = areq
	gate := n.acsGate
	n.mu.Unlock()
	if gate != nil {
		gate()
	}
	ares := &emv.ARes{MessageType: emv.TypeARes, MessageVersion: areq.MessageVersion, ThreeDSServerTransID: areq.ThreeDSServerTransID,
		DSTransID: areq.DSTransID, ACSTransID: "0c25afb2-246f-40c3-a162-9c82c19d3c90", ACSReferenceNumber: "ACS-REF",
		DSReferenceNumber: areq.DSReferenceNumber}
	switch areq.AcctNumber[len(areq.AcctNumber)-1] {
	case '0':
		ares.TransStatus, ares.AuthenticationValue, ares.ECI = "Y", "kcxyG4uvCrWa0U8wgGFqfng1lZc=", "05"
	case '1':
		ares.TransStatus, ares.ACSChallengeMandated, ares.AuthenticationType, ares.ACSURL = "C", "Y", "02", "https://acs.example/challenge"
		if areq.DeviceChannel == emv.ChannelApp {
			ares.ACSURL, ares.ACSRenderingType = "", &emv.ACSRenderingType{ACSInterface: "01", ACSUiTemplate: "01"}
			ares.ACSSignedContent = signedContent(n.tb, areq.SDKEphemPubKey)
		}
	case '3':
		ares.TransStatus, ares.ACSChallengeMandated, ares.AuthenticationType, ares.ACSURL = "C", "Y", "02", "https://acs.example/challenge"
		if areq.ThreeDSRequestorDecReqInd == "Y" {
			ares.TransStatus, ares.AuthenticationType, ares.ACSURL, ares.ACSDecConInd = "D", "04", "", "Y"
			ares.CardholderInfo = emv.CardholderInfo{Text: "Approve this payment in your Demo Bank app."}
		}
	case '2':
		ares.TransStatus, ares.AuthenticationValue, ares.ECI = "Y", "kcxyG4uvCrWa0U8wgGFqfng1lZc=", "05"
		ares.MessageVersion = emv.Version210
	}
	if areq.DeviceChannel == emv.ChannelApp {
		ares.SDKTransID = areq.SDKTransID
	}
	if ares.MessageVersion == emv.Version231 && ares.AuthenticationType != "" {
		// 2.3.1 names the method in authenticationMethod instead.
		ares.AuthenticationMethod, ares.AuthenticationType = []string{"02"}, ""
	}
	data, _ := emv.Marshal(ares)
	w.Header().Set("Content-Type", "application/json")
	w.Write(data)
}

// call sends a merchant API request with the network's API key and decodes the JSON answer.
func (n *network) call(tb testing.TB, method, path string, body any, out any) int {
	tb.Helper()
	return callWith(tb, n.api.URL, n.apiKey, method, path, body, out)
}

func callWith(tb testing.TB, base, key, method, path string, body any, out any) int {
	tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		data, err := json.Marshal(b)
		must(tb, err)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, base+path, rd)
	must(tb, err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	must(tb, err)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			tb.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
	return resp.StatusCode
}

func authenticateBody() map[string]any {
	return map[string]any{"amount": "12999", "currency": "978", "threeDSCompInd": "Y", "challengeWindowSize": "03",
		"browser": map[string]any{"acceptHeader": "text/html", "ip": "203.0.113.42", "javaEnabled": false,
			"javascriptEnabled": true, "language": "fr-FR", "colorDepth": "24", "screenHeight": "1080",
			"screenWidth": "1920", "tz": "-60", "userAgent": "Mozilla/5.0 test"}}
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// postDS sends m to the DS as the test ACS and parses the answer.
func (n *network) postDS(tb testing.TB, m emv.Message) emv.Message {
	tb.Helper()
	data, err := emv.Marshal(m)
	must(tb, err)
	resp, err := n.bank.Post(n.dsSrv.URL, "application/json", bytes.NewReader(data))
	must(tb, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	out, err := emv.Parse(body, nil)
	if err != nil {
		tb.Fatalf("DS answered %s: %v", body, err)
	}
	return out
}

// withDS builds a second 3DS Server on the same store that talks to the DS at dsURL, and returns
// its merchant API.
func (n *network) withDS(tb testing.TB, dsURL string, timeout time.Duration) *httptest.Server {
	s := threedsserver.NewServer(threedsserver.Config{Store: n.st, Recorder: n.db, Client: clientFor(tb, pki.RoleThreeDSServer, "3dss"),
		DSURL: dsURL, PublicURL: n.public.URL, ProtocolURL: n.proto.URL, Vault: n.ring, Timeout: timeout})
	api := httptest.NewServer(s.MerchantHandler())
	tb.Cleanup(api.Close)
	return api
}

// testSDKReference is the sdkReferenceNumber of the tests' app SDK, approved at the test DS.
const testSDKReference = "3DS_LOA_SDK_OPEN_020100_00001"

// dsSDKKeys are the test DS's sdkEncData keys: the RSA and the EC key pki.Init made.
func dsSDKKeys(tb testing.TB) []sdkcrypto.DSKey {
	tb.Helper()
	caPool(tb)
	var keys []sdkcrypto.DSKey
	for _, fp := range []pki.FilePair{pki.Paths(pkiDir).DSEncryptionRSA, pki.Paths(pkiDir).DSEncryptionEC} {
		pair, err := pki.LoadKeyPair(fp.Cert, fp.Key)
		must(tb, err)
		keys = append(keys, sdkcrypto.DSKey{ID: filepath.Base(fp.Cert), Key: pair.PrivateKey.(crypto.Signer)})
	}
	return keys
}
