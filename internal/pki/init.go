package pki

import (
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
)

// Defaults of Init.
const (
	DefaultSchemeName = "open3ds Demo Scheme"
	// DefaultDSID is the demo DS's RID. An RID starting with F is a proprietary, unregistered
	// application identifier under ISO/IEC 7816-5, so it cannot be mistaken for a real scheme's.
	DefaultDSID = "F000000001"
)

// DefaultHosts are the names the demo's TLS certificates are good for: the loopback host under each
// of the names a local client may use.
var DefaultHosts = []string{"localhost", "127.0.0.1", "::1"}

// InitOptions configures Init. The zero value makes the demo PKI.
type InitOptions struct {
	SchemeName string   // names the root CA; default DefaultSchemeName
	DSID       string   // the DS's RID, ten upper-case hex digits; default DefaultDSID
	Hosts      []string // DNS names and IP addresses of all three TLS certificates; default DefaultHosts

	// The components' names in their certificates' identities; default "ds", "acs" and "3dss".
	DSName, ACSName, ThreeDSServerName string

	// Force replaces the files of an existing PKI. Without it Init refuses, touching nothing, if any
	// file it would write exists.
	Force bool
}

// InitResult says what Init wrote.
type InitResult struct {
	Layout Layout
	DSID   string
	Files  []Written // the CA first
}

// Written describes one certificate and key written to disk.
type Written struct {
	Purpose  string // "scheme root CA", "DS TLS", ...
	Files    FilePair
	Subject  string
	NotAfter time.Time
	Identity Identity // zero for certificates that are not TLS certificates
}

// Init creates a scheme PKI in dir: the root CA, a TLS certificate for each of the DS, one ACS and one
// 3DS Server, the ACS content-signing certificate and the DS encryption keys (see the package
// documentation). The TLS keys are ECDSA, which is quick to generate, and RSA is used only where the
// protocol needs it, so the demo can call Init at start. dir is created with mode 0700 if it does not
// exist; an existing directory keeps its mode, which is the operator's choice. An existing file is an
// error wrapping fs.ErrExist unless opts.Force is set.
func Init(dir string, opts InitOptions) (*InitResult, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	dnsNames, ips, err := splitHosts(opts.Hosts)
	if err != nil {
		return nil, err
	}
	layout := Paths(dir)
	if !opts.Force {
		var paths []string
		for _, p := range layout.all() {
			paths = append(paths, p.Cert, p.Key)
		}
		if found := existing(paths...); len(found) == 1 {
			return nil, fmt.Errorf("pki: %s: %w", found[0], fs.ErrExist)
		} else if len(found) > 1 {
			return nil, fmt.Errorf("pki: %s and %d more files of a PKI: %w", found[0], len(found)-1, fs.ErrExist)
		}
	}

	ca, err := NewCA(opts.SchemeName)
	if err != nil {
		return nil, err
	}
	tlsCert := func(role Role, name, operatorID string) func() ([]byte, []byte, error) {
		return func() ([]byte, []byte, error) {
			return ca.Issue(IssueRequest{Role: role, Name: name, OperatorID: operatorID, DNSNames: dnsNames, IPAddresses: ips})
		}
	}
	steps := []struct {
		purpose string
		files   FilePair
		issue   func() (certPEM, keyPEM []byte, err error)
	}{
		{"scheme root CA", layout.CA, func() ([]byte, []byte, error) {
			key, err := encodeKey(ca.key)
			return ca.CertPEM(), key, err
		}},
		{"DS TLS", layout.DS, tlsCert(RoleDS, opts.DSName, opts.DSID)},
		{"ACS TLS", layout.ACS, tlsCert(RoleACS, opts.ACSName, "")},
		{"3DS Server TLS", layout.ThreeDSServer, tlsCert(RoleThreeDSServer, opts.ThreeDSServerName, "")},
		{"ACS content signing (acsSignedContent)", layout.ACSSigning, func() ([]byte, []byte, error) {
			return ca.IssueContentSigning(opts.ACSName)
		}},
		{"DS encryption, RSA (sdkEncData)", layout.DSEncryptionRSA, func() ([]byte, []byte, error) {
			return ca.issueDSEncryption(opts.DSName, false)
		}},
		{"DS encryption, EC (sdkEncData)", layout.DSEncryptionEC, func() ([]byte, []byte, error) {
			return ca.issueDSEncryption(opts.DSName, true)
		}},
	}
	// Everything is made in memory first, so that a failure leaves no half-written PKI behind.
	certs, keys := make([][]byte, len(steps)), make([][]byte, len(steps))
	for i, s := range steps {
		if certs[i], keys[i], err = s.issue(); err != nil {
			return nil, err
		}
	}

	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	res := &InitResult{Layout: layout, DSID: opts.DSID}
	for i, s := range steps {
		w, err := WriteIssued(s.files, certs[i], keys[i], opts.Force)
		if err != nil {
			return nil, err
		}
		w.Purpose = s.purpose
		res.Files = append(res.Files, w)
	}
	return res, nil
}

// WriteIssued writes a certificate (mode 0644) and its key (mode 0600) to files and describes what it
// wrote. Unless replace is set it refuses, touching nothing, when either file exists; the error then
// wraps fs.ErrExist.
func WriteIssued(files FilePair, certPEM, keyPEM []byte, replace bool) (Written, error) {
	cert, err := parseCert(files.Cert, certPEM)
	if err != nil {
		return Written{}, err
	}
	if !replace {
		if found := existing(files.Cert, files.Key); len(found) > 0 {
			return Written{}, fmt.Errorf("pki: %s: %w", strings.Join(found, ", "), fs.ErrExist)
		}
	}
	// The key goes first: a certificate without its key is useless, but never harmful.
	if err := writeFile(files.Key, keyPEM, 0o600, replace); err != nil {
		return Written{}, err
	}
	if err := writeFile(files.Cert, certPEM, 0o644, replace); err != nil {
		return Written{}, err
	}
	w := Written{Files: files, Subject: cert.Subject.String(), NotAfter: cert.NotAfter}
	if id, err := Identify(cert); err == nil {
		w.Identity = id
	}
	return w, nil
}

func (o InitOptions) withDefaults() (InitOptions, error) {
	if o.SchemeName == "" {
		o.SchemeName = DefaultSchemeName
	}
	if o.DSID == "" {
		o.DSID = DefaultDSID
	}
	if len(o.Hosts) == 0 {
		o.Hosts = DefaultHosts
	}
	if o.DSName == "" {
		o.DSName = string(RoleDS)
	}
	if o.ACSName == "" {
		o.ACSName = string(RoleACS)
	}
	if o.ThreeDSServerName == "" {
		o.ThreeDSServerName = string(RoleThreeDSServer)
	}
	return o, checkRID(o.DSID)
}

// checkRID accepts a registered application provider identifier as schemes write it: five bytes in
// ten upper-case hex digits. The SDK uses these exact characters in its key derivation, so another
// spelling of the same bytes would be a different DS ID.
func checkRID(rid string) error {
	ok := len(rid) == 10
	for i := 0; ok && i < len(rid); i++ {
		c := rid[i]
		ok = '0' <= c && c <= '9' || 'A' <= c && c <= 'F'
	}
	if !ok {
		return invalidf("DS ID %q must be an RID of ten upper-case hex digits, such as A000000003", rid)
	}
	return nil
}
