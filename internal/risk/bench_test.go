package risk_test

import (
	"testing"

	"github.com/open3ds/open3ds/internal/risk"
)

// BenchmarkEvaluate measures one decision with the default policy: an ordinary purchase on which
// no rule fires, a risky one on which several fire (and format texts), and an issuer with a
// shadow policy, which costs a second evaluation.
func BenchmarkEvaluate(b *testing.B) {
	risky := ordinary()
	high(&risky)
	withShadow, err := risk.LoadSet("testdata/policy.yaml")
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name   string
		set    *risk.Set
		issuer string
		in     risk.Input
	}{
		{"ordinary", risk.DefaultSet(), "bank", ordinary()},
		{"risky", risk.DefaultSet(), "bank", risky},
		{"ordinary with shadow", withShadow, "demo-bank", ordinary()},
		{"risky with shadow", withShadow, "demo-bank", risky},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				live, _ := c.set.Evaluate(c.issuer, c.in)
				if live.Outcome == "" {
					b.Fatal("no outcome")
				}
			}
		})
	}
}

func BenchmarkEvaluateParallel(b *testing.B) {
	set := risk.DefaultSet()
	in := ordinary()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			set.Evaluate("bank", in)
		}
	})
}
