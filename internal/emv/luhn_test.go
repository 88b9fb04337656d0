package emv_test

import (
	"testing"

	"github.com/open3ds/open3ds/internal/emv"
)

func TestLuhnValidAcceptsCardNumbersWithTheirCheckDigitOnly(t *testing.T) {
	tests := []struct {
		name, pan string
		want      bool
	}{
		{"a Visa test card", "4111111111111111", true},
		{"a 19-digit number", "6011000000000000001", true},
		{"a 15-digit Amex test card", "378282246310005", true},
		{"the Visa card with its last digit changed", "4111111111111112", false},
		{"two neighbouring digits swapped", "4111111111111211", false},
		{"a doubled 9 (counted as 9, not 18) with its check digit", "4000000000000093", true},
		{"a doubled 9 with another last digit", "4000000000000099", false},
		{"a number with a space", "4111 111111111111", false},
		{"letters", "41111111111111a1", false},
		{"nothing", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := emv.LuhnValid(tt.pan); got != tt.want {
				t.Errorf("LuhnValid(%q) = %v; want %v", tt.pan, got, tt.want)
			}
		})
	}
}
