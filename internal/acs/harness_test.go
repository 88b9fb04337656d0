package acs_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/authvalue"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/logx"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/store"
)

var (
	pkiOnce   sync.Once
	pkiLayout pki.Layout
	pkiErr    error
)

// testPKI makes one scheme PKI per test binary: certificates are slow enough to share.
func testPKI(tb testing.TB) pki.Layout {
	tb.Helper()
	pkiOnce.Do(func() {
		dir, err := os.MkdirTemp("", "acs-pki-")
		if err != nil {
			pkiErr = err
			return
		}
		_, pkiErr = pki.Init(dir, pki.InitOptions{})
		pkiLayout = pki.Paths(dir)
	})
	if pkiErr != nil {
		tb.Fatal(pkiErr)
	}
	return pkiLayout
}

// testRisk is a readable stand-in for the risk engine: large amounts challenge, a merchant named
// "Fraud Shop" is denied, anything else passes.
func testRisk(policy string, in acs.RiskInput) (acs.RiskResult, *acs.RiskResult) {
	amount, _ := strconv.ParseInt(in.AReq.PurchaseAmount, 10, 64)
	switch {
	case in.AReq.MerchantName == "Fraud Shop":
		return acs.RiskResult{Score: 95, Outcome: acs.Deny, Reasons: []string{"merchant on the fraud list"}, TransStatusReason: "11"}, nil
	case amount > 100000:
		return acs.RiskResult{Score: 60, Outcome: acs.Challenge, Reasons: []string{"amount above 1000.00"}}, nil
	}
	return acs.RiskResult{Score: 5, Outcome: acs.Frictionless, Reasons: []string{"low risk"}},
		&acs.RiskResult{Score: 40, Outcome: acs.Challenge}
}

// acsEnv is an ACS on a real mutual-TLS listener over SQLite, with two issuers and a few cards.
type acsEnv struct {
	store  *acs.SQLStore
	vault  acs.PANVault
	url    string
	ds     *http.Client // presents the DS certificate
	other  *http.Client // presents the 3DS Server certificate
	logs   *syncBuffer
	keys   acs.AuthValueKeys
	server *httptest.Server
	admin  string // the admin API's base URL
	svc    *acs.Service
	db     *store.DB
	acsTLS *http.Client // presents the ACS certificate, as the RReq sender does

}

const adminToken = "test-admin-token"

// The test cards pass the Luhn check, which every AReq's acctNumber must (emv.LuhnValid); each keeps
// its last four digits, which tests compare with masked numbers.
const (
	panEnrolled    = "4000001234547891"
	panBlocked     = "4000002222242222"
	panNotEnrolled = "4000003333303333"
	panAttempts    = "5100001111141111" // issuer with attempts for cards not enrolled
	panMastercard  = "5100002222242228"
	panNoKeys      = "370000111101111" // its issuer's authentication-value keys are not configured
)

func newACS(tb testing.TB) *acsEnv {
	tb.Helper()
	return newACSOn(tb, backends[0].open)
}

// newACSOn is newACS on the store open gives (one of backends).
func newACSOn(tb testing.TB, open func(testing.TB) *store.DB) *acsEnv {
	tb.Helper()
	ctx := context.Background()
	l := testPKI(tb)
	spec, err := authvalue.NewRandomSpec()
	if err != nil {
		tb.Fatal(err)
	}
	keys, err := authvalue.ParseKeys(spec)
	if err != nil {
		tb.Fatal(err)
	}
	e := &acsEnv{vault: newKeyring(tb).ring(tb), logs: &syncBuffer{}, keys: acs.AuthValues(keys)}
	e.db = open(tb)
	e.store = acs.NewSQLStore(e.db, e.vault)
	a := testIssuer("bank-a", "4000", "4000")
	b := testIssuer("bank-m", "5100", "5100")
	b.ECIStyle, b.NotEnrolledPolicy, b.Decoupled = "mastercard", "A", true
	u := testIssuer("bank-u", "3700", "3700")
	u.AuthValueKeyRef = "not-configured"
	for _, is := range []acs.Issuer{a, b, u} {
		if err := e.store.CreateIssuer(ctx, is); err != nil {
			tb.Fatal(err)
		}
	}
	for _, c := range []acs.Cardholder{
		{IssuerID: "bank-a", PAN: panEnrolled, Mobiles: []string{"+447700900123"}},
		{IssuerID: "bank-a", PAN: panBlocked, Status: acs.StatusBlocked},
		{IssuerID: "bank-a", PAN: panNotEnrolled, Status: acs.StatusNotEnrolled},
		{IssuerID: "bank-m", PAN: panMastercard, Emails: []string{"hanako@example.com"}},
		{IssuerID: "bank-u", PAN: panNoKeys},
	} {
		if _, err := e.store.CreateCardholder(ctx, c); err != nil {
			tb.Fatal(err)
		}
	}
	log := logx.New(e.logs, slog.LevelDebug, "json")
	svc := &acs.Service{Store: e.store, Risk: acs.RiskFunc(testRisk), ChallengeURL: "https://acs.example/challenge",
		Keys: func(ref string) (acs.AuthValueKeys, bool) { return e.keys, ref != "not-configured" }, Log: log, Exchanges: e.db,
		// Decoupled requests go nowhere here; newShop sends them through its outbox.
		DecoupledStarted: func(context.Context, acs.DecoupledStart) {}}
	cert, err := pki.LoadKeyPair(l.ACS.Cert, l.ACS.Key)
	if err != nil {
		tb.Fatal(err)
	}
	pool, err := pki.LoadPool(l.CA.Cert)
	if err != nil {
		tb.Fatal(err)
	}
	e.server = httptest.NewUnstartedServer(httpx.Chain(svc.Handler(), httpx.Standard(log, nil)))
	e.server.TLS = pki.ServerConfig(cert, pool, true)
	e.server.StartTLS()
	tb.Cleanup(e.server.Close)
	e.url = e.server.URL + "/areq"
	admin := httptest.NewServer((&acs.Admin{Store: e.store, Keys: svc.Keys, Token: adminToken}).Handler())
	tb.Cleanup(admin.Close)
	e.admin = admin.URL
	e.ds, e.other, e.acsTLS = client(tb, l.DS, pool), client(tb, l.ThreeDSServer, pool), client(tb, l.ACS, pool)
	e.svc = svc
	return e
}

func client(tb testing.TB, fp pki.FilePair, pool *x509.CertPool) *http.Client {
	tb.Helper()
	cert, err := pki.LoadKeyPair(fp.Cert, fp.Key)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := pki.ClientConfig(&cert, pool, "127.0.0.1")
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
}

// syncBuffer is the log the ACS writes from its request goroutines while a test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
