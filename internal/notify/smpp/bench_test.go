package smpp_test

import (
	"testing"

	"github.com/open3ds/open3ds/internal/notify/smpp"
)

// BenchmarkEncodePDU measures serialising a Japanese submit_sm.
func BenchmarkEncodePDU(b *testing.B) {
	p := submit()
	for b.Loop() {
		if _, err := smpp.Encode(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodePDU measures parsing the same submit_sm.
func BenchmarkDecodePDU(b *testing.B) {
	raw, _ := smpp.Encode(submit())
	for b.Loop() {
		if _, err := smpp.Decode(raw); err != nil {
			b.Fatal(err)
		}
	}
}
