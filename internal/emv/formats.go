package emv

import (
	"encoding/base64"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"unicode/utf8"
)

// scalarOK reports whether a present, non-blank value has the element's format, length and, for a string,
// one of its values in this version. Objects and arrays are walked by validate.go; here they only have
// to be of the right JSON kind.
func scalarOK(el *element, n *node, vi int) bool {
	switch el.f {
	case fBool:
		return n.kind == jBool
	case fObject:
		return n.kind == jObject
	case fAnyObject:
		return n.kind == jObject && within(len(n.raw), 0, el.max)
	case fAny:
		return within(len(n.raw), 0, el.max)
	case fStringMap:
		return n.kind == jObject && stringMembers(n)
	case fArray, fExtensions:
		return n.kind == jArray && within(len(n.items), el.min, el.max)
	case fJWK:
		return n.kind == jObject && within(len(n.raw), 0, el.max) && jwkOK(n)
	}
	if n.kind != jString {
		return false
	}
	s := n.str
	if !stringOK(el.f, s) || !within(utf8.RuneCountInString(s), el.min, el.max) {
		return false
	}
	return el.enum == nil || el.enum.has(vi, s)
}

func stringMembers(n *node) bool {
	for _, m := range n.members {
		if m.val.kind != jString || blank(&m.val) {
			return false
		}
	}
	return true
}

func within(n, lo, hi int) bool { return n >= lo && (hi == 0 || n <= hi) }

func stringOK(f format, s string) bool {
	switch f {
	case fAN:
		return true
	case fN:
		return digits(s)
	case fPAN:
		return LuhnValid(s)
	case fUUID:
		return isUUID(s)
	case fURL:
		return urlOK(s, false)
	case fHTTPS:
		return urlOK(s, true)
	case fDate:
		return len(s) == 8 && digits(s) && dateOK(s)
	case fYYMM:
		return len(s) == 4 && digits(s) && monthOK(s[2:4])
	case fDateTime:
		return len(s) == 14 && digits(s) && dateOK(s[:8]) && clockOK(s[8:])
	case fDateTimeMin:
		return len(s) == 12 && digits(s) && dateOK(s[:8]) && clockOK(s[8:])
	case fJWS:
		return compactOK(s, 3)
	case fBase64:
		_, err := base64.StdEncoding.Strict().DecodeString(s)
		return err == nil
	case fBase64URL:
		_, err := DecodeBase64Lenient(s)
		return err == nil && !strings.ContainsAny(s, " \t\r\n")
	case fIP:
		_, err := netip.ParseAddr(s)
		return err == nil
	case fTZ:
		return tzOK(s)
	case fVersion:
		return versionOK(s)
	}
	return false
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isUUID accepts the canonical 8-4-4-4-12 form in either case; validators in the field do the same.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

func urlOK(s string, httpsOnly bool) bool {
	if strings.ContainsAny(s, " \t\r\n") {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return true
	case "http":
		return !httpsOnly || (loopbackHTTP.Load() && isLoopbackHost(u.Hostname()))
	}
	return false
}

// loopbackHTTP is the development switch AllowLoopbackHTTP sets.
var loopbackHTTP atomic.Bool

// AllowLoopbackHTTP makes the https-only URL elements (acsURL in 2.3.1, the cardholder images) also
// accept plain http to localhost or a loopback address, in every message this process checks. It is
// for `open3ds demo` alone, whose every role runs in one process on one machine: browsers treat
// http://localhost as a secure context, while a certificate from the demo's own CA would stop the
// challenge iframe until the person trusted it by hand. No role turns it on otherwise; a DS or 3DS
// Server facing real peers keeps the specification's https rule.
func AllowLoopbackHTTP(on bool) { loopbackHTTP.Store(on) }

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.IsLoopback()
}

func num(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func monthOK(mm string) bool { m := num(mm); return m >= 1 && m <= 12 }

// dateOK checks YYYYMMDD, digits already checked, for a real calendar day.
func dateOK(s string) bool {
	y, m, d := num(s[:4]), num(s[4:6]), num(s[6:8])
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m-1]
	if m == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return d <= days
}

// clockOK checks HHMM or HHMMSS.
func clockOK(s string) bool {
	if num(s[:2]) > 23 || num(s[2:4]) > 59 {
		return false
	}
	return len(s) == 4 || num(s[4:6]) <= 59
}

// compactOK checks a compact serialisation of the given number of parts (a JWS has 3): every part unpadded base64url,
// the protected header never empty. Whether it decrypts or verifies is the caller's business.
func compactOK(s string, parts int) bool {
	p := strings.Split(s, ".")
	if len(p) != parts || p[0] == "" {
		return false
	}
	for _, part := range p {
		if _, err := DecodeBase64Strict(part); err != nil {
			return false
		}
	}
	return true
}

func tzOK(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	return len(s) >= 1 && len(s) <= 4 && digits(s)
}

// versionOK accepts a dotted protocol version of 5 to 8 characters, such as 2.2.0 or 2.10.1: peers may
// announce versions we do not speak, so this checks the form only.
func versionOK(s string) bool {
	if len(s) < 5 || len(s) > 8 {
		return false
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if !digits(p) {
			return false
		}
	}
	return true
}

// jwkOK checks the members an ephemeral public key must have: kty, and for an EC key its curve and
// both coordinates as base64url.
func jwkOK(n *node) bool {
	kty := n.get("kty")
	if kty == nil || kty.kind != jString || kty.str == "" {
		return false
	}
	if kty.str != "EC" {
		return true
	}
	for _, k := range []string{"crv", "x", "y"} {
		v := n.get(k)
		if v == nil || v.kind != jString || v.str == "" {
			return false
		}
		if k != "crv" {
			if _, err := DecodeBase64Strict(v.str); err != nil {
				return false
			}
		}
	}
	return true
}
