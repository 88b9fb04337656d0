package pki_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/pki"
)

// handshake runs one TLS handshake between server and client over a loopback TCP connection and
// returns what the server saw and each side's error. Under TLS 1.3 a client finishes its handshake
// before the server has checked the client's certificate, so a refusal by the server shows for
// certain only in serverErr.
func handshake(tb testing.TB, server, client *tls.Config) (seen tls.ConnectionState, serverErr, clientErr error) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		state tls.ConnectionState
		err   error
	}
	done := make(chan result, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		s := tls.Server(conn, server)
		err = s.Handshake()
		done <- result{s.ConnectionState(), err}
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	clientErr = tls.Client(conn, client).Handshake()
	r := <-done
	return r.state, r.err, clientErr
}

// peers are the certificates the TLS tests use, loaded once.
type peers struct {
	pool                *x509.CertPool
	ds, acs, signing    tls.Certificate
	otherCA, otherCAsDS tls.Certificate // from a CA of another scheme, with the same names as ours
}

func loadPeers(tb testing.TB) peers {
	tb.Helper()
	pool, err := pki.LoadPool(demo.layout.CA.Cert)
	if err != nil {
		tb.Fatal(err)
	}
	other, err := pki.NewCA("Other Scheme")
	if err != nil {
		tb.Fatal(err)
	}
	otherPair := func(role pki.Role, name string) tls.Certificate {
		certPEM, keyPEM, err := other.Issue(pki.IssueRequest{Role: role, Name: name, DNSNames: []string{"localhost"}})
		if err != nil {
			tb.Fatal(err)
		}
		c, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			tb.Fatal(err)
		}
		return c
	}
	return peers{
		pool:       pool,
		ds:         keyPair(tb, demo.layout.DS),
		acs:        keyPair(tb, demo.layout.ACS),
		signing:    keyPair(tb, demo.layout.ACSSigning),
		otherCA:    otherPair(pki.RoleACS, "acs"),
		otherCAsDS: otherPair(pki.RoleDS, "ds"),
	}
}

func TestMutualTLSRefusesEveryPeerItShould(t *testing.T) {
	p := loadPeers(t)
	acsServer := pki.ServerConfig(p.acs, p.pool, true)
	dsClient := func(edit func(*tls.Config)) *tls.Config {
		c := pki.ClientConfig(&p.ds, p.pool, "localhost")
		if edit != nil {
			edit(c)
		}
		return c
	}
	tests := []struct {
		name      string
		server    *tls.Config
		client    *tls.Config
		refusedBy string // "server", "client", or "" when the handshake must succeed
		because   string // part of the refusing side's error
		version   uint16 // the version a successful handshake must negotiate
	}{
		{"a component of the scheme is accepted, over TLS 1.3", acsServer, dsClient(nil), "", "", tls.VersionTLS13},
		{"a TLS 1.2 client offering an AEAD suite is accepted", acsServer, dsClient(func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 }), "", "", tls.VersionTLS12},
		// Go's client keeps back a certificate whose issuer the server did not ask for, so this one
		// insists, as an intruder would, to reach the server's verification.
		{"a client certificate from another scheme's CA is refused", acsServer, dsClient(func(c *tls.Config) {
			c.Certificates = nil
			c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &p.otherCAsDS, nil }
		}), "server", "certificate signed by unknown authority", 0},
		{"a client with no certificate is refused", acsServer, pki.ClientConfig(nil, p.pool, "localhost"), "server", "didn't provide a certificate", 0},
		{"the content-signing certificate is refused as a client certificate", acsServer, pki.ClientConfig(&p.signing, p.pool, "localhost"),
			"server", "extended key usage clientAuth", 0},
		{"a client that speaks at most TLS 1.1 is refused", acsServer, dsClient(func(c *tls.Config) { c.MinVersion, c.MaxVersion = tls.VersionTLS10, tls.VersionTLS11 }),
			"server", "unsupported versions", 0},
		{"a TLS 1.2 client offering only CBC suites is refused", acsServer, dsClient(func(c *tls.Config) {
			c.MaxVersion = tls.VersionTLS12
			c.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA}
		}), "server", "no cipher suite", 0},
		{"a server requiring client certificates without a pool refuses every client", pki.ServerConfig(p.acs, nil, true), dsClient(nil),
			"server", "certificate signed by unknown authority", 0},
		{"a server certificate that does not name the host asked for is refused", acsServer, pki.ClientConfig(&p.ds, p.pool, "acs.example"),
			"client", "not acs.example", 0},
		{"a server certificate from another scheme's CA is refused", pki.ServerConfig(p.otherCA, p.pool, true), dsClient(nil),
			"client", "certificate signed by unknown authority", 0},
		{"a client without a root pool trusts no server", acsServer, pki.ClientConfig(&p.ds, nil, "localhost"),
			"client", "certificate signed by unknown authority", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen, serverErr, clientErr := handshake(t, tt.server, tt.client)
			switch tt.refusedBy {
			case "":
				if serverErr != nil || clientErr != nil {
					t.Fatalf("server: %v; client: %v; want success", serverErr, clientErr)
				}
				if seen.Version != tt.version {
					t.Errorf("negotiated %s, want %s", tls.VersionName(seen.Version), tls.VersionName(tt.version))
				}
			case "server":
				if serverErr == nil || !strings.Contains(serverErr.Error(), tt.because) {
					t.Errorf("server: %v; want an error containing %q", serverErr, tt.because)
				}
			case "client":
				if clientErr == nil || !strings.Contains(clientErr.Error(), tt.because) {
					t.Errorf("client: %v; want an error containing %q", clientErr, tt.because)
				}
			}
		})
	}
}

