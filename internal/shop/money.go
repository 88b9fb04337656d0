package shop

import (
	"strconv"
	"strings"
)

// currency is how people write amounts of one currency: its sign and how many of its minor units
// make a major one (ISO 4217's exponent), which the AReq's purchaseExponent also carries.
type currency struct {
	sign     string
	exponent int
}

// currencies are the ISO 4217 numeric codes the shop can price in. The exponents differ on purpose:
// the yen and the won have no minor unit, the Bahraini dinar has three.
var currencies = map[string]currency{
	"978": {"€", 2}, "840": {"$", 2}, "826": {"£", 2}, "392": {"¥", 0}, "756": {"CHF ", 2},
	"124": {"CA$", 2}, "036": {"A$", 2}, "752": {"SEK ", 2}, "578": {"NOK ", 2}, "208": {"DKK ", 2},
	"985": {"PLN ", 2}, "410": {"₩", 0}, "048": {"BHD ", 3},
}

// format writes an amount in minor units for a shopper: "€1,450.00", "¥12,000", "BHD 1.250".
func (c currency) format(minor int64) string {
	digits := strconv.FormatInt(minor, 10)
	for len(digits) <= c.exponent {
		digits = "0" + digits
	}
	whole, frac := digits[:len(digits)-c.exponent], digits[len(digits)-c.exponent:]
	var b strings.Builder
	b.WriteString(c.sign)
	for i, d := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return b.String()
}
