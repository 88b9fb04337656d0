package ds_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/console"
	"github.com/open3ds/open3ds/internal/ds"
)

// certPEM makes a self-signed certificate named cn that ends at notAfter.
func certPEM(t testing.TB, cn string, serial int64, notAfter time.Time) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: notAfter.AddDate(-1, 0, 0), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// The certificates page lists the DS's own certificate, the CA and the sdkEncData certificates,
// the soonest to end first, with days left; one ending within 30 days is flagged for renewal, one
// that has ended says so, and a file that cannot be read is named.
func TestConsoleCertificatesWarnBeforeTheyEnd(t *testing.T) {
	now := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	own, _ := pem.Decode(certPEM(t, "ds.example", 1, now.Add(10*24*time.Hour+time.Hour)))
	ca := write("ca.pem", certPEM(t, "Scheme CA", 2, now.AddDate(5, 0, 0).Add(time.Hour)))
	sdk := write("sdk.crt", certPEM(t, "sdk encryption", 3, now.Add(-time.Hour)))
	r := newConsoleRig(t, backends[0].open(t), now, func(o *ds.ConsoleOptions) {
		o.TLS = &tls.Certificate{Certificate: [][]byte{own.Bytes}}
		o.CertFiles = []ds.CertFile{{Use: "scheme CA", Path: ca}, {Use: "sdkEncData key sdk", Path: sdk},
			{Use: "sdkEncData key gone", Path: filepath.Join(dir, "gone.crt")}}
	})
	o := r.signIn("rita", console.ReadOnly)
	rows := cells(o.Page("/console/certificates"), "certs")
	if len(rows) != 5 {
		t.Fatalf("the certificates page shows %q", rows)
	}
	want := []struct{ use, subject, left string }{
		{"sdkEncData key gone", "unreadable", ""},
		{"sdkEncData key sdk", "CN=sdk encryption", "ended"},
		{"this DS's TLS certificate (as loaded)", "CN=ds.example", "10 renew"},
		{"scheme CA", "CN=Scheme CA", "1826 ok"},
	}
	for i, w := range want {
		row := rows[i+1]
		if row[0] != w.use || !strings.Contains(row[1], w.subject) || (w.left != "" && row[3] != w.left) {
			t.Errorf("row %d is %q, want %+v", i+1, row, w)
		}
	}
	if !strings.Contains(rows[1][1], filepath.Join(dir, "gone.crt")+" cannot be read") {
		t.Errorf("the unreadable file is not named: %q", rows[1])
	}
}
