package vault_test

import "testing"

func BenchmarkSeal(b *testing.B) {
	k := mustKeyring(b, spec(1, "a", 1))
	pan := []byte(testPAN)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Seal(pan, panAD); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	k := mustKeyring(b, spec(1, "a", 1))
	sealed, err := k.Seal([]byte(testPAN), panAD)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Open(sealed, panAD); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookupHash(b *testing.B) {
	k := mustKeyring(b, spec(1, "a", 1))
	b.ReportAllocs()
	for b.Loop() {
		_ = k.LookupHash(testPAN)
	}
}
