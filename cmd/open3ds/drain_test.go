package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/ds"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/store"
)

// slowACS stands between the DS and the real ACS as a slow network would: it takes the DS's AReq
// over mutual TLS as the ACS does (under the ACS's certificate), passes it on to the ACS under the
// DS's certificate, and holds the ACS's answer until released.
type slowACS struct {
	url     string
	target  string        // the real ACS's protocol address
	holding chan struct{} // an answer is being held
	release chan struct{}
}

func startSlowACS(t *testing.T, l pki.Layout) *slowACS {
	t.Helper()
	acsCert, err := pki.LoadKeyPair(l.ACS.Cert, l.ACS.Key)
	if err != nil {
		t.Fatal(err)
	}
	dsCert, err := pki.LoadKeyPair(l.DS.Cert, l.DS.Key)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pki.LoadPool(l.CA.Cert)
	if err != nil {
		t.Fatal(err)
	}
	s := &slowACS{holding: make(chan struct{}, 1), release: make(chan struct{})}
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: pki.ClientConfig(&dsCert, pool, "")}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		resp, err := client.Post("https://"+s.target+r.URL.Path, r.Header.Get("Content-Type"), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		s.holding <- struct{}{}
		<-s.release
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		w.Write(answer)
	}))
	srv.TLS = pki.ServerConfig(acsCert, pool, true)
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
	s.url = srv.URL + "/areq"
	return s
}

// readyz asks an admin listener for /readyz and returns its status and the draining check's word.
func readyz(admin string) (int, string, error) {
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + admin + "/readyz")
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var ans httpx.HealthAnswer
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		return 0, "", err
	}
	return resp.StatusCode, ans.Checks["draining"], nil
}

func connectionRefused(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return true
	}
	c.Close()
	return false
}

// A DS told to stop (SIGTERM) while an AReq waits on a slow ACS: readiness fails at once, the
// listeners close after the drain delay, and yet the AReq in flight is answered with the ACS's own
// answer and its transaction is in the store when the process has ended.
func TestADSStoppedMidExchangeDrainsItFailingReadinessAndRefusingNewConnections(t *testing.T) {
	for _, st := range netStores {
		t.Run(st.name, func(t *testing.T) {
			dsDSN, acsDSN := st.dsns(t)
			var slow *slowACS
			n := netStartNetwork(t, dsDSN, acsDSN, netOptions{
				acsVia: func(l pki.Layout, acsProtocol string) string {
					slow = startSlowACS(t, l)
					slow.target = acsProtocol
					return slow.url
				},
				dsArgs: []string{"--drain-delay", "2s", "--shutdown-grace", "30s"},
			})
			if status, word, err := readyz(n.ds.admin); err != nil || status != http.StatusOK || word != "ok" {
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

			n.ds.signal() // SIGTERM, mid-exchange
			netWaitUntil(t, 2*time.Second, "/readyz answering 503 with the draining check failed during the drain delay", func() bool {
				status, word, err := readyz(n.ds.admin)
				return err == nil && status == http.StatusServiceUnavailable && strings.HasPrefix(word, "failed: shutting down")
			})
			netWaitUntil(t, 10*time.Second, "the DS refusing new connections after the drain delay", func() bool {
				return connectionRefused(n.ds.protocol) && connectionRefused(n.ds.admin)
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
	var slow *slowACS
	n := netStartNetwork(t, dsDSN, acsDSN, netOptions{
		acsVia: func(l pki.Layout, acsProtocol string) string {
			slow = startSlowACS(t, l)
			slow.target = acsProtocol
			return slow.url
		},
		dsArgs: []string{"--drain-delay", "0s", "--shutdown-grace", "1s", "--log-format", "json"},
	})
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
