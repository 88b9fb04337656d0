package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/pki"
)

// runPKICmd runs `open3ds pki args…` in-process.
func runPKICmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := func(string) string { return "" }
	err = run(context.Background(), append([]string{"pki"}, args...), getenv, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

// The sub-tests share one `pki init`, because generating its RSA keys is the slow part, and run in
// order: the refusals come after the checks of what init wrote.
func TestPKICommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	layout := pki.Paths(dir)
	initOut, _, err := runPKICmd(t, "init", "--dir", dir, "--scheme-name", "Test Scheme", "--ds-id", "A000000999", "--hosts", "ds.test, 10.1.2.3")
	if err != nil {
		t.Fatalf("pki init: %v", err)
	}
	crts, err := filepath.Glob(filepath.Join(dir, "*.crt"))
	if err != nil || len(crts) != 7 {
		t.Fatalf("pki init wrote %d certificates (%v), want 7", len(crts), err)
	}

	t.Run("init prints every file it wrote with its subject and expiry", func(t *testing.T) {
		for _, want := range []string{layout.CA.Cert, layout.CA.Key, layout.DSEncryptionEC.Key, "CN=Test Scheme Root CA,O=Test Scheme",
			"CN=3dss,OU=3dss,O=Test Scheme", "role ds, name ds, operator A000000999", "DS ID A000000999",
			"expires      " + pkiReadCert(t, layout.CA.Cert).NotAfter.UTC().Format(time.RFC3339)} {
			if !strings.Contains(initOut, want) {
				t.Errorf("the output lacks %q:\n%s", want, initOut)
			}
		}
		if strings.Contains(initOut, "PRIVATE KEY") {
			t.Error("the output shows a private key")
		}
	})

	t.Run("openssl verifies every certificate init wrote", func(t *testing.T) {
		for _, crt := range crts {
			pkiOpenSSLVerify(t, layout.CA.Cert, crt)
		}
	})

	t.Run("init gives the directory and the keys to their owner alone", func(t *testing.T) {
		pkiWantMode(t, dir, 0o700)
		for _, crt := range crts {
			pkiWantMode(t, crt, 0o644)
			pkiWantMode(t, strings.TrimSuffix(crt, ".crt")+".key", 0o600)
		}
	})

	t.Run("init puts the hosts it is given in the TLS certificates", func(t *testing.T) {
		c := pkiReadCert(t, layout.ACS.Cert)
		if !slices.Equal(c.DNSNames, []string{"ds.test"}) || len(c.IPAddresses) != 1 || !c.IPAddresses[0].Equal(net.ParseIP("10.1.2.3")) {
			t.Errorf("ACS certificate names %v %v, want ds.test 10.1.2.3", c.DNSNames, c.IPAddresses)
		}
	})

	t.Run("init again without --force refuses and leaves the files untouched", func(t *testing.T) {
		before := pkiDigestDir(t, dir)
		_, _, err := runPKICmd(t, "init", "--dir", dir)
		if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "--force") {
			t.Errorf("err = %v (exit %d), want exit 1 pointing at --force", err, exitCode(err))
		}
		if after := pkiDigestDir(t, dir); after != before {
			t.Errorf("the directory changed:\nbefore %s\nafter  %s", before, after)
		}
	})

	t.Run("issue writes a certificate that openssl verifies and that names its component", func(t *testing.T) {
		out, stderr, err := runPKICmd(t, "issue", "--dir", dir, "--role", "3dss", "--name", "psp-2", "--dns", "3dss.psp-2.test", "--ip", "10.9.9.9", "--operator-id", "TDSOP2")
		if err != nil {
			t.Fatalf("pki issue: %v\n%s", err, stderr)
		}
		files := layout.Component(pki.RoleThreeDSServer, "psp-2")
		if !strings.Contains(out, files.Cert) || !strings.Contains(out, "role 3dss, name psp-2, operator TDSOP2") {
			t.Errorf("the output does not say what was written:\n%s", out)
		}
		pkiOpenSSLVerify(t, layout.CA.Cert, files.Cert, "-purpose", "sslclient")
		pkiOpenSSLVerify(t, layout.CA.Cert, files.Cert, "-purpose", "sslserver")
		pkiWantMode(t, files.Key, 0o600)
		c := pkiReadCert(t, files.Cert)
		if id, err := pki.Identify(c); err != nil || id != (pki.Identity{Role: pki.RoleThreeDSServer, Name: "psp-2", OperatorID: "TDSOP2"}) {
			t.Errorf("Identify = %+v, %v", id, err)
		}
		if c.VerifyHostname("3dss.psp-2.test") != nil || c.VerifyHostname("10.9.9.9") != nil {
			t.Errorf("the certificate names %v %v, want 3dss.psp-2.test and 10.9.9.9", c.DNSNames, c.IPAddresses)
		}
	})

	t.Run("issue with --out writes where it is told", func(t *testing.T) {
		prefix := filepath.Join(t.TempDir(), "bank-c")
		if _, _, err := runPKICmd(t, "issue", "--dir", dir, "--role", "acs", "--name", "bank-c", "--out", prefix); err != nil {
			t.Fatal(err)
		}
		pkiOpenSSLVerify(t, layout.CA.Cert, prefix+".crt")
		pkiWantMode(t, prefix+".key", 0o600)
	})

	t.Run("issue refuses to overwrite a certificate without --force", func(t *testing.T) {
		args := []string{"issue", "--dir", dir, "--role", "acs", "--name", "bank-d"}
		if _, _, err := runPKICmd(t, args...); err != nil {
			t.Fatal(err)
		}
		before := pkiDigestDir(t, dir)
		if _, _, err := runPKICmd(t, args...); exitCode(err) != 1 || !strings.Contains(fmt.Sprint(err), "--force") {
			t.Errorf("second issue: %v, want exit 1 pointing at --force", err)
		}
		if pkiDigestDir(t, dir) != before {
			t.Error("the refused issue changed the directory")
		}
		if _, _, err := runPKICmd(t, append(args, "--force")...); err != nil {
			t.Errorf("issue --force: %v", err)
		}
	})

	usage := []struct {
		name string
		args []string
	}{
		{"issue with a bad role is a usage error", []string{"issue", "--dir", dir, "--role", "merchant", "--name", "m"}},
		{"issue without a role is a usage error", []string{"issue", "--dir", dir, "--name", "m"}},
		{"issue without a name is a usage error", []string{"issue", "--dir", dir, "--role", "acs"}},
		{"issue with a name that cannot be an identity is a usage error", []string{"issue", "--dir", dir, "--role", "acs", "--name", "bank:a"}},
		{"issue with a bad IP address is a usage error", []string{"issue", "--dir", dir, "--role", "acs", "--name", "m", "--ip", "10.0.0"}},
		{"issue with a bad DNS name is a usage error", []string{"issue", "--dir", dir, "--role", "acs", "--name", "m", "--dns", "a b"}},
		{"issue with a stray argument is a usage error", []string{"issue", "--dir", dir, "--role", "acs", "--name", "m", "extra"}},
		{"init without a directory is a usage error", []string{"init"}},
		{"init with a DS ID that is not an RID is a usage error", []string{"init", "--dir", filepath.Join(dir, "new"), "--ds-id", "visa"}},
		{"an unknown flag is a usage error", []string{"init", "--dir", filepath.Join(dir, "new"), "--curve", "P-521"}},
		{"pki without a sub-command is a usage error", nil},
		{"an unknown sub-command is a usage error", []string{"revoke"}},
	}
	for _, tt := range usage {
		t.Run(tt.name, func(t *testing.T) {
			before := pkiDigestDir(t, dir)
			if _, _, err := runPKICmd(t, tt.args...); exitCode(err) != 2 {
				t.Errorf("err = %v (exit %d), want exit 2", err, exitCode(err))
			}
			if pkiDigestDir(t, dir) != before {
				t.Error("a usage error changed the directory")
			}
		})
	}
}

func pkiOpenSSLVerify(t *testing.T, caFile, certFile string, extra ...string) {
	t.Helper()
	args := append(append([]string{"verify", "-CAfile", caFile}, extra...), certFile)
	out, err := exec.Command("openssl", args...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), certFile+": OK") {
		t.Errorf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func pkiWantMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != want {
		t.Errorf("%s has mode %o, want %o", path, got, want)
	}
}

func pkiReadCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s holds no PEM", path)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// pkiDigestDir sums up dir's files (names, modes, modification times and contents, as digests so that
// a failure never prints a key) in one string to compare.
func pkiDigestDir(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(&b, "%s %s %s %x\n", e.Name(), info.Mode(), info.ModTime().Format(time.RFC3339Nano), sum[:8])
	}
	return b.String()
}
