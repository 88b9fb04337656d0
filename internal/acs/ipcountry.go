package acs

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
)

// IPCountries maps IP addresses to countries from a table the ACS's operator loads: one network and
// its ISO 3166-1 alpha-2 country a line ("203.0.113.0/24,JP"), as the CSV exports of IP-location
// databases give them; blank lines and lines starting with # are skipped, and so is a header line
// whose first field is not a network. The ACS ships no such data: without a table, no IP has a
// country and the locale rule stays silent.
type IPCountries struct {
	ranges []ipRange // sorted by first address; the networks of one table do not overlap
}

type ipRange struct {
	first, last netip.Addr
	country     string
}

// ParseIPCountries reads a table. An error names the line that is wrong.
func ParseIPCountries(r io.Reader) (*IPCountries, error) {
	c := &IPCountries{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		network, country, ok := strings.Cut(line, ",")
		network, country = strings.TrimSpace(network), strings.ToUpper(strings.TrimSpace(country))
		if i := strings.IndexByte(country, ','); i >= 0 {
			country = strings.TrimSpace(country[:i]) // further columns (names, continents) are not read
		}
		p, err := netip.ParsePrefix(network)
		if err != nil && n == 1 {
			continue // a header
		}
		if !ok || err != nil || len(country) != 2 || country[0] < 'A' || country[0] > 'Z' || country[1] < 'A' || country[1] > 'Z' {
			return nil, fmt.Errorf("acs: IP country table, line %d: want NETWORK,CC (e.g. 203.0.113.0/24,JP)", n)
		}
		p = p.Masked()
		c.ranges = append(c.ranges, ipRange{first: p.Addr(), last: lastAddr(p), country: country})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("acs: IP country table: %w", err)
	}
	slices.SortFunc(c.ranges, func(a, b ipRange) int { return a.first.Compare(b.first) })
	return c, nil
}

// lastAddr is the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// Len is the number of networks in the table.
func (c *IPCountries) Len() int {
	if c == nil {
		return 0
	}
	return len(c.ranges)
}

// Country is ip's country, or "" when ip is not an address or lies in no network of the table
// (a nil table knows none). IPv4 addresses written as IPv6 (::ffff:…) are looked up as IPv4.
func (c *IPCountries) Country(ip string) string {
	if c == nil || len(c.ranges) == 0 {
		return ""
	}
	a, err := netip.ParseAddr(strings.TrimSpace(ip))
	if err != nil {
		return ""
	}
	a = a.Unmap()
	// The last network starting at or before a is the only one that can hold it.
	i, found := slices.BinarySearchFunc(c.ranges, a, func(r ipRange, a netip.Addr) int { return r.first.Compare(a) })
	if !found {
		i--
	}
	if i < 0 || c.ranges[i].last.Compare(a) < 0 || c.ranges[i].first.Is4() != a.Is4() {
		return ""
	}
	return c.ranges[i].country
}

// LocaleCountry is the region of a locale or language tag ("fr-FR", "fr_FR", "en-Latn-GB"), upper
// case, or "" when it names none.
func LocaleCountry(tag string) string {
	parts := strings.FieldsFunc(tag, func(r rune) bool { return r == '-' || r == '_' || r == '.' || r == '@' })
	for _, p := range parts[min(1, len(parts)):] {
		if len(p) == 2 && isLetters(p) {
			return strings.ToUpper(p)
		}
	}
	return ""
}

func isLetters(s string) bool {
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}
