package vault_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/vault"
)

func TestParseKeyringAcceptsTheDocumentedForms(t *testing.T) {
	k1, k2, lk := testKey("1"), testKey("2"), testKey("lookup a")
	tests := []struct {
		name    string
		spec    string
		current int
	}{
		{"the example from the documentation", "current=2;1=" + k1 + ";2=" + k2 + ";lookup=" + lk, 2},
		{"parts in any order with spaces and a trailing newline", " lookup = " + lk + " ; 2=" + k2 + ";current=2;;\n", 2},
		{"URL-safe base64 without padding", "current=1;1=" + urlKey(k1) + ";lookup=" + urlKey(lk), 1},
		{"a leading zero in a version", "current=01;1=" + k1 + ";lookup=" + lk, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := vault.ParseKeyring(tt.spec)
			if err != nil {
				t.Fatalf("ParseKeyring: %v", err)
			}
			if k.Current() != tt.current {
				t.Fatalf("Current = %d, want %d", k.Current(), tt.current)
			}
		})
	}
}

func urlKey(std string) string {
	raw, _ := base64.StdEncoding.DecodeString(std)
	return base64.RawURLEncoding.EncodeToString(raw)
}

func TestParseKeyringNamesTheProblemWithoutTheKeyMaterial(t *testing.T) {
	k1, k2, lk := testKey("1"), testKey("2"), testKey("lookup a")
	short := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 16))
	tests := []struct{ name, spec, want string }{
		{"an empty spec", "", "no key versions"},
		{"no current", "1=" + k1 + ";lookup=" + lk, "current is missing"},
		{"current names a missing key", "current=2;1=" + k1 + ";lookup=" + lk, "no key 2"},
		{"no lookup key", "current=1;1=" + k1, "lookup key is missing"},
		{"a 16-byte key", "current=1;1=" + short + ";lookup=" + lk, "decodes to 16 bytes, want 32"},
		{"a key that is not base64", "current=1;1=" + k1[:20] + "!!" + ";lookup=" + lk, "not valid base64"},
		{"version 0", "current=1;0=" + k2 + ";1=" + k1 + ";lookup=" + lk, "not a number from 1 to 255"},
		{"version 256", "current=1;256=" + k2 + ";1=" + k1 + ";lookup=" + lk, "not a number from 1 to 255"},
		{"a version given twice", "current=1;1=" + k1 + ";1=" + k2 + ";lookup=" + lk, "key 1 is given twice"},
		{"current given twice", "current=1;current=1;1=" + k1 + ";lookup=" + lk, "current is given twice"},
		{"an unpadded key without its version", "current=1;1=" + k1 + ";" + urlKey(k2) + ";lookup=" + lk, "part 3 has no \"=\""},
		{"a padded key without its version", "current=1;1=" + k1 + ";" + k2 + ";lookup=" + lk, "part 3: unknown name"},
		{"one key used twice", "current=2;1=" + k1 + ";2=" + k1 + ";lookup=" + lk, "key 2 repeats key 1"},
		{"the lookup key equal to an encryption key", "current=1;1=" + k1 + ";lookup=" + k1, "lookup key repeats key 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := vault.ParseKeyring(tt.spec)
			if err == nil {
				t.Fatalf("ParseKeyring = %v, want an error", k)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not say %q", err, tt.want)
			}
			for _, key := range []string{k1, k2, lk, short, urlKey(k2)} {
				if strings.Contains(err.Error(), key[:12]) {
					t.Fatalf("error %q shows key material", err)
				}
			}
		})
	}
}

func TestNewRandomSpecGivesAFreshUsableKeyring(t *testing.T) {
	a, err := vault.NewRandomSpec()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := vault.NewRandomSpec()
	if a == b {
		t.Fatal("two random specs are equal")
	}
	k := mustKeyring(t, a)
	sealed, err := k.Seal([]byte(testPAN), panAD)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mustKeyring(t, b).Open(sealed, panAD); err == nil {
		t.Fatal("a value sealed under one random spec opened under another")
	}
}

func TestAKeyringNeverPrintsItsKeys(t *testing.T) {
	s := spec(2, "a", 1, 2)
	k := mustKeyring(t, s)
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("keys", "keyring", k, "value", *k)
	j, _ := json.Marshal(struct{ K *vault.Keyring }{k})
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", k), "%+v": fmt.Sprintf("%+v", k), "%#v": fmt.Sprintf("%#v", k),
		"%s": fmt.Sprintf("%s", k), "%x": fmt.Sprintf("%x", k), "%d": fmt.Sprintf("%d", k),
		"%v of the value": fmt.Sprintf("%v", *k), "%#v of the value": fmt.Sprintf("%#v", *k),
		"%+v in a struct": fmt.Sprintf("%+v", struct{ K vault.Keyring }{*k}),
		"String":          k.String(), "slog": logged.String(), "json": string(j),
	}
	for name, out := range outputs {
		if !strings.Contains(out, "redacted") {
			t.Errorf("%s = %q, want it marked redacted", name, out)
		}
		for _, label := range []string{"1", "2", "lookup a"} {
			raw, _ := base64.StdEncoding.DecodeString(testKey(label))
			for _, form := range []string{testKey(label)[:12], fmt.Sprintf("%x", raw[:6]), strings.Trim(fmt.Sprint(raw[:4]), "[]")} {
				if strings.Contains(out, form) {
					t.Errorf("%s = %q shows key %q", name, out, label)
				}
			}
		}
	}
	if want := "vault.Keyring{current: 2, versions: [1 2], keys: [redacted]}"; k.String() != want {
		t.Errorf("String = %q, want %q", k.String(), want)
	}
}
