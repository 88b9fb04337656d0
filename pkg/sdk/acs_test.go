package sdk_test

import (
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/sdkcrypto"
	"github.com/open3ds/open3ds/pkg/sdk"
)

// The test scheme's PKI, made once per test binary by pki.Init: the CA, the ACS content-signing
// certificate and the DS encryption keys.
var (
	pkiDir  string
	pkiOnce sync.Once
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sdk-test-pki-")
	if err != nil {
		panic(err)
	}
	pkiDir = filepath.Join(dir, "pki")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func layout(tb testing.TB) pki.Layout {
	tb.Helper()
	pkiOnce.Do(func() {
		if _, err := pki.Init(pkiDir, pki.InitOptions{}); err != nil {
			panic(err)
		}
	})
	return pki.Paths(pkiDir)
}

func loadPair(tb testing.TB, f pki.FilePair) tls.Certificate {
	tb.Helper()
	pair, err := pki.LoadKeyPair(f.Cert, f.Key)
	must(tb, err)
	return pair
}

func roots(tb testing.TB) *x509.CertPool {
	tb.Helper()
	ca, err := pki.LoadCA(layout(tb).Dir)
	must(tb, err)
	return ca.Pool()
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

const (
	refNumber  = "3DS_LOA_SDK_OPEN_020100_00001"
	appID      = "4a2f1c5e-7b1d-4c39-9e0f-2d6a8b3c1e57"
	serverTxID = "0190f4c2-6a1e-7cc3-9d2b-51a8e6f0c4d1"
	acsTxID    = "8c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
)

// testACS is a small ACS for the app challenge, written with sdkcrypto: it signs its content with
// the scheme's content-signing certificate, opens each CReq with the session key, and answers
// what the test's answer function says, sealed for the SDK. It records every CReq and every Erro.
type testACS struct {
	tb   testing.TB
	srv  *httptest.Server
	key  *ecdh.PrivateKey
	sess *sdkcrypto.Session
	// answer makes the CRes for a CReq; the ids and counter are filled in before it runs, so a
	// test changes only what it is about. A non-empty raw is sent as it is instead.
	answer func(creq *emv.CReq, cres *emv.CRes) (raw string)

	mu           sync.Mutex
	creqs        []*emv.CReq
	erros        []*emv.Erro
	contentTypes []string
	kids         []string
}

func newTestACS(tb testing.TB) *testACS {
	a := &testACS{tb: tb}
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	must(tb, err)
	a.key = key
	a.srv = httptest.NewTLSServer(http.HandlerFunc(a.serve))
	tb.Cleanup(a.srv.Close)
	return a
}

// signedContent is the acsSignedContent for an SDK whose key is sdkKey, and starts the session.
func (a *testACS) signedContent(sdkKey json.RawMessage) string {
	pub, err := sdkcrypto.ParseJWK(sdkKey)
	must(a.tb, err)
	a.sess, err = sdkcrypto.DeriveSession(a.key, pub, refNumber)
	must(a.tb, err)
	return sign(a.tb, loadPair(a.tb, layout(a.tb).ACSSigning), map[string]any{"acsURL": a.srv.URL + "/challenge",
		"acsEphemPubKey": sdkcrypto.PublicJWK(a.key.PublicKey()), "sdkEphemPubKey": sdkKey})
}

func sign(tb testing.TB, pair tls.Certificate, content map[string]any) string {
	tb.Helper()
	payload, err := json.Marshal(content)
	must(tb, err)
	jws, err := sdkcrypto.SignJWS(payload, pair.PrivateKey.(crypto.Signer), []*x509.Certificate{pair.Leaf})
	must(tb, err)
	return jws
}

func (a *testACS) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.contentTypes = append(a.contentTypes, r.Header.Get("Content-Type"))
	if m, err := emv.ParseAs(body, emv.TypeErro, nil); err == nil {
		a.erros = append(a.erros, m.(*emv.Erro))
		return
	}
	plain, h, err := a.sess.Open(sdkcrypto.SDKToACS, string(body))
	if err != nil {
		a.tb.Errorf("the test ACS cannot open a CReq: %v", err)
		return
	}
	a.kids = append(a.kids, h.Kid)
	m, err := emv.ParseAs(plain, emv.TypeCReq, nil)
	if err != nil {
		a.tb.Errorf("the test ACS got an invalid CReq %s: %v", plain, err)
		return
	}
	creq := m.(*emv.CReq)
	a.creqs = append(a.creqs, creq)
	cres := &emv.CRes{MessageType: emv.TypeCRes, MessageVersion: creq.MessageVersion, ThreeDSServerTransID: creq.ThreeDSServerTransID,
		ACSTransID: creq.ACSTransID, SDKTransID: creq.SDKTransID, ACSCounterAtoS: creq.SDKCounterStoA}
	if raw := a.answer(creq, cres); raw != "" {
		io.WriteString(w, raw)
		return
	}
	a.write(w, cres, a.sess, h.Enc)
}

// write seals cres for the SDK with sess (a test may give another session to break it).
func (a *testACS) write(w http.ResponseWriter, cres *emv.CRes, sess *sdkcrypto.Session, enc string) {
	data, err := emv.Marshal(cres)
	must(a.tb, err)
	n, _ := strconv.Atoi(cres.ACSCounterAtoS)
	jwe, err := sess.Seal(sdkcrypto.ACSToSDK, enc, cres.ACSTransID, byte(n), data)
	must(a.tb, err)
	w.Header().Set("Content-Type", "application/jose; charset=UTF-8")
	io.WriteString(w, jwe)
}

func (a *testACS) received() ([]*emv.CReq, []*emv.Erro) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]*emv.CReq(nil), a.creqs...), append([]*emv.Erro(nil), a.erros...)
}

