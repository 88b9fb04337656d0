package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"os"
	"strings"
	"time"
	"unicode"
)

// DefaultValidity is how long a component certificate lasts when the request names no other period.
// Two years balances renewal work against exposure; a certificate never outlives the CA that signed it.
const DefaultValidity = 2 * 365 * 24 * time.Hour

// clockSkew backdates every certificate a little, so that a peer whose clock runs behind accepts a
// certificate issued a moment ago.
const clockSkew = 5 * time.Minute

// CA is a scheme root CA with its private key, able to issue component certificates.
type CA struct {
	Cert *x509.Certificate
	key  crypto.Signer
}

// NewCA makes a new scheme root in memory: an ECDSA P-256 key and a self-signed certificate valid for
// ten years, named after the scheme. Init writes one to disk; tests elsewhere can use one directly.
func NewCA(schemeName string) (*CA, error) {
	if err := checkSchemeName(schemeName); err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: generate the CA key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serialNumber(),
		Subject:      pkix.Name{Organization: []string{schemeName}, CommonName: schemeName + " Root CA"},
		NotBefore:    now.Add(-clockSkew),
		NotAfter:     now.AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		// The root signs component certificates directly. Path length zero means that even a
		// certificate issued by mistake with the CA flag could not sign anything a peer would accept.
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("pki: create the CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: parse the CA certificate: %w", err)
	}
	return &CA{Cert: cert, key: key}, nil
}

// LoadCA reads the CA of the PKI directory dir, checking that the certificate is a CA's and that the
// key belongs to it.
func LoadCA(dir string) (*CA, error) {
	files := Paths(dir).CA
	certData, err := os.ReadFile(files.Cert)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	cert, err := parseCert(files.Cert, certData)
	if err != nil {
		return nil, err
	}
	keyData, err := os.ReadFile(files.Key)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	key, err := parseKey(files.Key, keyData)
	if err != nil {
		return nil, err
	}
	if !cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("pki: %s is not a CA certificate", files.Cert)
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("pki: the key in %s does not belong to %s", files.Key, files.Cert)
	}
	return &CA{Cert: cert, key: key}, nil
}

// CertPEM is the CA certificate as PEM, what every component and SDK is given to trust.
func (ca *CA) CertPEM() []byte { return encodeCert(ca.Cert.Raw) }

// Pool is a certificate pool holding only this CA, for ServerConfig and ClientConfig.
func (ca *CA) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return pool
}

// subject is the name of a certificate this CA issues: the scheme's organisation, the purpose or role
// as the unit, and the component's name. People read it; nothing decides anything on it.
func (ca *CA) subject(unit, name string) pkix.Name {
	return pkix.Name{Organization: ca.Cert.Subject.Organization, OrganizationalUnit: []string{unit}, CommonName: name}
}

// sign issues tmpl for key's public half, filling in what every certificate of this CA shares, and
// returns the certificate and the private key as PEM.
func (ca *CA) sign(tmpl *x509.Certificate, key crypto.Signer, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	now := time.Now()
	if !now.Before(ca.Cert.NotAfter) {
		return nil, nil, fmt.Errorf("pki: the CA %q expired on %s", ca.Cert.Subject, ca.Cert.NotAfter.UTC().Format(time.RFC3339))
	}
	if validity <= 0 {
		validity = DefaultValidity
	}
	tmpl.SerialNumber = serialNumber()
	tmpl.NotBefore = now.Add(-clockSkew)
	tmpl.NotAfter = now.Add(validity)
	if tmpl.NotAfter.After(ca.Cert.NotAfter) {
		tmpl.NotAfter = ca.Cert.NotAfter
	}
	tmpl.BasicConstraintsValid = true // say CA:FALSE outright rather than leave it to defaults
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: sign %q: %w", tmpl.Subject, err)
	}
	keyPEM, err = encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	return encodeCert(der), keyPEM, nil
}

// serialNumber is 128 random bits, which makes serials unique without a register of those used and
// unpredictable, as the CA/Browser Forum asks of public CAs for the same reasons.
func serialNumber() *big.Int {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	n, err := rand.Int(rand.Reader, limit)
	if err != nil {
		// crypto/rand does not fail on the systems Go supports; a constant serial would be worse.
		panic("pki: crypto/rand failed: " + err.Error())
	}
	return n.Add(n, big.NewInt(1)) // never zero, which RFC 5280 forbids
}

// checkSchemeName keeps the scheme's name printable and short enough that "<name> Root CA" fits the
// 64 characters X.509 allows a common name.
func checkSchemeName(name string) error {
	if strings.TrimSpace(name) == "" || len(name) > 55 || strings.ContainsFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return invalidf("scheme name %q must be 1 to 55 printable characters", name)
	}
	return nil
}
