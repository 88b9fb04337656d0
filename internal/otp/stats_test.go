package otp_test

import (
	"bytes"
	"crypto/rand"
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	mrand "math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/otp"
)

// A draw at or above the largest multiple of a million below 2^32 must be thrown away, not folded
// onto the low codes.
func TestDrawsAboveTheLastFullRangeAreRejected(t *testing.T) {
	// 2^64 mod 10^6 is 551616, so the incomplete block starts at 2^64-551616 = 0xFFFFFFFFFFF79540.
	src := bytes.NewReader([]byte{
		0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
		0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xF7, 0x95, 0x40,
		0, 0, 0, 0, 0, 0, 0, 7,
	})
	code, _, err := newCodes(t).WithRand(src).Issue(otp.State{TransactionID: "t"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	// Under a plain modulo the first two draws would give 551615 and 000000.
	if code != "000007" {
		t.Fatalf("code = %s, want 000007 from the third draw", code)
	}
}

// TestCodesAreUniform runs a chi-square test over the first three and the last three digits of
// many codes from crypto/rand. With 999 degrees of freedom the statistic has mean 999 and standard
// deviation about 45; the bound is eight deviations, generous enough never to flake.
func TestCodesAreUniform(t *testing.T) {
	c := newCodes(t).WithRand(rand.Reader)
	const draws, buckets = 100_000, 1000
	var high, low [buckets]int
	for range draws {
		code, _, err := c.Issue(otp.State{TransactionID: "t"}, t0)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(code)
		high[n/1000]++
		low[n%1000]++
	}
	bound := 999 + 8*math.Sqrt(2*999)
	for name, counts := range map[string]*[buckets]int{"leading digits": &high, "trailing digits": &low} {
		want := float64(draws) / buckets
		chi := 0.0
		for _, got := range counts {
			d := float64(got) - want
			chi += d * d / want
		}
		if chi > bound {
			t.Errorf("%s: chi-square %.0f > %.0f", name, chi, bound)
		}
	}
}

// TestGuessingChance computes the chance that someone who does not have the code gets in, and
// checks it against a simulation of guessing strategies.
func TestGuessingChance(t *testing.T) {
	p := newCodes(t).Policy()
	// Each entry is checked against a code drawn uniformly from a million; resends draw a new code
	// but never add entries, so at most MaxWrong guesses each succeed with chance 1e-6.
	chance := 1 - math.Pow(1-1e-6, float64(p.MaxWrong))
	if chance > 3e-6 {
		t.Fatalf("computed chance %.3g per transaction exceeds 3 in a million", chance)
	}
	strategies := []struct {
		name  string
		guess func(r *mrand.Rand, attempt int) string
		// resend asks for a new code before every guess after the first.
		resend bool
	}{
		{"always 000000", func(*mrand.Rand, int) string { return "000000" }, false},
		{"distinct guesses 123456, 123457, …", func(_ *mrand.Rand, i int) string { return strconv.Itoa(123456 + i) }, false},
		{"random guesses", func(r *mrand.Rand, _ int) string { return strconv.Itoa(100000 + r.IntN(900000)) }, false},
		{"a resend before every guess", func(*mrand.Rand, int) string { return "111111" }, true},
	}
	const transactions = 20_000
	for _, s := range strategies {
		t.Run(s.name, func(t *testing.T) {
			seed := [32]byte{42}
			c := newCodes(t).WithRand(mrand.NewChaCha8(seed))
			r := mrand.New(mrand.NewPCG(1, 2))
			hits, checked := 0, 0
			for tx := range transactions {
				_, st, _ := c.Issue(otp.State{TransactionID: strconv.Itoa(tx)}, t0)
				now := t0
				// The attacker keeps going until the ACS ends the challenge, up to 20 tries.
				for i := 0; i < 20 && !st.Finished; i++ {
					if s.resend && i > 0 {
						now = now.Add(30 * time.Second)
						_, st, _ = c.Resend(st, now)
					}
					var out otp.Outcome
					out, st = c.Check(st, s.guess(r, i), now, 0)
					checked++
					if out.Result == otp.Accepted {
						hits++
					}
				}
			}
			if perTx := float64(checked) / transactions; perTx > float64(p.MaxWrong) {
				t.Fatalf("%.2f entries were checked per transaction, more than %d", perTx, p.MaxWrong)
			}
			// Expected hits: 20,000 × 3e-6 = 0.06. Poisson(0.06) exceeds 2 with chance below 1e-4.
			if hits > 2 {
				t.Fatalf("%d of %d transactions guessed in (rate %.2g), far above 3e-6", hits, transactions, float64(hits)/transactions)
			}
			t.Logf("%d hits in %d transactions, %d entries", hits, transactions, checked)
		})
	}
}

// TestCodesAreComparedInConstantTime reads the package source and checks that the code hash is
// compared with hmac.Equal and never with bytes.Equal, == on strings, or similar early-exit
// comparisons. Timing cannot be asserted reliably in a test, so the test checks the call instead.
func TestCodesAreComparedInConstantTime(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	hmacEqual := 0
	for _, pkg := range pkgs {
		if pkg.Name != "otp" {
			continue
		}
		for name, f := range pkg.Files {
			ast.Inspect(f, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				x, _ := sel.X.(*ast.Ident)
				if x == nil {
					return true
				}
				switch x.Name + "." + sel.Sel.Name {
				case "hmac.Equal":
					hmacEqual++
				case "bytes.Equal", "bytes.Compare", "reflect.DeepEqual", "slices.Equal":
					t.Errorf("%s: %s.%s must not compare codes", name, x.Name, sel.Sel.Name)
				}
				return true
			})
		}
	}
	if hmacEqual == 0 {
		t.Fatal("the package never calls hmac.Equal")
	}
}