// Screens the test ACS shows.
func textScreen(c *emv.CRes) {
	c.ChallengeCompletionInd, c.ACSUiType = "N", "01"
	c.ChallengeInfoHeader, c.ChallengeInfoLabel, c.ChallengeInfoText = "Purchase", "Code", "Enter the code we sent to ******0123"
	c.SubmitAuthenticationLabel, c.ResendInformationLabel = "Submit", "Send a new code"
}

func final(c *emv.CRes, status string) {
	c.ChallengeCompletionInd, c.TransStatus = "Y", status
}

// newSDK is an SDK of the test scheme whose HTTP client trusts the test ACS.
func newSDK(tb testing.TB, a *testACS, ecKey bool) *sdk.SDK {
	tb.Helper()
	files := layout(tb).DSEncryptionRSA
	if ecKey {
		files = layout(tb).DSEncryptionEC
	}
	s, err := sdk.New(sdk.Config{DSCertificate: loadPair(tb, files).Leaf, DSID: pki.DefaultDSID, Roots: roots(tb),
		ReferenceNumber: refNumber, AppID: appID, Client: a.srv.Client(),
		Device: sdk.DeviceInfo{Model: "Pixel 8", ScreenResolution: "1080x2400", Platform: "Android"}})
	must(tb, err)
	return s
}

// begin creates a transaction and the parameters of its challenge with the test ACS.
func begin(tb testing.TB, a *testACS, s *sdk.SDK) (*sdk.Transaction, sdk.ChallengeParameters) {
	tb.Helper()
	tx, err := s.CreateTransaction()
	must(tb, err)
	p := tx.AuthenticationRequestParameters()
	return tx, sdk.ChallengeParameters{ThreeDSServerTransID: serverTxID, ACSTransID: acsTxID, ACSReferenceNumber: "ACS-REF",
		ACSSignedContent: a.signedContent(p.SDKEphemPubKey)}
}

// scriptedUI is a hand-written fake UI: each method runs its function field and records the screen.
type scriptedUI struct {
	text, single, multi, oob, html func(ctx context.Context, s sdk.Screen) (sdk.Answer, error)
	shown                          []sdk.Screen
}

func (u *scriptedUI) call(f func(context.Context, sdk.Screen) (sdk.Answer, error), ctx context.Context, s sdk.Screen) (sdk.Answer, error) {
	u.shown = append(u.shown, s)
	if f == nil {
		return sdk.Answer{}, errUnexpectedScreen
	}
	return f(ctx, s)
}

func (u *scriptedUI) Text(ctx context.Context, s sdk.Screen) (sdk.Answer, error) {
	return u.call(u.text, ctx, s)
}
func (u *scriptedUI) SingleSelect(ctx context.Context, s sdk.Screen) (sdk.Answer, error) {
	return u.call(u.single, ctx, s)
}
func (u *scriptedUI) MultiSelect(ctx context.Context, s sdk.Screen) (sdk.Answer, error) {
	return u.call(u.multi, ctx, s)
}
func (u *scriptedUI) OOB(ctx context.Context, s sdk.Screen) (sdk.Answer, error) {
	return u.call(u.oob, ctx, s)
}
func (u *scriptedUI) HTML(ctx context.Context, s sdk.Screen) (sdk.Answer, error) {
	return u.call(u.html, ctx, s)
}

type uiError string

func (e uiError) Error() string { return string(e) }

const errUnexpectedScreen = uiError("the test UI was shown a screen it did not expect")

func answer(a sdk.Answer) func(context.Context, sdk.Screen) (sdk.Answer, error) {
	return func(context.Context, sdk.Screen) (sdk.Answer, error) { return a, nil }
}
