package ds

import (
	"crypto/tls"
	"embed"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/console"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/store"
)

// The DS's console pages: the scheme's participants (ACSs, 3DS Servers, card ranges) and its
// analytics. They read the same registry the admin API changes.

//go:embed console_templates/*.html
var consoleFiles embed.FS

var (
	acsListPage    = console.ParsePage(consoleFiles, "console_templates/acs_list.html")
	acsPage        = console.ParsePage(consoleFiles, "console_templates/acs.html")
	serverListPage = console.ParsePage(consoleFiles, "console_templates/servers.html")
	serverPage     = console.ParsePage(consoleFiles, "console_templates/server.html")
	rangesPage     = console.ParsePage(consoleFiles, "console_templates/ranges.html")
)

// ConsoleOptions is what the DS's console pages read.
type ConsoleOptions struct {
	Store Store
	DB    *store.DB
	// NotEnrolled and Unavailable are the DS configuration's stand-in policies, which override the
	// scheme's when set.
	NotEnrolled, Unavailable Policy
	// TLS is the DS's own certificate as loaded; CertFiles are the other certificates it relies on
	// (the scheme CA, the sdkEncData keys'), read afresh for each view of the page.
	TLS       *tls.Certificate
	CertFiles []CertFile
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// AddConsole adds the DS's pages to its console.
func AddConsole(c *console.Console, o ConsoleOptions) {
	if o.Now == nil {
		o.Now = time.Now
	}
	p := &consolePages{o: o, a: newAnalytics(o.DB)}
	c.Page(console.NavItem{Path: "/acs", Label: "ACSs", Group: "Participants"}, console.ReadOnly, p.acsList)
	c.Page(console.NavItem{Path: "/acs/{name}"}, console.ReadOnly, p.acs)
	c.Page(console.NavItem{Path: "/3dss", Label: "3DS Servers", Group: "Participants"}, console.ReadOnly, p.serverList)
	c.Page(console.NavItem{Path: "/3dss/{name}"}, console.ReadOnly, p.server)
	c.Page(console.NavItem{Path: "/acs-health", Label: "ACS health", Group: "Participants"}, console.ReadOnly, p.health)
	c.Page(console.NavItem{Path: "/ranges", Label: "Card ranges", Group: "Participants"}, console.ReadOnly, p.ranges)
	c.Page(console.NavItem{Path: "/stand-in", Label: "Stand-in policy", Group: "Scheme"}, console.ReadOnly, p.standIn)
	c.Action("/stand-in", console.Operator, p.changeStandIn)
	c.Page(console.NavItem{Path: "/certificates", Label: "Certificates", Group: "Scheme"}, console.ReadOnly, p.certs)
	c.Page(console.NavItem{Path: "/analytics", Label: "Analytics", Group: "Analytics"}, console.ReadOnly, p.analytics)
}

type consolePages struct {
	o ConsoleOptions
	a *analytics
}

// acsRow is an ACS with how many card ranges it serves.
type acsRow struct {
	ACS
	Ranges int
}

func (p *consolePages) acsList(r *console.Request) (console.View, error) {
	list, err := p.o.Store.ListACS(r.Context())
	if err != nil {
		return console.View{}, err
	}
	ranges, _, err := p.o.Store.Ranges(r.Context())
	if err != nil {
		return console.View{}, err
	}
	n := map[string]int{}
	for _, rg := range ranges {
		n[rg.ACS]++
	}
	rows := make([]acsRow, len(list))
	for i, a := range list {
		rows[i] = acsRow{ACS: a, Ranges: n[a.Name]}
	}
	return console.View{Title: "ACSs", Template: acsListPage, Data: rows}, nil
}

func (p *consolePages) acs(r *console.Request) (console.View, error) {
	a, err := p.o.Store.ACS(r.Context(), r.PathValue("name"))
	if errors.Is(err, store.ErrNotFound) {
		return console.View{}, httpx.NewProblem(http.StatusNotFound, "no ACS of that name is registered")
	} else if err != nil {
		return console.View{}, err
	}
	ranges, _, err := p.o.Store.Ranges(r.Context())
	if err != nil {
		return console.View{}, err
	}
	var its []Range
	for _, rg := range ranges {
		if rg.ACS == a.Name {
			its = append(its, rg)
		}
	}
	return console.View{Title: "ACS " + a.Name, Template: acsPage, Data: map[string]any{"ACS": a, "Ranges": its}}, nil
}

func (p *consolePages) serverList(r *console.Request) (console.View, error) {
	list, err := p.o.Store.ListThreeDSServers(r.Context())
	if err != nil {
		return console.View{}, err
	}
	return console.View{Title: "3DS Servers", Template: serverListPage, Data: list}, nil
}

func (p *consolePages) server(r *console.Request) (console.View, error) {
	s, err := p.o.Store.ThreeDSServer(r.Context(), r.PathValue("name"))
	if errors.Is(err, store.ErrNotFound) {
		return console.View{}, httpx.NewProblem(http.StatusNotFound, "no 3DS Server of that name is registered")
	} else if err != nil {
		return console.View{}, err
	}
	return console.View{Title: "3DS Server " + s.Name, Template: serverPage, Data: s}, nil
}

// rangesData is the card-range list, filtered by a BIN prefix (digits only).
type rangesData struct {
	BIN     string
	Problem string
	Ranges  []Range
	Total   int
}

func (p *consolePages) ranges(r *console.Request) (console.View, error) {
	bin := strings.TrimSpace(r.URL.Query().Get("bin"))
	d := rangesData{BIN: bin}
	if strings.Trim(bin, "0123456789") != "" || len(bin) > 19 {
		d.Problem, bin = "The BIN is the first digits of a card number (up to 19 digits): every range is shown.", ""
	}
	all, _, err := p.o.Store.Ranges(r.Context())
	if err != nil {
		return console.View{}, err
	}
	d.Total = len(all)
	for _, rg := range all {
		if rangeHasPrefix(rg, bin) {
			d.Ranges = append(d.Ranges, rg)
		}
	}
	return console.View{Title: "Card ranges", Template: rangesPage, Data: d}, nil
}

// rangeHasPrefix reports whether some card number of rg starts with prefix: whether the span of
// numbers starting with prefix (at rg's length) meets rg.
func rangeHasPrefix(rg Range, prefix string) bool {
	if prefix == "" {
		return true
	}
	n := len(rg.Start)
	if len(prefix) > n {
		return false
	}
	lo := prefix + strings.Repeat("0", n-len(prefix))
	hi := prefix + strings.Repeat("9", n-len(prefix))
	return lo <= rg.End && rg.Start <= hi
}
