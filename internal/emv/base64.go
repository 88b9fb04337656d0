package emv

import (
	"encoding/base64"
	"errors"
	"strings"
)

var errBase64 = errors.New("not base64url")

// DecodeBase64Lenient decodes a field a browser posted (threeDSMethodData, creq, cres). Peers send it
// unpadded base64url as they should, padded base64url, or even standard base64 with '+', '/' and '=',
// so we try each in turn. Surrounding white space, which some form encoders leave, is ignored.
func DecodeBase64Lenient(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errBase64
	}
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errBase64
}

// DecodeBase64Strict decodes one part of a JWE or JWS compact serialisation: unpadded base64url only.
// A '=', '+', '/', space or newline is an error, as SDKs treat it.
func DecodeBase64Strict(s string) ([]byte, error) {
	if strings.ContainsAny(s, "=+/ \t\r\n") {
		return nil, errBase64
	}
	return base64.RawURLEncoding.Strict().DecodeString(s)
}

// EncodeBase64URL encodes b as unpadded base64url, the form we send.
func EncodeBase64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
