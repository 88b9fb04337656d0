package ds

import (
	"fmt"
	"strings"

	"github.com/open3ds/open3ds/internal/console"
)

var standInPage = console.ParsePage(consoleFiles, "console_templates/standin.html")

// standInCase is one situation the DS stands in for: the scheme's policy for it, and the DS's own
// configuration's, which wins when set.
type standInCase struct {
	Field, Name, When string
	Scheme, Override  Policy
}

// Effective is the policy the DS applies.
func (c standInCase) Effective() Policy {
	if c.Override.Valid() {
		return c.Override
	}
	return c.Scheme
}

type standInData struct {
	Cases    []standInCase
	Policies []Policy
}

var policies = []Policy{PolicyAttempts, PolicyUnavailable, PolicyNotEnrolled}

func (p *consolePages) standInCases(sc Scheme) []standInCase {
	return []standInCase{
		{Field: "not_enrolled", Name: "Card in no range", When: "the card number lies in no registered card range",
			Scheme: sc.NotEnrolled, Override: p.o.NotEnrolled},
		{Field: "unavailable", Name: "ACS unavailable", When: "the card's ACS does not answer, or not in time",
			Scheme: sc.Unavailable, Override: p.o.Unavailable},
	}
}

func (p *consolePages) standIn(r *console.Request) (console.View, error) {
	sc, err := p.o.Store.Scheme(r.Context())
	if err != nil {
		return console.View{}, err
	}
	return console.View{Title: "Stand-in policy", Template: standInPage,
		Data: standInData{Cases: p.standInCases(sc), Policies: policies}}, nil
}

// changeStandIn sets the scheme's stand-in policies, as PUT /v1/scheme does, leaving its other
// settings as they are.
func (p *consolePages) changeStandIn(r *console.Request) (console.Change, error) {
	sc, err := p.o.Store.Scheme(r.Context())
	if err != nil {
		return console.Change{}, err
	}
	next := sc
	for _, f := range []struct {
		field string
		to    *Policy
	}{{"not_enrolled", &next.NotEnrolled}, {"unavailable", &next.Unavailable}} {
		v := Policy(strings.TrimSpace(r.PostFormValue(f.field)))
		if !v.Valid() {
			return console.Change{}, &console.FieldError{Field: f.field, Problem: "must be attempts, unavailable or not-enrolled"}
		}
		*f.to = v
	}
	if next.NotEnrolled == sc.NotEnrolled && next.Unavailable == sc.Unavailable {
		return console.Change{Unchanged: true, Notice: "The stand-in policy is as it was.", Redirect: "/stand-in"}, nil
	}
	before, after, err := p.o.Store.SetStandIn(r.Context(), next.NotEnrolled, next.Unavailable)
	if err != nil {
		return console.Change{}, err
	}
	detail := fmt.Sprintf("not enrolled %s → %s; ACS unavailable %s → %s", before.NotEnrolled, after.NotEnrolled,
		before.Unavailable, after.Unavailable)
	notice := "The scheme's stand-in policy is changed."
	if p.o.NotEnrolled.Valid() || p.o.Unavailable.Valid() {
		notice += " This DS's configuration still overrides it where shown."
	}
	return console.Change{Action: "scheme.stand-in", Target: "scheme", Detail: detail, Notice: notice, Redirect: "/stand-in"}, nil
}
