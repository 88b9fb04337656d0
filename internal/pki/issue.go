package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"net"
	"strings"
	"time"
)

// IssueRequest describes a component's TLS certificate.
type IssueRequest struct {
	Role       Role
	Name       string // the component's name in the scheme's registry; see the package documentation
	OperatorID string // optional: acsOperatorID, threeDSServerOperatorID, or the DS's RID

	// The names the component serves under. A certificate with neither can still act as a TLS
	// client, but no client will accept it from a server.
	DNSNames    []string
	IPAddresses []net.IP

	Validity time.Duration // zero means DefaultValidity
}

// Issue makes a new ECDSA P-256 key and a TLS certificate for it, good for both server and client
// authentication, carrying the component's identity (see the package documentation). Errors in the
// request wrap ErrInvalid.
func (ca *CA) Issue(req IssueRequest) (certPEM, keyPEM []byte, err error) {
	if _, err := ParseRole(string(req.Role)); err != nil {
		return nil, nil, err
	}
	if err := checkName(req.Name); err != nil {
		return nil, nil, err
	}
	if req.OperatorID != "" {
		if err := checkOperatorID(req.OperatorID); err != nil {
			return nil, nil, err
		}
	}
	for _, h := range req.DNSNames {
		if err := checkDNSName(h); err != nil {
			return nil, nil, err
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: generate a key: %w", err)
	}
	tmpl := &x509.Certificate{
		Subject: ca.subject(string(req.Role), req.Name),
		// An ECDSA key in TLS only ever signs the handshake.
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:    req.DNSNames,
		IPAddresses: req.IPAddresses,
		URIs:        identityURIs(Identity{Role: req.Role, Name: req.Name, OperatorID: req.OperatorID}),
	}
	return ca.sign(tmpl, key, req.Validity)
}

// IssueContentSigning makes the certificate an ACS signs acsSignedContent with (a JWS whose x5c
// header carries this certificate, verified by SDKs up to the scheme root). The key is RSA 2048 so
// that the ACS can sign with PS256; ES256 with a P-256 key is equally valid under the protocol, but
// RSA is the choice every SDK has supported longest. The certificate allows digitalSignature only
// and has no extended key usage, host name or identity URI: it is not a TLS certificate.
func (ca *CA) IssueContentSigning(acsName string) (certPEM, keyPEM []byte, err error) {
	if err := checkName(acsName); err != nil {
		return nil, nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: generate a key: %w", err)
	}
	tmpl := &x509.Certificate{
		Subject:  ca.subject("acs-signing", acsName),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	return ca.sign(tmpl, key, 0)
}

// issueDSEncryption makes one of the DS's sdkEncData keys with its certificate, which SDKs bundle:
// RSA 2048 for RSA-OAEP-256 key transport (key usage keyEncipherment), or P-256 for ECDH key
// agreement (keyAgreement). Like the signing certificate it is not a TLS certificate.
func (ca *CA) issueDSEncryption(dsName string, ec bool) (certPEM, keyPEM []byte, err error) {
	var key crypto.Signer
	tmpl := &x509.Certificate{}
	if ec {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl.Subject = ca.subject("ds-encryption-ec", dsName)
		tmpl.KeyUsage = x509.KeyUsageKeyAgreement
	} else {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
		tmpl.Subject = ca.subject("ds-encryption-rsa", dsName)
		tmpl.KeyUsage = x509.KeyUsageKeyEncipherment
	}
	if err != nil {
		return nil, nil, fmt.Errorf("pki: generate a key: %w", err)
	}
	return ca.sign(tmpl, key, 0)
}

// splitHosts sorts host names from IP addresses, as a --hosts list mixes them.
func splitHosts(hosts []string) (dns []string, ips []net.IP, err error) {
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
			continue
		}
		if err := checkDNSName(h); err != nil {
			return nil, nil, err
		}
		dns = append(dns, h)
	}
	return dns, ips, nil
}

// checkDNSName accepts a host name of letters, digits and hyphens in dot-separated labels, optionally
// with a leading "*." wildcard label, as a certificate's DNS names must be.
func checkDNSName(name string) error {
	bad := func() error {
		return invalidf("%q is not a DNS name", name)
	}
	if len(name) == 0 || len(name) > 253 {
		return bad()
	}
	for _, label := range strings.Split(strings.TrimPrefix(name, "*."), ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return bad()
		}
		for j := 0; j < len(label); j++ {
			if c := label[j]; !alnum(c) && c != '-' {
				return bad()
			}
		}
	}
	return nil
}
