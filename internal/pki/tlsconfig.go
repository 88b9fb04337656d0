package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
)

// tls12Suites are the only suites offered or accepted under TLS 1.2: ephemeral ECDH key exchange for
// forward secrecy and an AEAD cipher, never CBC or RSA key transport. Suites for RSA certificates stay
// in the list because a peer outside this PKI, such as a scheme's own DS, may present one. TLS 1.3
// suites are not configurable in Go and are all AEAD.
var tls12Suites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// baseConfig is what servers and clients share. MaxVersion is left at Go's maximum, so TLS 1.3 is
// negotiated whenever the peer speaks it, and the key exchange groups at Go's defaults, which put the
// post-quantum hybrid first.
func baseConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		CipherSuites: slices.Clone(tls12Suites),
	}
}

// ServerConfig is the configuration of a listener presenting cert. With requireClientCert, every
// client must present a certificate that chains to clientCAs, as on the links between the DS, the ACSs
// and the 3DS Servers; a nil clientCAs then refuses every client rather than falling back to the
// system's roots. Without it, a client certificate is verified against clientCAs if one is sent, or
// not asked for when clientCAs is nil, as on the pages shoppers' browsers load. A client certificate
// must list the clientAuth extended key usage explicitly (see the package documentation).
func ServerConfig(cert tls.Certificate, clientCAs *x509.CertPool, requireClientCert bool) *tls.Config {
	c := baseConfig()
	c.Certificates = []tls.Certificate{cert}
	switch {
	case requireClientCert:
		if clientCAs == nil {
			clientCAs = x509.NewCertPool()
		}
		c.ClientAuth = tls.RequireAndVerifyClientCert
	case clientCAs != nil:
		c.ClientAuth = tls.VerifyClientCertIfGiven
	default:
		c.ClientAuth = tls.NoClientCert
	}
	c.ClientCAs = clientCAs
	c.VerifyConnection = requireExplicitEKU(x509.ExtKeyUsageClientAuth, "clientAuth")
	return c
}

// ClientConfig is the configuration of a client that trusts servers chaining to rootCAs and, when
// cert is not nil, presents cert. A nil rootCAs trusts nothing (pass x509.SystemCertPool explicitly to
// trust the system's roots), so that a forgotten pool fails closed. The server's certificate must name
// serverName; an http.Transport fills an empty serverName from each request's host, which is the usual
// way to use this configuration. Host names are always verified, and the server's certificate must
// list the serverAuth extended key usage explicitly.
func ClientConfig(cert *tls.Certificate, rootCAs *x509.CertPool, serverName string) *tls.Config {
	c := baseConfig()
	if rootCAs == nil {
		rootCAs = x509.NewCertPool()
	}
	c.RootCAs = rootCAs
	c.ServerName = serverName
	if cert != nil {
		c.Certificates = []tls.Certificate{*cert}
	}
	c.VerifyConnection = requireExplicitEKU(x509.ExtKeyUsageServerAuth, "serverAuth")
	return c
}

// errNoEKU is what a handshake fails with when the peer's certificate does not list the usage its
// side of the connection needs.
var errNoEKU = errors.New("pki: the peer's certificate does not list the extended key usage")

// requireExplicitEKU refuses a peer whose verified certificate does not list usage. Go's verifier
// accepts a certificate with no extended key usage for any purpose; this check closes that door for
// the signing and encryption certificates of the scheme, which have none. It runs after chain
// verification, on full and resumed handshakes alike.
func requireExplicitEKU(usage x509.ExtKeyUsage, name string) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return nil // no certificate: ClientAuth has already decided whether that is acceptable
		}
		leaf := cs.PeerCertificates[0]
		if !slices.Contains(leaf.ExtKeyUsage, usage) {
			return fmt.Errorf("%w %s: %q", errNoEKU, name, leaf.Subject)
		}
		return nil
	}
}
