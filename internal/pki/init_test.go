package pki_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/pki"
)

func TestOpenSSLVerifiesEveryCertificateInitWrites(t *testing.T) {
	if got, want := len(demo.result.Files), 7; got != want {
		t.Fatalf("Init reported %d certificates, want %d", got, want)
	}
	for _, w := range demo.result.Files {
		opensslVerify(t, demo.layout.CA.Cert, w.Files.Cert)
	}
	// The TLS certificates must also pass openssl's checks for both ends of a connection.
	for _, role := range pki.Roles {
		cert := demo.layout.TLS(role).Cert
		opensslVerify(t, demo.layout.CA.Cert, cert, "-purpose", "sslserver")
		opensslVerify(t, demo.layout.CA.Cert, cert, "-purpose", "sslclient")
	}
}

func TestInitGivesKeysToTheOwnerAlone(t *testing.T) {
	info, err := os.Stat(demo.dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o700 {
		t.Errorf("directory mode = %o, want 700", got)
	}
	for _, w := range demo.result.Files {
		for file, want := range map[string]fs.FileMode{w.Files.Key: 0o600, w.Files.Cert: 0o644} {
			info, err := os.Stat(file)
			if err != nil {
				t.Fatal(err)
			}
			if got := info.Mode().Perm(); got != want {
				t.Errorf("%s mode = %o, want %o", file, got, want)
			}
		}
	}
}

func TestInitIssuesEachCertificateForItsPurpose(t *testing.T) {
	l := demo.layout
	ca := readCert(t, l.CA.Cert)
	tests := []struct {
		name  string
		file  string
		check func(t *testing.T, c *x509.Certificate)
	}{
		{"the root is a P-256 CA for ten years that signs no other CA", l.CA.Cert, func(t *testing.T, c *x509.Certificate) {
			wantEC(t, c, elliptic.P256())
			if !c.IsCA || c.MaxPathLen != 0 || !c.MaxPathLenZero || c.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
				t.Errorf("IsCA %v, MaxPathLen %d (zero %v), KeyUsage %v", c.IsCA, c.MaxPathLen, c.MaxPathLenZero, c.KeyUsage)
			}
			if years := c.NotAfter.Sub(c.NotBefore).Hours() / 24 / 365; years < 9.99 || years > 10.02 {
				t.Errorf("the root lasts %.2f years, want 10", years)
			}
			if c.Subject.CommonName != pki.DefaultSchemeName+" Root CA" {
				t.Errorf("subject = %q, want the scheme's name", c.Subject)
			}
		}},
		{"the DS certificate carries the DS ID as its operator", l.DS.Cert, func(t *testing.T, c *x509.Certificate) {
			wantTLS(t, c, pki.Identity{Role: pki.RoleDS, Name: "ds", OperatorID: pki.DefaultDSID})
		}},
		{"the ACS certificate is one certificate for server and client", l.ACS.Cert, func(t *testing.T, c *x509.Certificate) {
			wantTLS(t, c, pki.Identity{Role: pki.RoleACS, Name: "acs"})
		}},
		{"the 3DS Server certificate is one certificate for server and client", l.ThreeDSServer.Cert, func(t *testing.T, c *x509.Certificate) {
			wantTLS(t, c, pki.Identity{Role: pki.RoleThreeDSServer, Name: "3dss"})
		}},
		{"the content-signing certificate is RSA 2048 for digital signatures only", l.ACSSigning.Cert, func(t *testing.T, c *x509.Certificate) {
			wantRSA2048(t, c)
			wantNotTLS(t, c, x509.KeyUsageDigitalSignature)
		}},
		{"the DS RSA encryption certificate is RSA 2048 for key encipherment", l.DSEncryptionRSA.Cert, func(t *testing.T, c *x509.Certificate) {
			wantRSA2048(t, c)
			wantNotTLS(t, c, x509.KeyUsageKeyEncipherment)
		}},
		{"the DS EC encryption certificate is P-256 for key agreement", l.DSEncryptionEC.Cert, func(t *testing.T, c *x509.Certificate) {
			wantEC(t, c, elliptic.P256())
			wantNotTLS(t, c, x509.KeyUsageKeyAgreement)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := readCert(t, tt.file)
			if c.NotAfter.After(ca.NotAfter) {
				t.Errorf("expires %s, after the CA (%s)", c.NotAfter, ca.NotAfter)
			}
			tt.check(t, c)
		})
	}
}

func wantEC(t *testing.T, c *x509.Certificate, curve elliptic.Curve) {
	t.Helper()
	if k, ok := c.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != curve {
		t.Errorf("public key is %T, want ECDSA on %s", c.PublicKey, curve.Params().Name)
	}
}

func wantRSA2048(t *testing.T, c *x509.Certificate) {
	t.Helper()
	if k, ok := c.PublicKey.(*rsa.PublicKey); !ok || k.N.BitLen() != 2048 {
		t.Errorf("public key is %T, want RSA 2048", c.PublicKey)
	}
}

