package ds_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/open3ds/open3ds/internal/ds"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/logx"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/sdkcrypto"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/store/storetest"
)

// The test PKI is made once per test binary by pki.Init; further identities are issued from its CA
// on demand and kept.
var (
	pkiDir   string
	pkiOnce  sync.Once
	pkiCA    *pki.CA
	pkiMu    sync.Mutex
	pkiCerts = map[string]tls.Certificate{}
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ds-test-pki-")
	if err != nil {
		panic(err)
	}
	pkiDir = filepath.Join(dir, "pki")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func testCA(tb testing.TB) *pki.CA {
	tb.Helper()
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
	return pkiCA
}

func caPool(tb testing.TB) *x509.CertPool { return testCA(tb).Pool() }

// certFor returns a certificate of the test scheme for role and name, valid for loopback.
func certFor(tb testing.TB, role pki.Role, name string) tls.Certificate {
	tb.Helper()
	ca := testCA(tb)
	pkiMu.Lock()
	defer pkiMu.Unlock()
	key := string(role) + ":" + name
	if c, ok := pkiCerts[key]; ok {
		return c
	}
	certPEM, keyPEM, err := ca.Issue(pki.IssueRequest{Role: role, Name: name, DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}})
	if err != nil {
		tb.Fatal(err)
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		tb.Fatal(err)
	}
	pkiCerts[key] = c
	return c
}

func clientFor(tb testing.TB, role pki.Role, name string) *http.Client {
	cert := certFor(tb, role, name)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: pki.ClientConfig(&cert, caPool(tb), ""),
		MaxIdleConnsPerHost: 64}}
}

// startTLS runs h as a mutual-TLS server of role and name on loopback.
func startTLS(tb testing.TB, role pki.Role, name string, h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = pki.ServerConfig(certFor(tb, role, name), caPool(tb), true)
	srv.StartTLS()
	tb.Cleanup(srv.Close)
	return srv
}

// peer is a small ACS or 3DS Server: it parses what the DS sends with emv and answers with answer.
type peer struct {
	srv    *httptest.Server
	mu     sync.Mutex
	answer func(r *http.Request, m emv.Message) emv.Message
	got    []emv.Message
	// erroStatus, when set, is the HTTP status of an Erro answer, as a component may choose one.
	erroStatus int
}

func startPeer(tb testing.TB, role pki.Role, name string, answer func(*http.Request, emv.Message) emv.Message) *peer {
	p := &peer{answer: answer}
	p.srv = startTLS(tb, role, name, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		m, err := emv.Parse(body, nil)
		if err != nil {
			tb.Errorf("%s %s got a message it cannot parse: %v", role, name, err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		p.got = append(p.got, m)
		answer, erroStatus := p.answer, p.erroStatus
		p.mu.Unlock()
		out := answer(r, m)
		if out == nil {
			return
		}
		data, err := emv.Marshal(out)
		if err != nil {
			tb.Errorf("marshal: %v", err)
		}
		w.Header().Set("Content-Type", "application/json")
		if _, isErro := out.(*emv.Erro); isErro && erroStatus != 0 {
			w.WriteHeader(erroStatus)
		}
		w.Write(data)
	}))
	return p
}

func (p *peer) received(typ string) []emv.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []emv.Message
	for _, m := range p.got {
		if m.Type() == typ {
			out = append(out, m)
		}
	}
	return out
}

func (p *peer) setErroStatus(status int) {
	p.mu.Lock()
	p.erroStatus = status
	p.mu.Unlock()
}

func (p *peer) setAnswer(fn func(*http.Request, emv.Message) emv.Message) {
	p.mu.Lock()
	p.answer = fn
	p.mu.Unlock()
}

