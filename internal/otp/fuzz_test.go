package otp_test

import (
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/otp"
)

// FuzzCheck enters arbitrary text as a code: Check must never panic, accept only the issued code
// (spaces around it allowed), and always count the entry.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"", "000000", "48291", "4829133", " 123456 ", "١٢٣٤٥٦", "12345\x00", "abcdef"} {
		f.Add(s)
	}
	c := newCodes(f)
	code, s := issued(f, c)
	f.Fuzz(func(t *testing.T, entered string) {
		out, next := c.Check(s, entered, t0.Add(time.Second), 0)
		if out.Result == otp.Accepted && strings.TrimSpace(entered) != code {
			t.Fatalf("accepted %q for code %s", entered, code)
		}
		if next.Interactions != s.Interactions+1 {
			t.Fatal("the entry was not counted")
		}
	})
}
