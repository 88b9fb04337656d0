package authvalue_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/authvalue"
)

func TestParseKeysNamesTheProblemWithoutTheKeyMaterial(t *testing.T) {
	k1, k2 := testKey("1"), testKey("2")
	short := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 31))
	tests := []struct{ name, spec, want string }{
		{"an empty spec", "", "no key versions"},
		{"no current", "1=" + k1, "current is missing"},
		{"current names a missing key", "current=3;1=" + k1 + ";2=" + k2, "no key 3"},
		{"a 31-byte key", "current=1;1=" + short, "decodes to 31 bytes, want 32"},
		{"a key that is not base64", "current=1;1=" + k1[:30] + "*", "not valid base64"},
		{"a lookup key, which only the vault takes", "current=1;1=" + k1 + ";lookup=" + k2, "part 3: unknown name"},
		{"a version given twice", "current=1;1=" + k1 + ";1=" + k2, "key 1 is given twice"},
		{"a version too large", "current=1;1=" + k1 + ";999=" + k2, "not a number from 1 to 255"},
		{"one key used twice", "current=1;1=" + k1 + ";2=" + k1, "key 2 repeats key 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := authvalue.ParseKeys(tt.spec)
			if err == nil {
				t.Fatalf("ParseKeys = %v, want an error", k)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not say %q", err, tt.want)
			}
			for _, key := range []string{k1, k2, short} {
				if strings.Contains(err.Error(), key[:12]) {
					t.Fatalf("error %q shows key material", err)
				}
			}
		})
	}
}

func TestNewRandomSpecGivesFreshUsableKeys(t *testing.T) {
	a, err := authvalue.NewRandomSpec()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := authvalue.NewRandomSpec()
	if a == b {
		t.Fatal("two random specs are equal")
	}
	v := mustCreate(t, mustKeys(t, a), facts)
	if c, err := mustKeys(t, b).Verify(v, facts); err != nil || c.Valid {
		t.Fatalf("a value made under one random spec verified under another: %+v, %v", c, err)
	}
}

func TestCreateRefusesFactsItCannotBind(t *testing.T) {
	k := mustKeys(t, spec(1, 1))
	tests := []struct {
		name   string
		change func(*authvalue.Facts)
	}{
		{"outcome N", func(f *authvalue.Facts) { f.Outcome = 'N' }},
		{"no outcome", func(f *authvalue.Facts) { f.Outcome = 0 }},
		{"no acsTransID", func(f *authvalue.Facts) { f.ACSTransID = "" }},
		{"no PAN", func(f *authvalue.Facts) { f.PAN = "" }},
		{"no time", func(f *authvalue.Facts) { f.Time = time.Time{} }},
		{"a time in 2019", func(f *authvalue.Facts) { f.Time = time.Date(2019, 12, 31, 23, 59, 59, 0, time.UTC) }},
		{"a time in 2157", func(f *authvalue.Facts) { f.Time = time.Date(2157, 1, 1, 0, 0, 0, 0, time.UTC) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := facts
			tt.change(&f)
			if v, err := k.Create(f); err == nil {
				t.Fatalf("Create = %q, want an error", v)
			}
		})
	}
}

func TestVerifyRejectsTextThatIsNotAnAuthenticationValue(t *testing.T) {
	k := mustKeys(t, spec(1, 1))
	v := mustCreate(t, k, facts)
	raw, _ := base64.StdEncoding.DecodeString(v)
	with := func(i int, b byte) string {
		bad := append([]byte(nil), raw...)
		bad[i] = b
		return base64.StdEncoding.EncodeToString(bad)
	}
	tests := []struct {
		name, value string
		want        error
	}{
		{"an empty string", "", authvalue.ErrMalformed},
		{"unpadded base64", strings.TrimRight(v, "="), authvalue.ErrMalformed},
		{"URL-safe base64 of 21 bytes", base64.URLEncoding.EncodeToString(append(raw, 0)), authvalue.ErrMalformed},
		{"a line break in place of a character", v[:10] + "\n" + v[11:], authvalue.ErrMalformed},
		{"unused trailing bits set", v[:26] + "R=", authvalue.ErrMalformed},
		{"format version 2", with(0, 2), authvalue.ErrMalformed},
		{"outcome N", with(2, 'N'), authvalue.ErrMalformed},
		{"key version 7, which is not held", with(1, 7), authvalue.ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := k.Verify(tt.value, facts)
			if !errors.Is(err, tt.want) || c.Valid {
				t.Fatalf("Verify = %+v, %v; want %v", c, err, tt.want)
			}
		})
	}
	f := facts
	f.PAN = ""
	if _, err := k.Verify(v, f); err == nil {
		t.Fatal("Verify with no PAN in the facts gave no error")
	}
}

func TestKeysNeverPrintTheirMaterial(t *testing.T) {
	k := mustKeys(t, spec(2, 1, 2))
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("keys", "keys", k, "value", *k)
	j, _ := json.Marshal(struct{ K *authvalue.Keys }{k})
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", k), "%+v": fmt.Sprintf("%+v", k), "%#v": fmt.Sprintf("%#v", k),
		"%s": fmt.Sprintf("%s", k), "%x": fmt.Sprintf("%x", k), "%d": fmt.Sprintf("%d", k),
		"%v of the value": fmt.Sprintf("%v", *k), "%#v of the value": fmt.Sprintf("%#v", *k),
		"%+v in a struct": fmt.Sprintf("%+v", struct{ K authvalue.Keys }{*k}),
		"an error":        fmt.Errorf("wrapped: %v", k).Error(),
		"String":          k.String(), "slog": logged.String(), "json": string(j),
	}
	for name, out := range outputs {
		if !strings.Contains(out, "redacted") {
			t.Errorf("%s = %q, want it marked redacted", name, out)
		}
		for _, label := range []string{"1", "2"} {
			raw, _ := base64.StdEncoding.DecodeString(testKey(label))
			for _, form := range []string{testKey(label)[:12], fmt.Sprintf("%x", raw[:6]), strings.Trim(fmt.Sprint(raw[:4]), "[]"), fmt.Sprintf("%#x", raw[0])} {
				if strings.Contains(out, form) {
					t.Errorf("%s = %q shows key %s", name, out, label)
				}
			}
		}
	}
	if want := "authvalue.Keys{current: 2, versions: [1 2], keys: [redacted]}"; k.String() != want {
		t.Errorf("String = %q, want %q", k.String(), want)
	}
}

func TestECIFollowsTheSchemeTable(t *testing.T) {
	tests := []struct {
		style   string
		outcome byte
		want    string
	}{
		{"visa", 'Y', "05"}, {"visa", 'A', "06"}, {"visa", 'N', "07"}, {"visa", 'U', "07"},
		{"Amex", 'Y', "05"}, {"jcb", 'A', "06"},
		{"mastercard", 'Y', "02"}, {"mastercard", 'A', "01"}, {"mastercard", 'N', "00"}, {"Maestro", 'R', "00"},
		{"", 'Y', ""}, {"unknown", 'Y', ""},
	}
	for _, tt := range tests {
		if got := authvalue.ECI(tt.style, tt.outcome); got != tt.want {
			t.Errorf("ECI(%q, %q) = %q, want %q", tt.style, tt.outcome, got, tt.want)
		}
	}
}
