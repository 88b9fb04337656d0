package authvalue_test

import (
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/authvalue"
)

// FuzzVerify feeds arbitrary text to Verify: it must never panic, and nothing but the one genuine
// value for the fixed facts may verify. The committed seeds include that genuine value, made under
// the fixed test key, so the fuzzer mutates from a value that verifies.
func FuzzVerify(f *testing.F) {
	k := mustKeys(f, spec(2, 1, 2))
	genuine := map[string]bool{}
	for _, s := range []string{spec(1, 1), spec(2, 1, 2)} {
		v := mustCreate(f, mustKeys(f, s), facts)
		genuine[v] = true
		f.Add(v)
	}
	f.Add("")
	f.Add(strings.Repeat("A", 28))
	f.Fuzz(func(t *testing.T, value string) {
		c, err := k.Verify(value, facts)
		if c.Valid != genuine[value] {
			t.Fatalf("Verify(%q) = %+v, %v", value, c, err)
		}
		if err != nil && c != (authvalue.Check{}) {
			t.Fatalf("Verify(%q) reported %+v with error %v", value, c, err)
		}
	})
}

func FuzzParseKeys(f *testing.F) {
	f.Add(spec(2, 1, 2))
	f.Add("current=1;1=" + testKey("1") + "\n")
	f.Add("current=1;1=" + testKey("1") + ";lookup=" + testKey("2"))
	f.Add("current=0;;=;1=")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := authvalue.ParseKeys(s)
		if err != nil {
			// An error names a part and a problem; it never repeats a long run of the spec.
			for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '=' }) {
				if part = strings.TrimSpace(part); len(part) >= 16 && strings.Contains(err.Error(), part) {
					t.Fatalf("error %q repeats part of the spec", err)
				}
			}
			return
		}
		v, err := k.Create(facts)
		if err != nil {
			t.Fatalf("Create under parsed keys: %v", err)
		}
		if c, err := k.Verify(v, facts); err != nil || !c.Valid || c.KeyID != k.Current() {
			t.Fatalf("round trip under parsed keys: %+v, %v", c, err)
		}
	})
}
