package main

import (
	"strings"
	"testing"
)

// FuzzCardholderCSV feeds the import parser arbitrary files: it must not panic, lines must only grow,
// and a problem must never quote the line's content (which may hold a PAN).
func FuzzCardholderCSV(f *testing.F) {
	f.Add("issuer,pan,expiry\nbank-a,4000001234567891,2812\n")
	f.Add("issuer,pan\n\"unterminated,4000\n")
	f.Add("pan\n4000001234567891\n")
	f.Add("issuer,pan,mobiles,emails\nbank-a,4000001234567891,+447700900001;+447700900002,a@example.com;b@example.com\n")
	f.Fuzz(func(t *testing.T, file string) {
		rows, err := acsParseCardholderCSV(strings.NewReader(file))
		if err != nil {
			return
		}
		last := 0
		for _, r := range rows {
			if r.Line < last {
				t.Fatalf("line numbers went back: %d after %d", r.Line, last)
			}
			last = r.Line
			if r.Problem != "" && r.Cardholder.PAN != "" {
				t.Fatalf("a row with a problem carries a card")
			}
		}
	})
}