func TestMutualTLSRoundTripIdentifiesTheCaller(t *testing.T) {
	p := loadPeers(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pki.IdentifyRequest(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		fmt.Fprintf(w, "%s/%s/%s", id.Role, id.Name, id.OperatorID)
	}))
	srv.TLS = pki.ServerConfig(p.ds, p.pool, true)
	srv.StartTLS()
	defer srv.Close()

	tests := []struct {
		name       string
		client     pki.FilePair
		serverName string
		want       string
	}{
		{"the ACS calling the DS is identified as the ACS", demo.layout.ACS, "", "acs/acs/"},
		{"the 3DS Server calling the DS is identified as the 3DS Server", demo.layout.ThreeDSServer, "", "3dss/3dss/"},
		{"the DS's certificate also works as a client and carries the DS ID", demo.layout.DS, "", "ds/ds/" + pki.DefaultDSID},
		{"a client that names the server localhost verifies it by that name", demo.layout.ACS, "localhost", "acs/acs/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert := keyPair(t, tt.client)
			tr := &http.Transport{TLSClientConfig: pki.ClientConfig(&cert, p.pool, tt.serverName)}
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get(srv.URL) // https://127.0.0.1:port
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || string(body) != tt.want {
				t.Errorf("%s %q, want 200 %q", resp.Status, body, tt.want)
			}
		})
	}
}

// BenchmarkMutualTLSHandshake measures one full handshake, both ends, with ECDSA P-256 certificates
// on both sides and chain verification on both sides, over loopback TCP. Each client is new and has
// no session cache, so nothing is resumed.
func BenchmarkMutualTLSHandshake(b *testing.B) {
	p := loadPeers(b)
	server := pki.ServerConfig(p.acs, p.pool, true)
	for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		b.Run(tls.VersionName(v), func(b *testing.B) {
			client := pki.ClientConfig(&p.ds, p.pool, "localhost")
			client.MaxVersion = v
			for b.Loop() {
				if _, serverErr, clientErr := handshake(b, server, client); serverErr != nil || clientErr != nil {
					b.Fatal(serverErr, clientErr)
				}
			}
		})
	}
}
