package authvalue

import "strings"

// ECI returns the Electronic Commerce Indicator for an outcome in a scheme's style (PROTOCOL.md
// §2.1): "visa" (also amex, jcb, discover, diners, unionpay, elo) gives 05 for Y, 06 for A and 07
// otherwise; "mastercard" (also maestro) gives 02, 01 and 00. An unknown style gives "", so that the
// caller leaves eci out rather than sending a wrong one.
func ECI(style string, outcome byte) string {
	var y, a, other string
	switch strings.ToLower(strings.TrimSpace(style)) {
	case "visa", "amex", "jcb", "discover", "diners", "unionpay", "elo":
		y, a, other = "05", "06", "07"
	case "mastercard", "maestro":
		y, a, other = "02", "01", "00"
	default:
		return ""
	}
	switch outcome {
	case 'Y':
		return y
	case 'A':
		return a
	default:
		return other
	}
}
