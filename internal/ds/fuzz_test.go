package ds_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/ds"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/store/storetest"
)

// asCaller makes r look as if it came over mutual TLS with cert: the DS reads only the verified chain.
func asCaller(tb testing.TB, r *http.Request, cert tls.Certificate) {
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		tb.Fatal(err)
	}
	r.TLS = &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{leaf}}}
}

// FuzzServe feeds arbitrary bodies to the protocol endpoint, as a 3DS Server or as an ACS (the first
// byte chooses). Whatever comes in, the answer is HTTP 200 with one JSON message, never a panic.
func FuzzServe(f *testing.F) {
	for _, name := range []string{"areq-browser-pa.json", "preq-full.json", "preq-serial.json", "rreq.json", "erro.json"} {
		f.Add(append([]byte{0}, sample(f, "2.2.0", name)...))
		f.Add(append([]byte{1}, sample(f, "2.2.0", name)...))
	}
	f.Add([]byte("\x00{"))
	f.Add([]byte("\x01"))
	// A CA of its own, not pki.Init's: fuzz workers run instrumented, where making Init's RSA keys
	// takes long enough to starve them. The ACS's URL refuses connections, so AReqs end in stand-ins.
	ca, err := pki.NewCA("fuzz")
	must(f, err)
	issue := func(role pki.Role, name string) tls.Certificate {
		certPEM, keyPEM, err := ca.Issue(pki.IssueRequest{Role: role, Name: name})
		must(f, err)
		c, err := tls.X509KeyPair(certPEM, keyPEM)
		must(f, err)
		return c
	}
	db := storetest.OpenSQLite(f)
	st := ds.NewSQLStore(db)
	must(f, st.AddACS(context.Background(), ds.ACS{Name: "bank", ReferenceNumber: "R", URL: "https://127.0.0.1:1/"}))
	must(f, st.AddThreeDSServer(context.Background(), dsThreeDSServer("psp", "10075020*SHOPDEMO")))
	must(f, st.AddRange(context.Background(), testRange("4000000000000000", "4000000000009999", "bank")))
	h := ds.NewServer(ds.Config{Store: st, Recorder: db, Client: http.DefaultClient, URL: "https://ds.example/",
		Timeout: 200 * time.Millisecond}).Handler()
	callers := []tls.Certificate{issue(pki.RoleThreeDSServer, "psp"), issue(pki.RoleACS, "bank")}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(data[1:]))
		asCaller(t, r, callers[int(data[0])%2])
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code == http.StatusOK && w.Body.Len() == 0 {
			// Only an Erro, which wants no answer, may go unanswered.
			if m, err := emv.Parse(data[1:], nil); err != nil || m.Type() != emv.TypeErro {
				t.Fatalf("no answer to a message that is not an Erro")
			}
			return
		}
		var msg struct{ MessageType string }
		if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &msg) != nil || msg.MessageType == "" {
			t.Fatalf("answer %d %s", w.Code, w.Body.Bytes())
		}
	})
}
