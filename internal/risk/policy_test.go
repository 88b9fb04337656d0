package risk_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/risk"
)

func TestExamplePolicyFileLoads(t *testing.T) {
	s, err := risk.LoadSet("testdata/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		issuer       string
		live, shadow string
		t1, t2       int
	}{
		{"unknown-bank", "default-2026-11", "", 300, 700},
		{"demo-bank", "default-2026-11", "demo-bank-stricter", 300, 700},
		{"lean-bank", "lean-bank-v3", "", 350, 800},
		{"minimal-bank", "minimal-bank", "", 200, 600},
	}
	for _, tc := range cases {
		live, shadow := s.Policies(tc.issuer)
		if live.Name() != tc.live {
			t.Errorf("%s: live policy %q, want %q", tc.issuer, live.Name(), tc.live)
		}
		if got := ""; shadow != nil || tc.shadow != "" {
			if shadow != nil {
				got = shadow.Name()
			}
			if got != tc.shadow {
				t.Errorf("%s: shadow policy %q, want %q", tc.issuer, got, tc.shadow)
			}
		}
		if t1, t2 := live.Thresholds(); t1 != tc.t1 || t2 != tc.t2 {
			t.Errorf("%s: thresholds %d/%d, want %d/%d", tc.issuer, t1, t2, tc.t1, tc.t2)
		}
	}
}

// TestPolicyRulesApplyPerIssuer checks that an issuer's own rule values, extensions and
// switched-off rules take effect.
func TestPolicyRulesApplyPerIssuer(t *testing.T) {
	s, err := risk.LoadSet("testdata/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	in := ordinary()
	in.Facts.TxLastHour = 5
	in.Facts.DeviceKnown = false

	def, _ := s.Evaluate("unknown-bank", in)
	lean, _ := s.Evaluate("lean-bank", in)
	minimal, _ := s.Evaluate("minimal-bank", in)
	if _, ok := reason(def, "velocity_hour"); !ok || def.Outcome != risk.Challenge {
		t.Errorf("default: 5 an hour should be too many and challenged, got %s %+v", def.Outcome, def.Reasons)
	}
	if _, ok := reason(lean, "velocity_hour"); ok || lean.Outcome != risk.Frictionless {
		t.Errorf("lean-bank allows 5 an hour, got %s %+v", lean.Outcome, lean.Reasons)
	}
	if _, ok := reason(minimal, "new_device"); ok {
		t.Errorf("minimal-bank does not list new_device, yet it fired: %+v", minimal.Reasons)
	}
	if r, ok := reason(minimal, "velocity_hour"); !ok || r.Points != 250 || minimal.Outcome != risk.Challenge {
		t.Errorf("minimal-bank: want velocity_hour at 250 points and a challenge, got %s %+v", minimal.Outcome, minimal.Reasons)
	}
}

func TestShadowIsEvaluatedBesideLive(t *testing.T) {
	s, err := risk.LoadSet("testdata/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	in := ordinary()
	in.Facts.DeviceKnown = false // 150 live; 200 in demo-bank's shadow
	in.AReq.AddrMatch = "N"      // +50 in both
	live, shadow := s.Evaluate("demo-bank", in)
	if shadow == nil {
		t.Fatal("demo-bank has a shadow policy but no shadow result came back")
	}
	if live.Policy != "default-2026-11" || live.Score != 200 || live.Outcome != risk.Frictionless {
		t.Errorf("live: got %s %d %s, want default-2026-11 200 frictionless", live.Policy, live.Score, live.Outcome)
	}
	if shadow.Policy != "demo-bank-stricter" || shadow.Score != 250 || shadow.Outcome != risk.Challenge {
		t.Errorf("shadow: got %s %d %s, want demo-bank-stricter 250 challenge", shadow.Policy, shadow.Score, shadow.Outcome)
	}
	if _, other := s.Evaluate("lean-bank", in); other != nil {
		t.Errorf("lean-bank has no shadow, got %+v", *other)
	}
}

func TestPolicyErrorsNameTheKeyAndLine(t *testing.T) {
	cases := []struct {
		name string
		yml  string
		line int
		want string
	}{
		{"an unknown rule is refused", "default:\n  live:\n    rules:\n      high_amout: {points: 1}\n", 4, "default.live.rules.high_amout: unknown rule"},
		{"an unknown parameter is refused", "default:\n  live:\n    rules:\n      high_amount: {over: 1}\n", 4, "default.live.rules.high_amount.over: unknown key"},
		{"a word where points go is refused", "issuers:\n  b:\n    live:\n      rules:\n        new_device:\n          points: lots\n", 6, `issuers.b.live.rules.new_device.points: want a whole number, got "lots"`},
		{"points beyond 1000 are refused", "default:\n  live:\n    rules:\n      new_device: {points: 5000}\n", 4, "out of range"},
		{"an unknown top-level key is refused", "defaults:\n  live: {}\n", 1, "defaults: unknown key"},
		{"thresholds in the wrong order are refused", "default:\n  live:\n    frictionless_below: 500\n    deny_above: 400\n", 3, "deny_above (400) must not be below frictionless_below (500)"},
		{"an unknown extends is refused", "default:\n  live:\n    extends: other\n", 3, "want builtin or default"},
		{"a malformed MCC is refused", "default:\n  live:\n    rules:\n      risky_mcc: {mccs: [79]}\n", 4, "four-digit code"},
		{"a status source of three digits is refused", "default:\n  live:\n    rules:\n      trust_list: {sources: [\"003\"]}\n", 4, "two-digit code"},
		{"a FIDO login window over a day is refused", "default:\n  live:\n    rules:\n      fido_login: {within_minutes: 1441}\n", 4, "out of range 1 to 1440"},
		{"a rule defined twice is refused", "default:\n  live:\n    rules:\n      reorder: {}\n      reorder: {}\n", 5, "defined twice"},
		{"enabled must be a boolean", "default:\n  live:\n    rules:\n      reorder: {enabled: maybe}\n", 4, "want true or false"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := risk.ParseSet([]byte(tc.yml))
			var pe *risk.PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want a *risk.PolicyError", err)
			}
			if pe.Line != tc.line || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %q (line %d), want line %d and %q", err, pe.Line, tc.line, tc.want)
			}
		})
	}
}