// frictionless is an ACS answer: Y with an authentication value.
func frictionless(_ *http.Request, m emv.Message) emv.Message {
	areq, ok := m.(*emv.AReq)
	if !ok {
		return nil // an Erro from the DS needs no answer
	}
	return &emv.ARes{MessageType: emv.TypeARes, MessageVersion: areq.MessageVersion,
		ThreeDSServerTransID: areq.ThreeDSServerTransID, DSTransID: areq.DSTransID, ACSTransID: newID(),
		ACSReferenceNumber: "ACS-REF", DSReferenceNumber: areq.DSReferenceNumber,
		TransStatus: "Y", AuthenticationValue: "kcxyG4uvCrWa0U8wgGFqfng1lZc=", ECI: "05"}
}

// acknowledge is a 3DS Server's answer to an RReq.
func acknowledge(_ *http.Request, m emv.Message) emv.Message {
	rreq := m.(*emv.RReq)
	return &emv.RRes{MessageType: emv.TypeRRes, MessageVersion: rreq.MessageVersion, ThreeDSServerTransID: rreq.ThreeDSServerTransID,
		ACSTransID: rreq.ACSTransID, DSTransID: rreq.DSTransID, ResultsStatus: "01"}
}

// network is a DS with one registered ACS ("bank", range 4000000000000000–4000000000009999) and one
// 3DS Server ("psp", requestor "10075020*SHOPDEMO"), each played by a peer.
type network struct {
	db    *store.DB
	store *ds.SQLStore
	ds    *httptest.Server
	acs   *peer
	tdss  *peer
	reg   *prometheus.Registry // the DS's metrics
	psp   *http.Client         // the 3DS Server's client to the DS
	bank  *http.Client         // the ACS's client to the DS
	logs  *lockedBuffer        // the DS's log, JSON lines
}

// lockedBuffer is a log the DS's handlers write while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type netOptions struct {
	open    func(testing.TB) *store.DB
	timeout time.Duration
	every   time.Duration
	// wrap, when set, goes around the DS's handler, to watch its requests.
	wrap func(http.Handler) http.Handler
	// sdkKeys are the DS's sdkEncData keys; nil means the two pki.Init made (testSDKKeys).
	sdkKeys []sdkcrypto.DSKey
	// standard puts the middleware of a real role (request ids, the error log) around the DS, so
	// that what the adapter logs lands in the network's log too.
	standard bool
}

func newNetwork(t testing.TB, o netOptions) *network {
	t.Helper()
	if o.open == nil {
		o.open = storetest.OpenSQLite
	}
	if o.timeout == 0 {
		o.timeout = 2 * time.Second
	}
	n := &network{db: o.open(t), logs: &lockedBuffer{}}
	n.store = ds.NewSQLStore(n.db)
	n.acs = startPeer(t, pki.RoleACS, "bank", frictionless)
	n.tdss = startPeer(t, pki.RoleThreeDSServer, "psp", acknowledge)
	dsCert := certFor(t, pki.RoleDS, "ds")
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: pki.ClientConfig(&dsCert, caPool(t), ""), MaxIdleConnsPerHost: 64}}
	n.reg = prometheus.NewRegistry()
	metrics, err := ds.NewMetrics(n.reg)
	must(t, err)
	if o.sdkKeys == nil {
		o.sdkKeys = testSDKKeys(t)
	}
	log := logx.New(n.logs, slog.LevelDebug, "json")
	server := ds.NewServer(ds.Config{Store: n.store, Recorder: n.db, Client: client, URL: "https://ds.example/3ds",
		Timeout: o.timeout, PReqEvery: o.every, StandInKey: []byte("test stand-in key"), Metrics: metrics,
		SDKKeys: o.sdkKeys, Log: log})
	h := server.Handler()
	if o.standard {
		h = httpx.Standard(log, nil)(h)
	}
	if o.wrap != nil {
		h = o.wrap(h)
	}
	n.ds = startTLS(t, pki.RoleDS, "ds", h)
	ctx := context.Background()
	must(t, n.store.AddACS(ctx, ds.ACS{Name: "bank", ReferenceNumber: "ACS-REF", URL: n.acs.srv.URL}))
	must(t, n.store.AddThreeDSServer(ctx, ds.ThreeDSServer{Name: "psp", ReferenceNumber: pspRef,
		RequestorIDs: []string{"10075020*SHOPDEMO"}}))
	must(t, n.store.AddRange(ctx, testRange("4000000000000000", "4000000000009999", "bank")))
	// The SDKs of the golden app AReqs are approved, so that app AReqs pass unless a test says otherwise.
	for _, ref := range goldenSDKRefs {
		must(t, n.store.AddSDK(ctx, ds.SDK{ReferenceNumber: ref, Description: "golden AReq SDK"}))
	}
	n.psp = clientFor(t, pki.RoleThreeDSServer, "psp")
	n.bank = clientFor(t, pki.RoleACS, "bank")
	return n
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// send posts m (a message or raw JSON bytes) to the DS and parses the answer.
func (n *network) send(tb testing.TB, c *http.Client, m any) emv.Message {
	tb.Helper()
	var body []byte
	switch m := m.(type) {
	case []byte:
		body = m
	case emv.Message:
		var err error
		if body, err = emv.Marshal(m); err != nil {
			tb.Fatal(err)
		}
	}
	resp, err := c.Post(n.ds.URL+"/3ds", "application/json", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("DS answered HTTP %d: %s", resp.StatusCode, data)
	}
	// An Erro about a message the DS could not read cannot carry its ids, so it is read as plain
	// JSON; every other answer must be a valid message.
	var probe struct{ MessageType string }
	json.Unmarshal(data, &probe)
	if probe.MessageType == emv.TypeErro {
		var e emv.Erro
		must(tb, json.Unmarshal(data, &e))
		return &e
	}
	out, err := emv.Parse(data, nil)
	if err != nil {
		tb.Fatalf("DS answer does not parse: %v\n%s", err, data)
	}
	return out
}

