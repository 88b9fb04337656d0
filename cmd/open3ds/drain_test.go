package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/ds"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/httpx/httpxtest"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/store/storetest"
	"github.com/open3ds/open3ds/internal/threedsserver"
)

// slowPeer stands between a role and its peer as a slow network would: it takes the role's request
// over mutual TLS as the peer does (under the peer's certificate), passes it on to the peer under the
// role's certificate, and holds the peer's answer to each request that hold picks until released.
type slowPeer struct {
	url     string
	target  string        // the real peer's address
	holding chan struct{} // an answer is being held
	release chan struct{}
}

func startSlowPeer(t *testing.T, l pki.Layout, as, from pki.FilePair, hold func(body []byte) bool) *slowPeer {
	t.Helper()
	serverCert, err := pki.LoadKeyPair(as.Cert, as.Key)
	if err != nil {
		t.Fatal(err)
	}
	clientCert, err := pki.LoadKeyPair(from.Cert, from.Key)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pki.LoadPool(l.CA.Cert)
	if err != nil {
		t.Fatal(err)
	}
	s := &slowPeer{holding: make(chan struct{}, 1), release: make(chan struct{})}
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: pki.ClientConfig(&clientCert, pool, "")}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		resp, err := client.Post("https://"+s.target+r.URL.Path, r.Header.Get("Content-Type"), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if hold(body) {
			s.holding <- struct{}{}
			<-s.release
		}
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		w.Write(answer)
	}))
	srv.TLS = pki.ServerConfig(serverCert, pool, true)
	srv.StartTLS()
	t.Cleanup(func() {
		select {
		case <-s.release:
		default:
			close(s.release)
		}
		srv.Close()
		client.CloseIdleConnections()
	})
	s.url = srv.URL
	return s
}

// slowACSFor is the netOptions of a network whose DS reaches the ACS through a slow peer.
func slowACSFor(t *testing.T, slow **slowPeer, dsArgs ...string) netOptions {
	return netOptions{
		acsVia: func(l pki.Layout, acsProtocol string) string {
			*slow = startSlowPeer(t, l, l.ACS, l.DS, func([]byte) bool { return true })
			(*slow).target = acsProtocol
			return (*slow).url + "/areq"
		},
		dsArgs: dsArgs,
	}
}

