package notify_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/notify"
)

func TestRenderPicksTheLanguageOfTheLocale(t *testing.T) {
	cases := []struct {
		name, locale, lang, smsHas string
	}{
		{"English for en-GB", "en-GB", "en", "is your code"},
		{"Japanese for ja-JP", "ja-JP", "ja", "認証コードは482913です"},
		{"Japanese for a bare ja", "ja", "ja", "482913"},
		{"English for a language without a file", "fr-FR", "en", "is your code"},
		{"English for no locale", "", "en", "is your code"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := message(notify.SMS, "+81 90 1234 5678")
			m.Locale = tc.locale
			r, err := notify.Render(m)
			if err != nil {
				t.Fatal(err)
			}
			if r.Lang != tc.lang || !strings.Contains(r.SMS, tc.smsHas) || !strings.Contains(r.SMS, "Example Shop") {
				t.Fatalf("rendered %s: %q", r.Lang, r.SMS)
			}
		})
	}
}

func TestEveryLanguageFileLoads(t *testing.T) {
	langs := notify.Languages()
	for _, want := range []string{"en", "ja"} {
		if !slices.Contains(langs, want) {
			t.Errorf("no %s message file (have %v)", want, langs)
		}
	}
}

func TestHTMLPartEscapesIssuerText(t *testing.T) {
	m := message(notify.Email, "a@example.com")
	m.Issuer.Name = `<script>alert(1)</script>`
	r, err := notify.Render(m)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.HTML, "<script>") || !strings.Contains(r.HTML, "&lt;script&gt;") {
		t.Fatalf("HTML part not escaped:\n%s", r.HTML)
	}
}

func TestMask(t *testing.T) {
	cases := []struct {
		name string
		ch   notify.Channel
		to   string
		want string
	}{
		{"a phone number keeps its last four digits", notify.SMS, "+81 90-1234-5678", "•••• 5678"},
		{"a short number is hidden entirely", notify.SMS, "12345", "••••"},
		{"an address keeps its first letter and domain", notify.Email, "taro@example.com", "t•••@example.com"},
		{"an address without a local part is hidden", notify.Email, "@example.com", "•••"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := notify.Mask(tc.ch, tc.to); got != tc.want {
				t.Fatalf("Mask(%q) = %q, want %q", tc.to, got, tc.want)
			}
		})
	}
}

// A decoupled request carries a link to approve at, in the cardholder's language, and no code.
func TestAnApprovalMessageCarriesTheLinkAndNoCode(t *testing.T) {
	const link = "https://acs.example/decoupled/abc123"
	for _, tc := range []struct{ locale, smsHas string }{{"en-GB", "approve or decline"}, {"ja-JP", "承認または拒否"}} {
		t.Run(tc.locale, func(t *testing.T) {
			m := message(notify.Email, "taro@example.com")
			m.Code, m.Link, m.Locale = "", link, tc.locale
			r, err := notify.Render(m)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(r.SMS, tc.smsHas) || !strings.Contains(r.SMS, link) || !strings.Contains(r.Text, link) ||
				!strings.Contains(r.HTML, `href="`+link+`"`) || strings.Contains(r.Subject, "code") {
				t.Fatalf("rendered %+v", r)
			}
		})
	}
}
