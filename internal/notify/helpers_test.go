package notify_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/notify"
)

var (
	certOnce sync.Once
	testCert tls.Certificate
	testPool *x509.CertPool
)

// serverCert returns a self-signed certificate for 127.0.0.1 and a pool that trusts it, made once
// per test binary.
func serverCert(tb testing.TB) (tls.Certificate, *x509.CertPool) {
	tb.Helper()
	certOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			tb.Fatal(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(1),
			Subject:               pkix.Name{CommonName: "mail.test"},
			NotBefore:             time.Now().Add(-time.Hour),
			NotAfter:              time.Now().Add(24 * time.Hour),
			IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
			DNSNames:              []string{"mail.test"},
			KeyUsage:              x509.KeyUsageDigitalSignature,
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			IsCA:                  true,
			BasicConstraintsValid: true,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			tb.Fatal(err)
		}
		leaf, _ := x509.ParseCertificate(der)
		testCert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
		testPool = x509.NewCertPool()
		testPool.AddCert(leaf)
	})
	return testCert, testPool
}

// message is a typical code message; tests change what they need.
func message(ch notify.Channel, to string) notify.Message {
	return notify.Message{
		Channel:       ch,
		To:            to,
		Locale:        "en-GB",
		Issuer:        notify.Branding{Name: "Demo Bank", Support: "Questions? Call 0800 123 456."},
		Code:          "482913",
		Purpose:       notify.Purpose{Merchant: "Example Shop", Amount: "EUR 12.34"},
		TransactionID: "8a880dc0-d2d2-4067-bcb1-b08d1690b26e",
	}
}

func wait() time.Duration { return 5 * time.Second }
