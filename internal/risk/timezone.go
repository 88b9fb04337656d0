package risk

import "strconv"

// zoneRange is the span of UTC offsets, in minutes east of UTC and including summer time, that
// a country's clocks show.
type zoneRange struct{ lo, hi int16 }

// countryZones holds the countries whose cardholders open3ds expects most, by ISO 3166-1
// numeric code. A country missing here makes browser_time_zone stay silent: the rule is a weak
// signal and must not fire on what it does not know.
var countryZones = map[string]zoneRange{
	"036": {480, 660},   // Australia
	"040": {60, 120},    // Austria
	"056": {60, 120},    // Belgium
	"076": {-300, -120}, // Brazil
	"124": {-480, -150}, // Canada
	"156": {480, 480},   // China
	"203": {60, 120},    // Czechia
	"208": {60, 120},    // Denmark
	"246": {120, 180},   // Finland
	"250": {60, 120},    // France (metropolitan)
	"276": {60, 120},    // Germany
	"300": {120, 180},   // Greece
	"344": {480, 480},   // Hong Kong
	"356": {330, 330},   // India
	"372": {0, 60},      // Ireland
	"380": {60, 120},    // Italy
	"392": {540, 540},   // Japan
	"410": {540, 540},   // Korea
	"484": {-480, -300}, // Mexico
	"528": {60, 120},    // Netherlands
	"554": {720, 825},   // New Zealand
	"566": {60, 60},     // Nigeria
	"578": {60, 120},    // Norway
	"616": {60, 120},    // Poland
	"620": {-60, 60},    // Portugal with the Azores
	"642": {120, 180},   // Romania
	"643": {120, 720},   // Russia
	"702": {480, 480},   // Singapore
	"710": {120, 120},   // South Africa
	"724": {0, 120},     // Spain with the Canaries
	"752": {60, 120},    // Sweden
	"756": {60, 120},    // Switzerland
	"784": {240, 240},   // United Arab Emirates
	"826": {0, 60},      // United Kingdom
	"840": {-600, -240}, // United States (Hawaii to the east coast)
}

// zoneSlack is how far outside its country's range a browser clock may be before the rule
// fires: an hour covers neighbours' zones, a border crossing and odd DST dates.
const zoneSlack = 60

// browserTimeZone fires when the browser's clock (browserTZ, minutes behind UTC as JavaScript's
// getTimezoneOffset gives it) is far from every zone of the card's billing country.
func browserTimeZone(_ *ruleConfig, v *view, r *Reason) bool {
	country := v.f.BillingCountry
	if country == "" {
		country = v.a.BillAddrCountry
	}
	zr, ok := countryZones[country]
	if !ok || v.threeRI || v.a.BrowserTZ == "" || len(v.a.BrowserTZ) > 5 {
		return false
	}
	behind, err := strconv.Atoi(v.a.BrowserTZ)
	if err != nil {
		return false
	}
	east := -behind
	if east >= int(zr.lo)-zoneSlack && east <= int(zr.hi)+zoneSlack {
		return false
	}
	return fire(r, "browser clock at UTC"+offset(east)+" is far from the card's country "+country, "")
}

// offset writes minutes east of UTC as +9 or -3:30.
func offset(east int) string {
	sign := "+"
	if east < 0 {
		sign, east = "-", -east
	}
	s := sign + strconv.Itoa(east/60)
	if m := east % 60; m != 0 {
		s += ":" + strconv.Itoa(m/10) + strconv.Itoa(m%10)
	}
	return s
}
