package acs

import (
	"crypto"
	"crypto/x509"
	"fmt"

	"github.com/open3ds/open3ds/internal/authvalue"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/risk"
	"github.com/open3ds/open3ds/internal/vault"
)

// Vault adapts a vault keyring to the PANVault the store seals with.
func Vault(k *vault.Keyring) PANVault { return keyring{k} }

type keyring struct{ k *vault.Keyring }

func (v keyring) Seal(pan string, p Place) (string, int, error) {
	s, err := v.k.Seal([]byte(pan), vault.AD(p))
	if err != nil {
		return "", 0, err
	}
	id, err := v.k.KeyID(s)
	return s, id, err
}

func (v keyring) Open(sealed string, p Place) (string, error) {
	b, err := v.k.Open(sealed, vault.AD(p))
	return string(b), err
}

func (v keyring) Current() int                 { return v.k.Current() }
func (v keyring) LookupHash(pan string) string { return v.k.LookupHash(pan) }

// AuthValues adapts an issuer's authentication-value keys.
func AuthValues(k *authvalue.Keys) AuthValueKeys { return avKeys{k} }

type avKeys struct{ k *authvalue.Keys }

func (a avKeys) Create(f AuthFacts) (string, error) { return a.k.Create(authvalue.Facts(f)) }

func (a avKeys) Verify(v string, f AuthFacts) (bool, error) {
	c, err := a.k.Verify(v, authvalue.Facts(f))
	return c.Valid, err
}

// Risk adapts the risk engine's policy set.
func Risk(s *risk.Set) RiskEngine { return riskSet{s} }

type riskSet struct{ s *risk.Set }

func (r riskSet) Evaluate(policy string, in RiskInput) (RiskResult, *RiskResult) {
	h := in.History
	live, shadow := r.s.Evaluate(policy, risk.Input{AReq: in.AReq, Now: in.Now, Facts: risk.Facts{
		DeviceKnown: h.DeviceKnown, HasDeviceData: in.HasDeviceData, TxLastHour: h.TxLastHour, TxLastDay: h.TxLastDay,
		FailedChallenges24h: h.FailedChallenges24h, UsualAmountMax: h.UsualAmountMax, DeviceIP: in.DeviceIP,
		DeviceWarnings: risk.SDKWarnings(in.DeviceWarnings), LocaleCountry: in.LocaleCountry, IPCountry: in.IPCountry,
	}})
	if shadow == nil {
		return riskResult(live), nil
	}
	s := riskResult(*shadow)
	return riskResult(live), &s
}

func riskResult(r risk.Result) RiskResult {
	out := RiskResult{Score: r.Score, Outcome: string(r.Outcome), TransStatusReason: r.TransStatusReason, Policy: r.Policy}
	for _, why := range r.Reasons {
		out.Reasons = append(out.Reasons, why.Rule+": "+why.Text)
	}
	return out
}

// LoadAppSigning reads the ACS content-signing certificate (with any intermediates after it in
// the file) and its key, for acsSignedContent.
func LoadAppSigning(certFile, keyFile string) (*AppSigning, error) {
	kp, err := pki.LoadKeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	key, ok := kp.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("acs: the content-signing key cannot sign")
	}
	s := &AppSigning{Key: key}
	for _, der := range kp.Certificate {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("acs: the content-signing chain: %w", err)
		}
		s.Chain = append(s.Chain, c)
	}
	return s, nil
}
