package pki_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/pki"
)

// demo is one PKI made by Init for the whole test binary: generating its RSA keys is the slowest step
// of these tests, and most tests only read it. Tests that change files work on a copy.
var demo struct {
	dir    string
	layout pki.Layout
	result *pki.InitResult
}

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "open3ds-pki-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	demo.dir = filepath.Join(tmp, "pki") // Init creates it, so its mode is Init's doing
	demo.layout = pki.Paths(demo.dir)
	if demo.result, err = pki.Init(demo.dir, pki.InitOptions{}); err != nil {
		fmt.Fprintln(os.Stderr, "pki.Init:", err)
		return 1
	}
	return m.Run()
}

// keyPair loads a certificate and key written by Init or Issue.
func keyPair(tb testing.TB, files pki.FilePair) tls.Certificate {
	tb.Helper()
	cert, err := pki.LoadKeyPair(files.Cert, files.Key)
	if err != nil {
		tb.Fatal(err)
	}
	return cert
}

// readCert parses the certificate in a PEM file.
func readCert(tb testing.TB, file string) *x509.Certificate {
	tb.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		tb.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		tb.Fatalf("%s holds no PEM certificate", file)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		tb.Fatalf("%s: %v", file, err)
	}
	return cert
}

// opensslVerify runs the real `openssl verify` on certFile against caFile, with extra arguments such
// as "-purpose sslclient", and fails the test unless openssl says OK.
func opensslVerify(tb testing.TB, caFile, certFile string, extra ...string) {
	tb.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		tb.Fatal("these tests need the openssl binary: ", err)
	}
	args := append(append([]string{"verify", "-CAfile", caFile}, extra...), certFile)
	out, err := exec.Command("openssl", args...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), certFile+": OK") {
		tb.Errorf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// copyDir copies the files of src into a new temporary directory. The copies have the modes os.CopyFS
// gives, not the originals'.
func copyDir(tb testing.TB, src string) string {
	tb.Helper()
	dst := filepath.Join(tb.TempDir(), "pki")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		tb.Fatal(err)
	}
	return dst
}
