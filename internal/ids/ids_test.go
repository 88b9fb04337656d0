package ids

import (
	"regexp"
	"slices"
	"testing"
	"time"
)

var canonical = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestIDsAreCanonicalUniqueAndOrderedByTime(t *testing.T) {
	seen := map[string]bool{}
	var ordered []string
	base := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	for i := range 5000 {
		id := at(base.Add(time.Duration(i) * time.Millisecond))
		if !canonical.MatchString(id) {
			t.Fatalf("%q is not a canonical version-7 UUID", id)
		}
		if seen[id] {
			t.Fatalf("%q made twice", id)
		}
		seen[id] = true
		ordered = append(ordered, id)
	}
	if !slices.IsSorted(ordered) {
		t.Errorf("identifiers made one millisecond apart do not sort in the order they were made")
	}
	if a, b := at(base), at(base.Add(time.Hour)); a[:8] == b[:8] && a[9:13] == b[9:13] {
		t.Errorf("an hour apart, the time part did not change: %s %s", a, b)
	}
	// Within one millisecond only the random bits tell identifiers apart.
	same := map[string]bool{}
	for range 1000 {
		same[at(base)] = true
	}
	if len(same) != 1000 {
		t.Errorf("1,000 identifiers made in the same millisecond: %d distinct", len(same))
	}
	if id := New(); !canonical.MatchString(id) {
		t.Errorf("New: %q", id)
	}
}

func TestFormatWritesTheCanonicalForm(t *testing.T) {
	b := [16]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10}
	if got, want := Format(b), "01234567-89ab-cdef-fedc-ba9876543210"; got != want {
		t.Errorf("Format = %s, want %s", got, want)
	}
}

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		New()
	}
}

// A token never holds a run of digits as long as a card number, which the logs would mask.
func TestTokensHoldNoRunOfDigitsAsLongAsACardNumber(t *testing.T) {
	for range 20000 {
		tok := Token(12)
		if len(tok) != 24 {
			t.Fatalf("Token(12) = %q: want 24 hex characters", tok)
		}
		if n := longestDigitRun(tok); n > 12 {
			t.Fatalf("Token(12) = %q holds a run of %d digits", tok, n)
		}
	}
	if n := longestDigitRun("ab0123456789012345cd"); n != 16 {
		t.Errorf("longestDigitRun counted %d, want 16", n)
	}
}