func wantTLS(t *testing.T, c *x509.Certificate, want pki.Identity) {
	t.Helper()
	wantEC(t, c, elliptic.P256())
	id, err := pki.Identify(c)
	if err != nil || id != want {
		t.Errorf("Identify = %+v, %v; want %+v", id, err, want)
	}
	if !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}) {
		t.Errorf("ExtKeyUsage = %v, want serverAuth and clientAuth", c.ExtKeyUsage)
	}
	if c.KeyUsage != x509.KeyUsageDigitalSignature || c.IsCA {
		t.Errorf("KeyUsage %v, IsCA %v; want digitalSignature only", c.KeyUsage, c.IsCA)
	}
	wantIPs := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}
	if !slices.Equal(c.DNSNames, []string{"localhost"}) || !slices.EqualFunc(c.IPAddresses, wantIPs, net.IP.Equal) {
		t.Errorf("names = %v %v, want localhost 127.0.0.1 ::1", c.DNSNames, c.IPAddresses)
	}
}

// wantNotTLS checks that a certificate is good for usage only and cannot pass for a component: no
// extended key usage, no host names, no identity.
func wantNotTLS(t *testing.T, c *x509.Certificate, usage x509.KeyUsage) {
	t.Helper()
	if c.KeyUsage != usage || c.IsCA {
		t.Errorf("KeyUsage %v, IsCA %v; want %v only", c.KeyUsage, c.IsCA, usage)
	}
	if len(c.ExtKeyUsage) > 0 || len(c.DNSNames) > 0 || len(c.IPAddresses) > 0 || len(c.URIs) > 0 {
		t.Errorf("EKU %v, names %v %v %v; want none", c.ExtKeyUsage, c.DNSNames, c.IPAddresses, c.URIs)
	}
}

func TestInitRefusesAnExistingPKIAndTouchesNothing(t *testing.T) {
	dir := copyDir(t, demo.dir)
	before := snapshot(t, dir)
	_, err := pki.Init(dir, pki.InitOptions{SchemeName: "Another Scheme"})
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Init over an existing PKI: err = %v, want fs.ErrExist", err)
	}
	if after := snapshot(t, dir); !maps.Equal(before, after) {
		t.Errorf("the directory changed:\nbefore %v\nafter  %v", before, after)
	}
}

func TestInitWithForceReplacesThePKI(t *testing.T) {
	dir := copyDir(t, demo.dir)
	oldCA := readCert(t, pki.Paths(dir).CA.Cert)
	res, err := pki.Init(dir, pki.InitOptions{SchemeName: "Replacement Scheme", Force: true})
	if err != nil {
		t.Fatal(err)
	}
	newCA := readCert(t, res.Layout.CA.Cert)
	if newCA.Equal(oldCA) || newCA.Subject.Organization[0] != "Replacement Scheme" {
		t.Errorf("the CA is still %q", newCA.Subject)
	}
	for _, w := range res.Files {
		opensslVerify(t, res.Layout.CA.Cert, w.Files.Cert)
		if info, err := os.Stat(w.Files.Key); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("replaced key %s: %v, %v; want mode 600", w.Files.Key, info.Mode(), err)
		}
	}
	if _, err := pki.LoadCA(dir); err != nil {
		t.Errorf("LoadCA after the replacement: %v", err)
	}
}

func TestInitRefusesBadOptionsBeforeWritingAnything(t *testing.T) {
	tests := []struct {
		name string
		opts pki.InitOptions
	}{
		{"a DS ID that is not ten hex digits", pki.InitOptions{DSID: "A0000003"}},
		{"a DS ID in lower case", pki.InitOptions{DSID: "a000000003"}},
		{"a host that is neither a DNS name nor an IP address", pki.InitOptions{Hosts: []string{"bad host"}}},
		{"an empty scheme name", pki.InitOptions{SchemeName: "  "}},
		{"a component name with a colon, which would break the identity URI", pki.InitOptions{ACSName: "bank:a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "pki")
			if _, err := pki.Init(dir, tt.opts); !errors.Is(err, pki.ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
			if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Init created %s (stat: %v)", dir, err)
			}
		})
	}
}

// snapshot records every file of dir with a digest of its content, its mode and modification time.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		// A digest rather than the content, so that a failure never prints a private key.
		files[e.Name()] = fmt.Sprintf("%s %s %x", info.Mode(), info.ModTime().Format(time.RFC3339Nano), sha256.Sum256(data))
	}
	return files
}

func TestLoadCARefusesAKeyThatIsNotTheCAs(t *testing.T) {
	dir := copyDir(t, demo.dir)
	l := pki.Paths(dir)
	wrongKey, err := os.ReadFile(l.ACS.Key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(l.CA.Key, wrongKey, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = pki.LoadCA(dir)
	if err == nil {
		t.Fatal("LoadCA accepted the ACS key as the CA's")
	}
	if strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), string(wrongKey[30:60])) {
		t.Errorf("the error quotes the key: %v", err)
	}
}

func TestLoadCARefusesACertificateThatIsNotACA(t *testing.T) {
	dir := copyDir(t, demo.dir)
	l := pki.Paths(dir)
	for _, f := range []struct{ from, to string }{{l.ACS.Cert, l.CA.Cert}, {l.ACS.Key, l.CA.Key}} {
		data, err := os.ReadFile(f.from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f.to, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pki.LoadCA(dir); err == nil || !strings.Contains(err.Error(), "not a CA") {
		t.Errorf("LoadCA of a component's certificate and key: %v, want not a CA", err)
	}
}