func TestBrokenYAMLNamesTheLine(t *testing.T) {
	for _, yml := range []string{"default:\n  live:\n    rules: [\n", "default:\n\tlive: {}\n"} {
		_, err := risk.ParseSet([]byte(yml))
		if err == nil || !strings.Contains(err.Error(), "line") {
			t.Errorf("%q: got %v, want an error naming the line", yml, err)
		}
	}
	if _, err := risk.ParseSet([]byte("# only a comment\n")); err == nil {
		t.Error("an empty file was accepted")
	}
}

func TestLoadSetNamesTheFile(t *testing.T) {
	_, err := risk.LoadSet("testdata/does-not-exist.yaml")
	if err == nil || !strings.Contains(err.Error(), "does-not-exist.yaml") {
		t.Fatalf("got %v, want an error naming the file", err)
	}
}

func TestListedRuleWithoutValuesUsesDefaults(t *testing.T) {
	s := mustParse(t, "default:\n  live:\n    rules:\n      velocity_hour:\n")
	in := ordinary()
	in.Facts.TxLastHour = 4
	live, _ := s.Evaluate("x", in)
	if r, ok := reason(live, "velocity_hour"); !ok || r.Points != 350 || len(live.Reasons) != 1 {
		t.Fatalf("want only velocity_hour with its default 350 points, got %+v", live.Reasons)
	}
}

// TestEveryRuleIsDocumented keeps README.md and the example file in step with the engine.
func TestEveryRuleIsDocumented(t *testing.T) {
	for _, file := range []string{"README.md", "testdata/policy.yaml"} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range risk.RuleNames() {
			if !strings.Contains(string(data), name) {
				t.Errorf("%s does not mention rule %s", file, name)
			}
		}
	}
}
