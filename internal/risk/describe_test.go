package risk_test

import (
	"slices"
	"testing"

	"github.com/open3ds/open3ds/internal/risk"
)

const describedRules = `
default:
  live: {name: base, rules: {large_amount: {over: 500, points: 120}, risky_mcc: {mccs: ["7995"]}, exemption: }}
issuers:
  bank-a:
    shadow: {name: bank-a-next, extends: default, deny_above: 650, rules: {new_device: {points: 200}}}
`

// The console shows a policy through Rules: only the rules that are on, each with its points and
// its parameter or list as the file set them.
func TestRulesListWhatAPolicyRuns(t *testing.T) {
	s, err := risk.ParseSet([]byte(describedRules))
	if err != nil {
		t.Fatal(err)
	}
	live, _ := s.Policies("anyone")
	got := live.Rules()
	want := []risk.RuleSetting{
		{Name: "large_amount", Points: 120, Param: "over", Value: 500},
		{Name: "risky_mcc", Points: 150, ListName: "mccs", List: []string{"7995"}},
		{Name: "exemption", Points: -150, Exemption: true},
	}
	if !slices.EqualFunc(got, want, func(a, b risk.RuleSetting) bool {
		return a.Name == b.Name && a.Points == b.Points && a.Param == b.Param && a.Value == b.Value &&
			a.ListName == b.ListName && slices.Equal(a.List, b.List) && a.Exemption == b.Exemption
	}) {
		t.Fatalf("rules\n got %+v\nwant %+v", got, want)
	}
	// The list is a copy: changing it changes no policy.
	got[1].List[0] = "0000"
	if again := live.Rules(); again[1].List[0] != "7995" {
		t.Fatalf("changing the view changed the policy: %v", again[1].List)
	}
	if risk.DefaultSet().Version() != "builtin" {
		t.Errorf("the built-in set's version is %q", risk.DefaultSet().Version())
	}
	if v := s.Version(); len(v) != 16 || v == "builtin" {
		t.Errorf("a parsed set's version is %q, want 16 hex digits", v)
	}
}

// A backtest of the shadow policies replays through ShadowsLive: an issuer's shadow becomes its
// live policy, an issuer without one keeps its live policy, and no shadow is left.
func TestShadowsLivePromotesEachIssuersShadow(t *testing.T) {
	s, err := risk.ParseSet([]byte(describedRules))
	if err != nil {
		t.Fatal(err)
	}
	p := s.ShadowsLive()
	if live, shadow := p.Policies("bank-a"); live.Name() != "bank-a-next" || shadow != nil {
		t.Errorf("bank-a: live %q, shadow %v; want bank-a-next and none", live.Name(), shadow)
	}
	if _, t2 := func() (int, int) { l, _ := p.Policies("bank-a"); return l.Thresholds() }(); t2 != 650 {
		t.Errorf("bank-a's promoted shadow denies above %d, want 650", t2)
	}
	if live, shadow := p.Policies("other"); live.Name() != "base" || shadow != nil {
		t.Errorf("an issuer without a shadow: live %q, shadow %v; want base and none", live.Name(), shadow)
	}
	// The original set is untouched.
	if live, shadow := s.Policies("bank-a"); live.Name() != "base" || shadow == nil || shadow.Name() != "bank-a-next" {
		t.Errorf("the original set changed: live %q, shadow %v", live.Name(), shadow)
	}
}
