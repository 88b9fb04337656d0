package logx

import (
	"strings"
	"unicode"
)

// secretWords are words that make a key secret wherever they appear in it.
var secretWords = set(
	"password", "passwd", "passphrase", "pwd", "pass", "passcode",
	"secret", "secrets", "token", "tokens", "credential", "credentials",
	"otp", "totp", "hotp", "pin", "cvv", "cvc", "cvn",
	"authorization", "cookie", "cookies",
	"cavv", "aav", "dsn",
	"key", "keys",
)

// metaWords describe a secret without being it: "otpLength", "keyID", "passwordFile". A secret word
// directly followed by one of them does not make the key secret.
var metaWords = set(
	"id", "ids", "file", "path", "version", "name", "type", "alg", "algorithm", "label",
	"length", "len", "size", "bits", "count", "attempts", "expiry", "expires", "ttl", "channel", "status",
)

// codePrefixes are the words that, right before a final "code", say it is a one-time or security code
// ("verificationCode", "oneTimeCode", "smsCode", "securityCode") and not an error or status code.
var codePrefixes = set(
	"verification", "verify", "auth", "authentication", "challenge", "sms", "email", "mail",
	"security", "confirmation", "activation", "access", "recovery", "backup", "login", "reset", "time",
)

// IsSecretKey reports whether an attribute key, struct field or form field called key holds a secret.
// The key is split into lower-case words at camelCase humps, digits and punctuation ("X-Api-Key" is
// x, api, key; "OTPCode" is otp, code). It names a secret when:
//   - one of its words is password, passwd, passphrase, pwd, pass, passcode, secret(s), token(s),
//     credential(s), otp, totp, hotp, pin, cvv, cvc, cvn, authorization, cookie(s), cavv, aav, dsn,
//     key or keys, unless the very next word only describes it (id, file, path, version, name, type,
//     alg, algorithm, label, length, len, size, bits, count, attempts, expiry, expires, ttl, channel,
//     status): "apiKey" and "keyPEM" are secret, "keyID", "otpLength" and "passwordFile" are not;
//   - it is "authentication" followed by "value" (the CAVV of a transaction);
//   - its last word is "code" and it is either that one word or follows a word that makes it a
//     one-time or security code (verification, auth, challenge, sms, email, security, "oneTime", ...).
//
// So "code" alone and "otpCode" are secret, while "errorCode", "countryCode" and "statusCode" are
// not: the protocol is full of those, and hiding them would make the logs useless. Words are matched
// whole, so "shipping" does not contain "pin" and "monkey" does not contain "key".
func IsSecretKey(key string) bool {
	words := splitWords(key)
	for i, w := range words {
		next := ""
		if i+1 < len(words) {
			next = words[i+1]
		}
		if secretWords[w] && !metaWords[next] {
			return true
		}
		if w == "authentication" && next == "value" {
			return true
		}
	}
	n := len(words)
	if n > 0 && (words[n-1] == "code" || words[n-1] == "codes") {
		return n == 1 || codePrefixes[words[n-2]]
	}
	return false
}

// splitWords cuts a key into lower-case words at non-alphanumerics, at a lower-to-upper hump, before
// the last capital of an acronym that starts a new word ("APIKey" is api, key) and between letters and
// digits.
func splitWords(s string) []string {
	rs := []rune(s)
	var words []string
	start := -1
	flush := func(end int) {
		if start >= 0 {
			words = append(words, strings.ToLower(string(rs[start:end])))
			start = -1
		}
	}
	for i, r := range rs {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush(i)
			continue
		}
		if start >= 0 {
			prev := rs[i-1]
			hump := unicode.IsUpper(r) && (unicode.IsLower(prev) || unicode.IsDigit(prev))
			acronymEnd := unicode.IsUpper(r) && unicode.IsUpper(prev) && i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if hump || acronymEnd || unicode.IsDigit(r) != unicode.IsDigit(prev) {
				flush(i)
			}
		}
		if start < 0 {
			start = i
		}
	}
	flush(len(rs))
	return words
}

// redactPairs replaces the value in every key=value, key: value or "key":"value" pair of free text whose
// key names a secret. Free text is where secrets slip past the attribute rule: a URL in an error
// message ("...?otp=123456"), a form body echoed by a parser, a panic message.
func redactPairs(s string) string {
	if !strings.ContainsAny(s, "=:") {
		return s
	}
	var out strings.Builder
	done := 0
	for i := 0; i < len(s); {
		if !isKeyChar(s[i]) || (i > 0 && isKeyChar(s[i-1])) {
			i++
			continue
		}
		k := i
		for k < len(s) && isKeyChar(s[k]) {
			k++
		}
		key := s[i:k]
		vs, ve, ok := pairValue(s, key, k)
		if ok && ve > vs && IsSecretKey(key) {
			out.WriteString(s[done:vs])
			out.WriteString(Redacted)
			done = ve
			k = ve
		}
		i = k
	}
	if done == 0 {
		return s
	}
	out.WriteString(s[done:])
	return out.String()
}

// pairValue looks for a separator right after key, which ends at s[k], and returns the span of its value: up
// to the closing quote when the value is quoted, else up to the next delimiter. Authorization and
// cookie values hold spaces ("Bearer abc"), so for those an unquoted value runs to the end of the line.
func pairValue(s, key string, k int) (start, end int, ok bool) {
	j := k
	if j < len(s) && s[j] == '"' { // the end of a JSON key
		j++
	}
	for j < len(s) && s[j] == ' ' {
		j++
	}
	if j >= len(s) || (s[j] != '=' && s[j] != ':') {
		return 0, 0, false
	}
	j++
	for j < len(s) && s[j] == ' ' {
		j++
	}
	if strings.HasPrefix(s[j:], Redacted) {
		// Already redacted (text passes through here again when a logged error quotes a
		// redacted value); its brackets must not be read as the end of a value.
		return j, j + len(Redacted), true
	}
	if j < len(s) && s[j] == '"' {
		start = j + 1
		for end = start; end < len(s) && s[end] != '"'; end++ {
			if s[end] == '\\' {
				end++
			}
		}
		return start, min(end, len(s)), true
	}
	stops := " \t\r\n&;,\"'<>)]}"
	if w := splitWords(key); len(w) > 0 && (w[len(w)-1] == "authorization" || w[len(w)-1] == "cookie") {
		stops = "\r\n\""
	}
	end = j
	for end < len(s) && !strings.ContainsRune(stops, rune(s[end])) {
		end++
	}
	return j, end, true
}

func isKeyChar(c byte) bool {
	return c == '_' || c == '-' || c == '.' || isDigit(c) || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}
