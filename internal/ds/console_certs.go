package ds

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math"
	"os"
	"sort"
	"time"

	"github.com/open3ds/open3ds/internal/console"
)

var certsPage = console.ParsePage(consoleFiles, "console_templates/certs.html")

// certWarnDays is how close to its end a certificate is flagged.
const certWarnDays = 30

// CertFile is a PEM file of certificates the DS relies on, and what it uses them for.
type CertFile struct {
	Use  string // "scheme CA", "sdkEncData key ds-encryption-rsa"
	Path string
}

// certRow is one certificate as the page shows it.
type certRow struct {
	Use, Subject, Issuer, Serial string
	NotBefore, NotAfter          time.Time
	DaysLeft                     int
	State                        string // good, warn (under certWarnDays days left) or bad (ended)
	Problem                      string // the file could not be read
}

func (p *consolePages) certRow(use string, c *x509.Certificate, now time.Time) certRow {
	left := int(math.Floor(c.NotAfter.Sub(now).Hours() / 24))
	state := "good"
	switch {
	case now.After(c.NotAfter):
		state = "bad"
	case left < certWarnDays:
		state = "warn"
	}
	return certRow{Use: use, Subject: c.Subject.String(), Issuer: c.Issuer.String(), Serial: fmt.Sprintf("%X", c.SerialNumber),
		NotBefore: c.NotBefore, NotAfter: c.NotAfter, DaysLeft: left, State: state}
}

func (p *consolePages) certs(r *console.Request) (console.View, error) {
	now := p.o.Now()
	var rows []certRow
	if p.o.TLS != nil {
		for i, der := range p.o.TLS.Certificate {
			c, err := x509.ParseCertificate(der)
			use := "this DS's TLS certificate (as loaded)"
			if i > 0 {
				use = "its chain"
			}
			if err != nil {
				rows = append(rows, certRow{Use: use, Problem: "does not parse", State: "bad"})
				continue
			}
			rows = append(rows, p.certRow(use, c, now))
		}
	}
	for _, f := range p.o.CertFiles {
		certs, err := readCerts(f.Path)
		if err != nil {
			rows = append(rows, certRow{Use: f.Use, Problem: err.Error(), State: "bad"})
			continue
		}
		for _, c := range certs {
			rows = append(rows, p.certRow(f.Use, c, now))
		}
	}
	// The soonest to end first: those are what an operator opens the page for.
	sort.SliceStable(rows, func(i, j int) bool {
		if (rows[i].Problem != "") != (rows[j].Problem != "") {
			return rows[i].Problem != ""
		}
		return rows[i].NotAfter.Before(rows[j].NotAfter)
	})
	return console.View{Title: "Certificates", Template: certsPage, Data: map[string]any{"Certs": rows, "WarnDays": certWarnDays}}, nil
}

// readCerts reads every certificate of a PEM file. Its errors name the file, never its contents.
func readCerts(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s cannot be read", path)
	}
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s holds a certificate that does not parse", path)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no certificate", path)
	}
	return out, nil
}