// A DS told to stop (SIGTERM) while an AReq waits on a slow ACS: readiness fails at once, the
// listeners close after the drain delay, and yet the AReq in flight is answered with the ACS's own
// answer and its transaction is in the store when the process has ended.
func TestADSStoppedMidExchangeDrainsItFailingReadinessAndRefusingNewConnections(t *testing.T) {
	for _, st := range netStores {
		t.Run(st.name, func(t *testing.T) {
			dsDSN, acsDSN := st.dsns(t)
			var slow *slowPeer
			n := netStartNetwork(t, dsDSN, acsDSN, slowACSFor(t, &slow, "--drain-delay", "2s", "--shutdown-grace", "30s"))
			if status, word, err := httpxtest.Readiness(n.ds.admin); err != nil || status != http.StatusOK || word != "ok" {
				t.Fatalf("before the drain /readyz = %d, draining %q, %v; want 200, ok", status, word, err)
			}

			body := n.netAReq(emv.Version220, netPANEnrolled, "1500", nil)
			type answer struct {
				out []byte
				err error
			}
			answered := make(chan answer, 1)
			go func() {
				resp, err := n.client.Post("https://"+n.ds.protocol+"/", httpx.ProtocolContentType, bytes.NewReader(body))
				if err != nil {
					answered <- answer{err: err}
					return
				}
				out, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				answered <- answer{out, err}
			}()
			select {
			case <-slow.holding:
			case <-time.After(20 * time.Second):
				t.Fatalf("the AReq never reached the ACS\n%s", n.ds.logs)
			}

			if st.name == "postgres" {
				// An operator tells the roles' connections apart in pg_stat_activity by name.
				for _, app := range []string{"open3ds-ds", "open3ds-ds-read", "open3ds-acs", "open3ds-acs-read"} {
					if pgConnections(t, app) == 0 {
						t.Errorf("no connection named %s in pg_stat_activity while the roles run", app)
					}
				}
			}
			n.ds.signal() // SIGTERM, mid-exchange
			netWaitUntil(t, 2*time.Second, "/readyz answering 503 with the draining check failed during the drain delay", func() bool {
				status, word, err := httpxtest.Readiness(n.ds.admin)
				return err == nil && status == http.StatusServiceUnavailable && strings.HasPrefix(word, "failed: shutting down")
			})
			netWaitUntil(t, 10*time.Second, "the DS refusing new connections after the drain delay", func() bool {
				return httpxtest.Refused(n.ds.protocol) && httpxtest.Refused(n.ds.admin)
			})
			select {
			case a := <-answered:
				t.Fatalf("the AReq in flight ended before the ACS answered: %v %s", a.err, a.out)
			default:
			}

			close(slow.release)
			var a answer
			select {
			case a = <-answered:
			case <-time.After(20 * time.Second):
				t.Fatal("the AReq in flight was never answered")
			}
			if a.err != nil {
				t.Fatalf("the AReq in flight failed: %v", a.err)
			}
			m, err := emv.ParseAs(a.out, emv.TypeARes, nil)
			if err != nil {
				t.Fatalf("the AReq in flight got no ARes: %v\n%s", err, a.out)
			}
			ares := m.(*emv.ARes)
			if ares.TransStatus != "Y" || ares.ACSReferenceNumber != netACSRef {
				t.Fatalf("the ARes is %s from %s; want the ACS's own Y", ares.TransStatus, ares.ACSReferenceNumber)
			}
			n.ds.stop() // waits for the process to end, and fails the test on an error
			if logs := n.ds.logs.String(); strings.Contains(logs, "unfinished") {
				t.Errorf("the DS logged work as cut off in a drain that had time:\n%s", logs)
			}

			// The transaction is in the store the process closed.
			db, err := store.Open(context.Background(), dsDSN, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			tx, err := ds.NewSQLStore(db).Transaction(context.Background(), ares.DSTransID)
			if err != nil {
				t.Fatalf("the drained exchange's transaction is not in the store: %v", err)
			}
			if tx.ACS != "acs" || tx.Outcome != "Y" {
				t.Fatalf("the store holds %+v; want the ACS's Y", tx)
			}
		})
	}
}

// A DS whose grace runs out while an AReq still waits on the ACS does not hang: it stops, and says
// what it cut off by kind and count, with no card data in the line.
func TestADSWhoseGraceRunsOutStopsAndLogsTheExchangeItCutOff(t *testing.T) {
	dsDSN, acsDSN := netStores[0].dsns(t)
	var slow *slowPeer
	n := netStartNetwork(t, dsDSN, acsDSN, slowACSFor(t, &slow, "--drain-delay", "0s", "--shutdown-grace", "1s", "--log-format", "json"))
	body := n.netAReq(emv.Version220, netPANEnrolled, "1500", nil)
	go func() {
		resp, err := n.client.Post("https://"+n.ds.protocol+"/", httpx.ProtocolContentType, bytes.NewReader(body))
		if err == nil {
			resp.Body.Close()
		}
	}()
	select {
	case <-slow.holding:
	case <-time.After(20 * time.Second):
		t.Fatalf("the AReq never reached the ACS\n%s", n.ds.logs)
	}
	began := time.Now()
	n.ds.stop() // the ACS's answer is never let through
	if took := time.Since(began); took > 8*time.Second {
		t.Errorf("the DS took %v to stop with a grace of 1 s", took)
	}
	var cut struct {
		Unfinished map[string]int `json:"unfinished"`
	}
	for _, line := range strings.Split(n.ds.logs.String(), "\n") {
		if strings.Contains(line, `"unfinished"`) {
			if err := json.Unmarshal([]byte(line), &cut); err != nil {
				t.Fatalf("%v: %s", err, line)
			}
			if strings.Contains(line, netPANEnrolled[6:12]) {
				t.Errorf("the cut-off line holds card digits: %s", line)
			}
		}
	}
	if cut.Unfinished["DS exchange"] != 1 {
		t.Fatalf("the log does not count the exchange cut off: %+v\n%s", cut, n.ds.logs)
	}
}

// A 3DS Server told to stop while a merchant's authentication waits on a slow DS: readiness fails
// at once, its listeners close after the drain delay, and the merchant still gets the outcome, which
// is in the store (not left "sending") once the process has ended.
func TestA3DSServerStoppedMidAReqDrainsItAndStoresTheOutcome(t *testing.T) {
	for _, b := range dsStores {
		t.Run(b.name, func(t *testing.T) {
			layout, dsProtocol, dsAdmin := startDS(t, b.dsn(t))
			for _, call := range [][2]string{
				{"/v1/acs", `{"name":"acs","referenceNumber":"ACS-REF","url":"https://127.0.0.1:1/areq"}`},
				{"/v1/3dss", `{"name":"3dss","referenceNumber":"REF","requestorIds":["R1"]}`},
				{"/v1/ranges", `{"start":"4000000000000000","end":"4000000000009999","acs":"acs",
					"acsStartProtocolVersion":"2.1.0","acsEndProtocolVersion":"2.2.0","dsStartProtocolVersion":"2.1.0","dsEndProtocolVersion":"2.3.1"}`},
			} {
				if status, body := adminCall(t, dsAdmin, "admin-token-for-tests", "POST", call[0], call[1]); status != 201 {
					t.Fatalf("DS admin %s: %d %s", call[0], status, body)
				}
			}
			// The DS is slow to answer AReqs only: the card ranges load as usual.
			slow := startSlowPeer(t, layout, layout.DS, layout.ThreeDSServer, func(body []byte) bool { return bytes.Contains(body, []byte(`"AReq"`)) })
			slow.target = dsProtocol
			tdssDSN := b.dsn(t)
			s := start3DSSWith(t, layout, strings.TrimPrefix(slow.url, "https://"), tdssDSN, "--drain-delay", "2s", "--shutdown-grace", "30s")
			status, body := adminCall(t, s.admin, "3dss-admin-token", "POST", "/v1/merchants", `{"id":"shop","name":"Shop","requestorId":"R1",
				"requestorName":"Shop","requestorUrl":"https://shop.example","acquirerBin":"412345","acquirerMerchantId":"M1","mcc":"5732","country":"250"}`)
			var merchant struct{ APIKey string }
			if json.Unmarshal([]byte(body), &merchant); status != 201 {
				t.Fatalf("adding a merchant: %d %s", status, body)
			}
			client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // the test's own CA
			call := func(path, body string) (int, []byte, error) {
				req, _ := http.NewRequest("POST", "https://"+s.api+path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+merchant.APIKey)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					return 0, nil, err
				}
				defer resp.Body.Close()
				out, err := io.ReadAll(resp.Body)
				return resp.StatusCode, out, err
			}
			var started struct {
				ID       string `json:"id"`
				Enrolled bool   `json:"enrolled"`
			}
			netWaitUntil(t, 10*time.Second, "the card range loaded", func() bool {
				code, out, err := call("/v1/authentications", `{"cardNumber":"4000000000001000"}`)
				if err != nil || code != 201 {
					t.Fatalf("start: %d %s %v", code, out, err)
				}
				json.Unmarshal(out, &started)
				return started.Enrolled
			})

			type answer struct {
				code int
				out  []byte
				err  error
			}
			answered := make(chan answer, 1)
			go func() {
				code, out, err := call("/v1/authentications/"+started.ID+"/authenticate", `{"amount":"12999","currency":"978",
					"threeDSCompInd":"N","challengeWindowSize":"03","browser":{"acceptHeader":"text/html","ip":"203.0.113.42",
					"javaEnabled":false,"javascriptEnabled":true,"language":"fr-FR","colorDepth":"24","screenHeight":"1080",
					"screenWidth":"1920","tz":"-60","userAgent":"Mozilla/5.0 test"}}`)
				answered <- answer{code, out, err}
			}()
			select {
			case <-slow.holding:
			case a := <-answered:
				t.Fatalf("the authentication ended before the DS answered: %d %s %v", a.code, a.out, a.err)
			case <-time.After(20 * time.Second):
				t.Fatal("the AReq never reached the DS")
			}

			s.signal() // SIGTERM, mid-exchange
			netWaitUntil(t, 2*time.Second, "/readyz answering 503 with the draining check failed during the drain delay", func() bool {
				status, word, err := httpxtest.Readiness(s.admin)
				return err == nil && status == http.StatusServiceUnavailable && strings.HasPrefix(word, "failed: shutting down")
			})
			netWaitUntil(t, 10*time.Second, "the 3DS Server refusing new connections after the drain delay", func() bool {
				return httpxtest.Refused(s.api) && httpxtest.Refused(s.admin)
			})
			close(slow.release)
			var a answer
			select {
			case a = <-answered:
			case <-time.After(20 * time.Second):
				t.Fatal("the authentication in flight was never answered")
			}
			var res struct {
				State string `json:"state"`
			}
			if a.err != nil || a.code != http.StatusOK || json.Unmarshal(a.out, &res) != nil {
				t.Fatalf("the authentication in flight got %d %s %v; want its outcome", a.code, a.out, a.err)
			}
			if logs := s.wait(); strings.Contains(logs, "unfinished") {
				t.Errorf("the 3DS Server logged work as cut off in a drain that had time:\n%s", logs)
			}

			db, err := store.Open(context.Background(), tdssDSN, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			tx, err := threedsserver.NewSQLStore(db).Transaction(context.Background(), started.ID)
			if err != nil {
				t.Fatalf("the drained authentication is not in the store: %v", err)
			}
			if tx.State == threedsserver.StateSending || tx.State != res.State {
				t.Fatalf("the store holds state %q; the merchant was told %q", tx.State, res.State)
			}
		})
	}
}

// pgConnections counts the test database server's connections named app.
func pgConnections(t *testing.T, app string) int {
	t.Helper()
	db, err := sql.Open("pgx", storetest.SkipWithoutPostgres(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", app).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
