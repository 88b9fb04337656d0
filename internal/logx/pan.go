package logx

import "strings"

// minPANDigits is the length of the shortest card number we mask. ISO/IEC 7812 numbers in use run
// from 13 to 19 digits; longer runs are masked as well, because a PAN written next to another number
// ("4111 1111 1111 1111 12") is still a PAN.
const minPANDigits = 13

// keepHead and keepTail are the digits PCI DSS allows a display to show: the first six (the issuer's
// BIN) and the last four.
const (
	keepHead = 6
	keepTail = 4
)

// RedactText masks every run of 13 or more digits in s, keeping the first six and last four digits and
// replacing the others with '*'. A run may have a single space or dash between its digits, as people
// type card numbers ("4111 1111 1111 1111", "4111-1111-1111-1111"); separators are kept in place.
// It also redacts the value of every key=value or "key":"value" pair whose key names a secret (see
// IsSecretKey), which catches one-time codes in URLs, form bodies and error texts.
//
// We mask every such run, Luhn-valid or not. A Luhn check would spare some order numbers and
// timestamps, but a card number with one digit mistyped still gives away fifteen digits of a real card,
// and test cards on a misconfigured system are not always valid either. A masked order number costs a
// little debugging; a leaked PAN costs a PCI incident.
func RedactText(s string) string {
	return redactPairs(maskDigitRuns(s))
}

// MaskPAN shows a card number on purpose, as a receipt or an admin page would: the first six and last
// four digits stay and the rest become '*'. A value with fewer than 13 digits is not a card number we
// can show safely (keeping ten of twelve digits reveals too much), so every digit of it is masked.
func MaskPAN(pan string) string {
	n := digitCount(pan)
	if n >= minPANDigits {
		return maskRun(pan, n)
	}
	b := []byte(pan)
	for i, c := range b {
		if isDigit(c) {
			b[i] = '*'
		}
	}
	return string(b)
}

func maskDigitRuns(s string) string {
	if digitCount(s) < minPANDigits {
		return s // the common case: nothing to scan for
	}
	var out strings.Builder
	done := 0 // s[:done] has been copied to out
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		end, digits := scanRun(s, i)
		if digits >= minPANDigits {
			out.WriteString(s[done:i])
			out.WriteString(maskRun(s[i:end], digits))
			done = end
		}
		i = end
	}
	if done == 0 {
		return s
	}
	out.WriteString(s[done:])
	return out.String()
}

// scanRun finds the end of the digit run that starts at s[start] and counts its digits. One space or
// dash may separate two digits; anything else ends the run.
func scanRun(s string, start int) (end, digits int) {
	end = start
	for j := start; j < len(s); {
		switch {
		case isDigit(s[j]):
			digits++
			j++
			end = j
		case (s[j] == ' ' || s[j] == '-') && j+1 < len(s) && isDigit(s[j+1]):
			j++
		default:
			return end, digits
		}
	}
	return end, digits
}

// maskRun masks the digits of run (which holds n digits) except the first six and the last four.
func maskRun(run string, n int) string {
	b := []byte(run)
	k := 0
	for i, c := range b {
		if !isDigit(c) {
			continue
		}
		if k >= keepHead && k < n-keepTail {
			b[i] = '*'
		}
		k++
	}
	return string(b)
}

func digitCount(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			n++
		}
	}
	return n
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
