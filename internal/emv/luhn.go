package emv

// LuhnValid reports whether pan is a string of digits whose last digit is its Luhn (mod 10) check
// digit, as on every payment card. The protocol writes acctNumber only as 13-19 digits; we also
// hold it to the check digit, since a number that fails it is mistyped and no issuer can have
// issued it: an AReq carrying one is invalid (203, acctNumber) wherever it is read, instead of
// ending in a stand-in's attempts value. Every role uses this one check.
func LuhnValid(pan string) bool {
	if !digits(pan) {
		return false
	}
	sum := 0
	for i := 0; i < len(pan); i++ {
		d := int(pan[len(pan)-1-i] - '0')
		if i%2 == 1 {
			// Every second digit from the right is doubled, and a two-digit result counts as the
			// sum of its digits (d*2 - 9).
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}
