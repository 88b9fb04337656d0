package acs

import (
	"strings"

	"github.com/open3ds/open3ds/internal/console"
	"github.com/open3ds/open3ds/internal/otp"
)

var issuersPage = console.ParsePage(consoleFiles, "console_templates/issuers.html")

type issuerItem struct {
	Issuer
	// Codes is the code policy the issuer's challenges run under: its own limits over the ACS's.
	Codes            otp.Policy
	Lifetime, Window string
	CoolDown         string
	Ranges           []string
}

// rangeText writes a card range shorter, as BINs: the start's padding 0s and the end's padding 9s
// go together, down to six digits, so the range stays exactly the same PANs.
func rangeText(r CardRange) string {
	start, end := r.Start, r.End
	for len(start) > 6 && len(start) == len(end) && strings.HasSuffix(start, "0") && strings.HasSuffix(end, "9") {
		start, end = start[:len(start)-1], end[:len(end)-1]
	}
	return start + "–" + end
}

// issuers shows each issuer's settings, read-only: the admin API changes them.
func (p *consolePages) issuers(r *console.Request) (console.View, error) {
	list, err := p.st.Issuers(r.Context())
	if err != nil {
		return console.View{}, err
	}
	items := make([]issuerItem, 0, len(list))
	for _, is := range list {
		c := issuerCodePolicy(p.lock, is)
		items = append(items, issuerItem{Issuer: is, Codes: c, Lifetime: spanText(c.Lifetime), Window: spanText(c.CardLockWindow),
			CoolDown: spanText(c.ResendCoolDown)})
		for _, rg := range is.Ranges {
			items[len(items)-1].Ranges = append(items[len(items)-1].Ranges, rangeText(rg))
		}
	}
	return console.View{Title: "Issuers", Template: issuersPage, Data: items}, nil
}