// sample reads a golden message of package emv.
func sample(tb testing.TB, version, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("..", "emv", "testdata", "valid", version, name))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// areq is the golden 2.2.0 browser AReq with a fresh transaction id, the PAN given and the
// psp peer as its threeDSServerURL.
// pspRef is the reference number the scheme registered for the test network's 3DS Server "psp", as
// its golden 2.2.0 AReq carries it.
const pspRef = "3DS_LOA_SER_OPNS_020200_00001"

func (n *network) areq(tb testing.TB, pan string) *emv.AReq {
	tb.Helper()
	m, err := emv.ParseAs(sample(tb, "2.2.0", "areq-browser-pa.json"), emv.TypeAReq, nil)
	if err != nil {
		tb.Fatal(err)
	}
	a := m.(*emv.AReq)
	a.ThreeDSServerTransID, a.AcctNumber, a.ThreeDSServerURL = newID(), pan, n.tdss.srv.URL+"/rreq"
	return a
}

func wantErro(tb testing.TB, m emv.Message, code, detail string) *emv.Erro {
	tb.Helper()
	e, ok := m.(*emv.Erro)
	if !ok {
		tb.Fatalf("got %s, want Erro %s", m.Type(), code)
	}
	if e.ErrorCode != code || e.ErrorComponent != "D" || (detail != "" && e.ErrorDetail != detail) {
		tb.Fatalf("got Erro %s/%s %q, want %s/D %q", e.ErrorCode, e.ErrorComponent, e.ErrorDetail, code, detail)
	}
	return e
}

var idCounter struct {
	sync.Mutex
	n int
}

func newID() string {
	idCounter.Lock()
	defer idCounter.Unlock()
	idCounter.n++
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", idCounter.n)
}

var ECIMastercardForTest = ds.ECIMastercard

func dsThreeDSServer(name string, requestors ...string) ds.ThreeDSServer {
	return ds.ThreeDSServer{Name: name, ReferenceNumber: "REF-" + name, RequestorIDs: requestors}
}

func tlsPair(certPEM, keyPEM []byte) (tls.Certificate, error) {
	return tls.X509KeyPair(certPEM, keyPEM)
}

// metric reads one counter of the DS's registry by name and labels; 0 when absent.
func (n *network) metric(tb testing.TB, name string, labels map[string]string) float64 {
	tb.Helper()
	families, err := n.reg.Gather()
	must(tb, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue next
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}
