package acs_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/risk"
)

const ipTable = `network,country_iso_code,country_name
# a few networks of the documentation ranges
203.0.113.0/24,JP,Japan
198.51.100.0/25,fr
198.51.100.128/25,DE
2001:db8::/32,GB
`

func TestIPCountriesFindsTheNetworkOfAnAddress(t *testing.T) {
	c, err := acs.ParseIPCountries(strings.NewReader(ipTable))
	if err != nil || c.Len() != 4 {
		t.Fatalf("parsed %d networks, %v", c.Len(), err)
	}
	for ip, want := range map[string]string{"203.0.113.7": "JP", "203.0.113.255": "JP", "203.0.114.1": "", "198.51.100.5": "FR",
		"198.51.100.200": "DE", "::ffff:203.0.113.9": "JP", "2001:db8::1": "GB", "2001:db9::1": "", "10.0.0.1": "", "nope": "", "": ""} {
		if got := c.Country(ip); got != want {
			t.Errorf("%q: %q, want %q", ip, got, want)
		}
	}
	var none *acs.IPCountries
	if none.Country("203.0.113.7") != "" {
		t.Errorf("no table knows a country")
	}
	for _, bad := range []string{"203.0.113.0/24,JP\n198.51.100.0/24,Japan\n", "203.0.113.0/24,JP\nnot a network,FR\n", "203.0.113.0/24\n"} {
		if _, err := acs.ParseIPCountries(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "line") {
			t.Errorf("%q: %v, want an error naming the line", bad, err)
		}
	}
}

func TestLocaleCountryReadsTheRegionOfATag(t *testing.T) {
	for tag, want := range map[string]string{"fr-FR": "FR", "fr_FR": "FR", "en-Latn-GB": "GB", "ja": "", "": "", "de-DE.UTF-8": "DE", "x": ""} {
		if got := acs.LocaleCountry(tag); got != want {
			t.Errorf("%q: %q, want %q", tag, got, want)
		}
	}
}

// TestADeviceWhoseLocaleAndIPDisagreeIsNamed: with the operator's IP table loaded, an app whose
// device is set to France but whose address is in Japan, and a browser likewise, get the
// locale_ip_country reason; the same device on a French address does not.
func TestADeviceWhoseLocaleAndIPDisagreeIsNamed(t *testing.T) {
	e := newACS(t)
	e.svc.Risk = acs.Risk(risk.DefaultSet())
	var err error
	if e.svc.IPCountries, err = acs.ParseIPCountries(strings.NewReader(ipTable)); err != nil {
		t.Fatal(err)
	}
	reasons := func(set map[string]any, sample string) string {
		t.Helper()
		set["acctNumber"] = panEnrolled
		ares, ok := post(t, e.ds, e.url, areq(t, "2.2.0", sample, set)).(*emv.ARes)
		if !ok {
			t.Fatal("no ARes")
		}
		tx, err := e.store.Transaction(t.Context(), ares.ACSTransID)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(tx.Reasons, "; ")
	}
	app := func(ip string) map[string]any {
		info := `{"DV":"1.7","DD":{"C001":"Android","C005":"fr-FR","C010":"` + ip + `"},"DPNA":{},"SW":[]}`
		return map[string]any{"deviceInfo": base64.RawURLEncoding.EncodeToString([]byte(info))}
	}
	const want = "device locale country FR differs from its IP address's country JP"
	if got := reasons(app("203.0.113.7"), "areq-app-pa"); !strings.Contains(got, want) {
		t.Errorf("app in Japan set to French: %q", got)
	}
	if got := reasons(app("198.51.100.5"), "areq-app-pa"); strings.Contains(got, "locale_ip_country") {
		t.Errorf("app in France set to French: %q", got)
	}
	if got := reasons(map[string]any{"browserLanguage": "fr-FR", "browserIP": "203.0.113.7"}, "areq-browser-pa"); !strings.Contains(got, want) {
		t.Errorf("browser in Japan set to French: %q", got)
	}
}

// FuzzParseIPCountries: any table either parses into networks whose lookups never panic, or is
// refused with the line named.
func FuzzParseIPCountries(f *testing.F) {
	f.Add(ipTable, "203.0.113.7")
	f.Fuzz(func(t *testing.T, table, ip string) {
		c, err := acs.ParseIPCountries(strings.NewReader(table))
		if err != nil {
			if !strings.Contains(err.Error(), "line") && !strings.Contains(err.Error(), "table") {
				t.Fatalf("an error that names nothing: %v", err)
			}
			return
		}
		if got := c.Country(ip); got != "" && len(got) != 2 {
			t.Fatalf("country %q", got)
		}
	})
}
