package pki_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io/fs"
	"math/big"
	"net"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/pki"
)

// certWithURIs makes a self-signed certificate whose only names are uris, to feed Identify shapes of
// certificate that Issue never makes.
func certWithURIs(t *testing.T, uris ...string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	for _, s := range uris {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = append(tmpl.URIs, u)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestIdentifyReadsTheIdentityURIsAndNothingElse(t *testing.T) {
	tests := []struct {
		name string
		uris []string
		want pki.Identity // zero: Identify must fail
	}{
		{"a role URI names the component", []string{"urn:open3ds:acs:bank-a"}, pki.Identity{Role: pki.RoleACS, Name: "bank-a"}},
		{"an operator URI adds the operator id", []string{"urn:open3ds:operator:OP.7", "urn:open3ds:3dss:psp_1"},
			pki.Identity{Role: pki.RoleThreeDSServer, Name: "psp_1", OperatorID: "OP.7"}},
		{"URIs of other namespaces are ignored", []string{"https://ds.example/", "urn:other:acs:x", "urn:open3ds:ds:ds"}, pki.Identity{Role: pki.RoleDS, Name: "ds"}},
		{"a certificate without a role URI has no identity", []string{"urn:open3ds:operator:OP1"}, pki.Identity{}},
		{"a certificate without any URI has no identity", nil, pki.Identity{}},
		{"two role URIs are refused rather than one picked", []string{"urn:open3ds:acs:a", "urn:open3ds:ds:b"}, pki.Identity{}},
		{"two operator URIs are refused", []string{"urn:open3ds:acs:a", "urn:open3ds:operator:X", "urn:open3ds:operator:Y"}, pki.Identity{}},
		{"an unknown role is refused", []string{"urn:open3ds:admin:root"}, pki.Identity{}},
		{"a role in another case is refused", []string{"urn:open3ds:ACS:a"}, pki.Identity{}},
		{"the namespace in another case is refused, not ignored", []string{"urn:open3ds:acs:a", "urn:Open3DS:ds:b"}, pki.Identity{}},
		{"a URI with no name is refused", []string{"urn:open3ds:acs"}, pki.Identity{}},
		{"a name with a colon is refused", []string{"urn:open3ds:acs:a:b"}, pki.Identity{}},
		{"a name with an escaped character is refused", []string{"urn:open3ds:acs:a%2Fb"}, pki.Identity{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pki.Identify(certWithURIs(t, tt.uris...))
			if tt.want == (pki.Identity{}) {
				if !errors.Is(err, pki.ErrNoIdentity) {
					t.Errorf("Identify = %+v, %v; want ErrNoIdentity", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Identify = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestIdentifyRequestTrustsOnlyAVerifiedChain(t *testing.T) {
	cert := certWithURIs(t, "urn:open3ds:acs:bank-a")
	plain := httptest.NewRequest("POST", "http://acs.example/areq", nil)
	presented := httptest.NewRequest("POST", "https://acs.example/areq", nil)
	presented.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}
	verified := httptest.NewRequest("POST", "https://acs.example/areq", nil)
	verified.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}, VerifiedChains: [][]*x509.Certificate{{cert}}}

	if id, err := pki.IdentifyRequest(plain); !errors.Is(err, pki.ErrNoIdentity) {
		t.Errorf("a plain HTTP request: %+v, %v; want ErrNoIdentity", id, err)
	}
	if id, err := pki.IdentifyRequest(presented); !errors.Is(err, pki.ErrNoIdentity) {
		t.Errorf("a certificate presented but not verified: %+v, %v; want ErrNoIdentity", id, err)
	}
	if id, err := pki.IdentifyRequest(verified); err != nil || id != (pki.Identity{Role: pki.RoleACS, Name: "bank-a"}) {
		t.Errorf("a verified chain: %+v, %v; want acs:bank-a", id, err)
	}
}

func TestIssueWritesACertificateThatNamesItsComponent(t *testing.T) {
	ca, err := pki.LoadCA(demo.dir)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.Issue(pki.IssueRequest{
		Role: pki.RoleACS, Name: "bank-b", OperatorID: "ACSOP0002",
		DNSNames: []string{"acs.bank-b.example"}, IPAddresses: []net.IP{net.ParseIP("10.0.0.7")},
		Validity: 30 * 24 * time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	files := pki.Paths(t.TempDir()).Component(pki.RoleACS, "bank-b")
	if _, err := pki.WriteIssued(files, certPEM, keyPEM, false); err != nil {
		t.Fatal(err)
	}
	opensslVerify(t, demo.layout.CA.Cert, files.Cert, "-purpose", "sslserver")
	opensslVerify(t, demo.layout.CA.Cert, files.Cert, "-purpose", "sslclient")

	leaf := keyPair(t, files).Leaf
	if id, err := pki.Identify(leaf); err != nil || id != (pki.Identity{Role: pki.RoleACS, Name: "bank-b", OperatorID: "ACSOP0002"}) {
		t.Errorf("Identify = %+v, %v", id, err)
	}
	if err := leaf.VerifyHostname("acs.bank-b.example"); err != nil {
		t.Error(err)
	}
	if err := leaf.VerifyHostname("10.0.0.7"); err != nil {
		t.Error(err)
	}
	if d := leaf.NotAfter.Sub(leaf.NotBefore); d < 30*24*time.Hour || d > 30*24*time.Hour+time.Hour {
		t.Errorf("the certificate lasts %s, want the 30 days asked for", d)
	}
	if _, err := pki.WriteIssued(files, certPEM, keyPEM, false); !errors.Is(err, fs.ErrExist) {
		t.Errorf("writing over the files without replace: %v, want fs.ErrExist", err)
	}
}

func TestIssueRefusesABadRequest(t *testing.T) {
	ca, err := pki.NewCA("Test Scheme")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		req  pki.IssueRequest
	}{
		{"an unknown role", pki.IssueRequest{Role: "merchant", Name: "m"}},
		{"an empty name", pki.IssueRequest{Role: pki.RoleACS}},
		{"a name with a space", pki.IssueRequest{Role: pki.RoleACS, Name: "bank a"}},
		{"a name longer than 64 characters", pki.IssueRequest{Role: pki.RoleACS, Name: strings.Repeat("a", 65)}},
		{"an operator id longer than 32 characters", pki.IssueRequest{Role: pki.RoleACS, Name: "a", OperatorID: "123456789012345678901234567890123"}},
		{"a DNS name with an underscore", pki.IssueRequest{Role: pki.RoleACS, Name: "a", DNSNames: []string{"acs_1.example"}}},
		{"a DNS name with an empty label", pki.IssueRequest{Role: pki.RoleACS, Name: "a", DNSNames: []string{"acs..example"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := ca.Issue(tt.req); !errors.Is(err, pki.ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
		})
	}
}
