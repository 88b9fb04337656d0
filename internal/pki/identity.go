package pki

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Role is the part a component plays in the network.
type Role string

// The roles a component certificate can carry. The strings are those of the sub-commands
// (`open3ds serve ds|acs|3dss`) and of the identity URIs.
const (
	RoleDS            Role = "ds"
	RoleACS           Role = "acs"
	RoleThreeDSServer Role = "3dss"
)

// Roles lists every role, in the order the network's messages travel from the merchant's side.
var Roles = []Role{RoleThreeDSServer, RoleDS, RoleACS}

// ParseRole accepts exactly the names of the roles; anything else is an error matching ErrInvalid.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleDS, RoleACS, RoleThreeDSServer:
		return r, nil
	}
	return "", invalidf("role %q is none of ds, acs, 3dss", s)
}

// ErrInvalid matches, with errors.Is, every error that reports a request the caller got wrong (a bad
// role, name, host or DS ID), as opposed to a failure of the files or of the cryptography. The command
// line turns it into a usage error.
var ErrInvalid = errors.New("pki: invalid request")

// invalidError is a mistake in a request; its text is the mistake alone.
type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return "pki: " + e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

func invalidf(format string, a ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, a...)}
}

// ErrNoIdentity is wrapped by every error of Identify and IdentifyRequest, so that a handler can
// answer 403 to any of them with one check.
var ErrNoIdentity = errors.New("pki: no verified open3ds identity")

// Identity is who a certificate says its holder is.
type Identity struct {
	Role       Role
	Name       string
	OperatorID string // empty when the certificate carries none
}

// String gives "role:name", the form logs and error messages use.
func (id Identity) String() string { return string(id.Role) + ":" + id.Name }

const (
	urnPrefix   = "open3ds:" // the opaque part of a urn: URI after "urn:"
	operatorKey = "operator"
)

// identityURIs are the subject alternative names Issue writes for id.
func identityURIs(id Identity) []*url.URL {
	uris := []*url.URL{{Scheme: "urn", Opaque: urnPrefix + string(id.Role) + ":" + id.Name}}
	if id.OperatorID != "" {
		uris = append(uris, &url.URL{Scheme: "urn", Opaque: urnPrefix + operatorKey + ":" + id.OperatorID})
	}
	return uris
}

// Identify reads the identity URIs of cert (see the package documentation). It does not verify the
// certificate: call it on a certificate from a verified chain, as IdentifyRequest does. Every error
// wraps ErrNoIdentity.
func Identify(cert *x509.Certificate) (Identity, error) {
	var id Identity
	roles, operators := 0, 0
	for _, u := range cert.URIs {
		if !strings.EqualFold(u.Scheme, "urn") || len(u.Opaque) < len(urnPrefix) || !strings.EqualFold(u.Opaque[:len(urnPrefix)], urnPrefix) {
			continue // someone else's name for the same component; not ours to judge
		}
		if !strings.HasPrefix(u.Opaque, urnPrefix) {
			// URN namespaces ignore case, so this is one of ours in a spelling Issue never writes.
			// Refusing it means no verifier can read a certificate differently from this one.
			return Identity{}, fmt.Errorf("%w: identity URI %q is not spelt in lower case", ErrNoIdentity, u)
		}
		kind, value, ok := strings.Cut(strings.TrimPrefix(u.Opaque, urnPrefix), ":")
		if !ok {
			return Identity{}, fmt.Errorf("%w: malformed identity URI %q", ErrNoIdentity, u)
		}
		if kind == operatorKey {
			if checkOperatorID(value) != nil {
				return Identity{}, fmt.Errorf("%w: identity URI %q has a malformed operator id", ErrNoIdentity, u)
			}
			id.OperatorID = value
			operators++
			continue
		}
		role, err := ParseRole(kind)
		if err != nil {
			return Identity{}, fmt.Errorf("%w: identity URI %q names no known role", ErrNoIdentity, u)
		}
		if checkName(value) != nil {
			return Identity{}, fmt.Errorf("%w: identity URI %q has a malformed name", ErrNoIdentity, u)
		}
		id.Role, id.Name = role, value
		roles++
	}
	switch {
	case roles == 0:
		return Identity{}, fmt.Errorf("%w: certificate %q names no role", ErrNoIdentity, cert.Subject)
	case roles > 1 || operators > 1:
		// Two claims in one certificate would let the verifier's choice decide who is calling.
		return Identity{}, fmt.Errorf("%w: certificate %q names more than one identity", ErrNoIdentity, cert.Subject)
	}
	return id, nil
}

// IdentifyRequest identifies the client of r from the chain the TLS handshake verified. A plain HTTP
// request, or a TLS request whose client sent no certificate or one that was not verified, has no
// identity: the certificate the client merely presented is never trusted. Every error wraps
// ErrNoIdentity.
func IdentifyRequest(r *http.Request) (Identity, error) {
	if r.TLS == nil {
		return Identity{}, fmt.Errorf("%w: the request did not come over TLS", ErrNoIdentity)
	}
	if len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return Identity{}, fmt.Errorf("%w: the client presented no verified certificate", ErrNoIdentity)
	}
	return Identify(r.TLS.VerifiedChains[0][0])
}

// checkName enforces the syntax of component names: 1 to 64 letters, digits, '.', '_' or '-',
// starting with a letter or digit. That keeps names usable as URI parts and file names unescaped.
func checkName(name string) error {
	if !token(name, 64) {
		return invalidf("name %q must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

// checkOperatorID allows the characters of a name, up to the 32 that the protocol's operator ID
// fields hold.
func checkOperatorID(id string) error {
	if !token(id, 32) {
		return invalidf("operator id %q must be 1 to 32 letters, digits, '.', '_' or '-', starting with a letter or digit", id)
	}
	return nil
}

func token(s string, maxLen int) bool {
	if s == "" || len(s) > maxLen || !alnum(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !alnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func alnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
