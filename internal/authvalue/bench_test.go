package authvalue_test

import "testing"

func BenchmarkCreate(b *testing.B) {
	k := mustKeys(b, spec(1, 1))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Create(facts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	k := mustKeys(b, spec(1, 1))
	v := mustCreate(b, k, facts)
	b.ReportAllocs()
	for b.Loop() {
		if c, err := k.Verify(v, facts); err != nil || !c.Valid {
			b.Fatal(c, err)
		}
	}
}
