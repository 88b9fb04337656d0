package risk

import (
	"encoding/hex"
	"maps"
)

// RuleSetting is one rule as a policy runs it, for showing to people (the ACS console): the
// rule's name, its points, and its one parameter or list when it has one. It is a copy: changing
// it changes no policy.
type RuleSetting struct {
	Name   string
	Points int
	// Param is the YAML key of the rule's numeric parameter ("over", "multiple_of_usual"), "" when
	// the rule takes none; Value is its value.
	Param string
	Value int64
	// ListName is the YAML key of the rule's list ("mccs", "sources"), "" when it takes none.
	ListName string
	List     []string
	// Exemption says the rule lowers the score but never rescues a denial.
	Exemption bool
}

// Rules lists the rules the policy has on, in evaluation order.
func (p *Policy) Rules() []RuleSetting {
	var out []RuleSetting
	for i := range p.rules {
		c, d := p.rules[i], &ruleDefs[i]
		if !c.On {
			continue
		}
		s := RuleSetting{Name: d.name, Points: c.Points, Param: d.param, ListName: d.list, Exemption: d.exemption}
		if d.param != "" {
			s.Value = c.N
		}
		if d.list != "" {
			s.List = append([]string(nil), c.List...)
		}
		out = append(out, s)
	}
	return out
}

// Version is the start of the SHA-256 of the policy file the set was read from, as the reload's
// log line prints it, so an operator can tell which file is in force; "builtin" for DefaultSet.
func (s *Set) Version() string {
	snap := s.cur.Load()
	if snap == nil || snap == builtin {
		return "builtin"
	}
	return hex.EncodeToString(snap.sum[:8])
}

// ShadowsLive returns a set in which every issuer's live policy is its shadow policy here, where it
// has one, and its live policy otherwise; the new set has no shadows. A backtest of the shadow
// policies replays through it. It is a snapshot: later reloads of s do not reach it.
func (s *Set) ShadowsLive() *Set {
	snap := s.cur.Load()
	if snap == nil {
		snap = builtin
	}
	promote := func(ip issuerPolicies) issuerPolicies {
		if ip.shadow != nil {
			return issuerPolicies{live: ip.shadow}
		}
		return issuerPolicies{live: ip.live}
	}
	next := &snapshot{def: promote(snap.def), issuers: maps.Clone(snap.issuers), sum: snap.sum}
	for k, ip := range next.issuers {
		next.issuers[k] = promote(ip)
	}
	out := &Set{}
	out.cur.Store(next)
	return out
}
