package otp_test

import (
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/otp"
)

// BenchmarkIssue measures drawing a code from crypto/rand and hashing it.
func BenchmarkIssue(b *testing.B) {
	c := newCodes(b)
	s := otp.State{TransactionID: "8a880dc0-d2d2-4067-bcb1-b08d1690b26e"}
	for b.Loop() {
		if _, _, err := c.Issue(s, t0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheck measures verifying a right and a wrong entry.
func BenchmarkCheck(b *testing.B) {
	c := newCodes(b)
	code, s := issued(b, c)
	for _, tc := range []struct{ name, entered string }{{"right", code}, {"wrong", wrongFor(code)}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				c.Check(s, tc.entered, t0.Add(time.Minute), 0)
			}
		})
	}
}
