package acs_test

import (
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/console"
	"github.com/open3ds/open3ds/internal/console/consoletest"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/store/storetest"
	"github.com/open3ds/open3ds/internal/web"
)

// previewSteps are the screens the preview offers, each with a message key whose text only that
// screen shows, and the sizes it draws them at.
var (
	previewSteps = []struct{ step, key string }{
		{"choose", "choose"}, {"no-channel", "no_channel"}, {"code", "status_sent"}, {"send-failed", "status_failed"},
		{"wrong", "remaining"}, {"resend-wait", "resend_wait"}, {"resent", "status_queued"}, {"no-resends", "resend_none"},
		{"authenticated", "authenticated_text"}, {"not-authenticated", "not_authenticated_text"}, {"cancelled", "cancelled_text"},
		{"locked", "locked_text"}, {"expired", "timed_out_text"}, {"bank-app", "bank_app_switch_text"},
	}
	previewSizes = []string{"01", "02", "03", "04", "05"}
)

// previewIssuer is an issuer with its own brand that offers decoupled authentication.
func previewIssuer(t testing.TB, r *conRig) acs.Issuer {
	is := testIssuer("bank-z", "6000", "6999")
	is.Brand = acs.Branding{Name: "Zenith Savings", SupportText: "Call Zenith on 0800 123 456"}
	is.Decoupled = true
	if err := r.st.CreateIssuer(t.Context(), is); err != nil {
		t.Fatal(err)
	}
	return is
}

// previewText is what a screen must say in lang: the text of its message key, as the page writes it.
func previewText(lang, step, key string) string {
	m := web.Text(lang)
	switch step {
	case "wrong":
		return fmt.Sprintf(m[key], 2) // the default policy allows 3 wrong entries
	case "resend-wait":
		return fmt.Sprintf(m[key], 25) // 30 s cool-down, the sample code sent 5 s ago
	}
	return html.EscapeString(m[key])
}

// An issuer's read-only operator previews every screen of the challenge in every language the ACS
// ships and every window size: each frame answers the real page, translated, under the issuer's
// brand, with the sample purchase, framable by the console only and with its forms refused; a
// mistyped language, size, screen or issuer is answered with the field at fault; nothing is made
// in the store; a signed-out browser gets the sign-in page instead.
func TestACSConsoleChallengePreviewAnswersEveryScreenSizeAndLanguage(t *testing.T) {
	r := newConRig(t, storetest.OpenSQLite(t))
	zenith := previewIssuer(t, r)

	// Signed out: the page, its frames and their files all send to the sign-in page.
	anon := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/console/challenge-preview", "/console/challenge-preview/frame?issuer=bank-z&lang=en&step=choose&size=01",
		"/console/challenge-preview/static/challenge.css", "/console/challenge-preview/preview.css"} {
		resp, err := anon.Get(r.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/sign-in") {
			t.Errorf("signed out, GET %s answered %d → %q, want the sign-in page", path, resp.StatusCode, loc)
		}
	}

	op := r.signIn("vera", console.ReadOnly)
	body := op.Page("/console/challenge-preview?issuer=bank-z&lang=ja&step=code")
	for _, size := range previewSizes {
		want := html.EscapeString(`/console/challenge-preview/frame?issuer=bank-z&lang=ja&size=` + size + `&step=code`)
		if !strings.Contains(body, `src="`+want+`"`) || !strings.Contains(body, `id="window-`+size+`"`) {
			t.Errorf("the preview page has no frame of size %s (%s):\n%s", size, want, body)
		}
	}
	if n := strings.Count(body, `sandbox="allow-same-origin allow-scripts"`); n != len(previewSizes) {
		t.Errorf("the preview page has %d sandboxed frames, want %d", n, len(previewSizes))
	}
	for _, want := range []string{`<option value="ja" selected>`, `<option value="bank-z" selected>`, `<option value="code" selected>`,
		"Sample Shop Ltd", "EUR 1,249.00", "400000******4242", "bank-app button"} {
		if !strings.Contains(body, want) {
			t.Errorf("the preview page lacks %q", want)
		}
	}
	h := previewHeaders(t, op, "/console/challenge-preview")
	if h.Get("X-Frame-Options") != "DENY" || !strings.Contains(h.Get("Content-Security-Policy"), "frame-src 'self'") ||
		!strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("the preview page's headers: X-Frame-Options %q, CSP %q", h.Get("X-Frame-Options"), h.Get("Content-Security-Policy"))
	}

	langs := web.Languages()
	slices.Sort(langs)
	if !slices.Contains(langs, "ja") || !slices.Contains(langs, "en") {
		t.Fatalf("the ACS ships %v; this test expects English and Japanese among them", langs)
	}
	for _, lang := range langs {
		for _, s := range previewSteps {
			for _, size := range previewSizes {
				q := url.Values{"issuer": {zenith.ID}, "lang": {lang}, "step": {s.step}, "size": {size}}
				path := "/console/challenge-preview/frame?" + q.Encode()
				st, _, body := op.Get(path)
				if st != http.StatusOK {
					t.Fatalf("GET %s answered %d:\n%s", path, st, body)
				}
				for _, want := range []string{`<html lang="` + lang + `">`, `class="window-` + size + `"`, "Zenith Savings",
					previewText(lang, s.step, s.key), `href="/console/challenge-preview/static/challenge.css"`} {
					if !strings.Contains(body, want) {
						t.Errorf("%s lacks %q:\n%s", path, want, body)
					}
				}
				if lang != "en" && web.Text(lang)[s.key] != web.Text("en")[s.key] && strings.Contains(body, previewText("en", s.step, s.key)) {
					t.Errorf("%s shows the English text of %s", path, s.key)
				}
				if strings.Contains(body, "5555550123") || strings.Contains(body, "cardholder@example.com") {
					t.Errorf("%s shows the sample contact unmasked", path)
				}
				// The code screens show the purchase; the final ones only how it ended.
				shows := strings.Contains(body, "Sample Shop Ltd") && strings.Contains(body, "EUR 1,249.00") && strings.Contains(body, "•••• 4242")
				if final := strings.Contains(body, `id="result"`); shows == final {
					t.Errorf("%s: final page %v, shows the sample purchase %v", path, final, shows)
				}
			}
		}
	}

	// The issuer's decoupled offer shows as the bank-app button; an issuer without it has none.
	if body := op.Page("/console/challenge-preview/frame?issuer=bank-z&lang=en&step=choose&size=02"); !strings.Contains(body, `id="bankapp"`) {
		t.Errorf("the decoupled issuer's choice screen has no bank-app button")
	}
	if body := op.Page("/console/challenge-preview/frame?issuer=bank-a&lang=en&step=choose&size=02"); strings.Contains(body, `id="bankapp"`) ||
		!strings.Contains(body, "<strong>Bank bank-a</strong>") && !strings.Contains(body, `alt="Bank bank-a"`) {
		t.Errorf("bank-a's choice screen (no decoupled, brand by its name):\n%s", body)
	}

	// Without an issuer, the page and its frames take the first one.
	if body := op.Page("/console/challenge-preview"); !strings.Contains(body, `<option value="bank-a" selected>`) ||
		!strings.Contains(body, html.EscapeString("frame?issuer=bank-a&lang=en&size=01&step=choose")) {
		t.Errorf("the preview page without a choice does not show bank-a's choice screen in English:\n%s", body)
	}
	if body := op.Page("/console/challenge-preview/frame?size=01"); !strings.Contains(body, `alt="Bank bank-a"`) || !strings.Contains(body, html.EscapeString(web.Text("en")["choose"])) {
		t.Errorf("a frame without a choice is not bank-a's choice screen in English:\n%s", body)
	}

	// The frames may be framed by the console only, and their forms go nowhere.
	h = previewHeaders(t, op, "/console/challenge-preview/frame?issuer=bank-z&lang=en&step=code&size=03")
	csp := h.Get("Content-Security-Policy")
	if h.Get("X-Frame-Options") != "SAMEORIGIN" || !strings.Contains(csp, "frame-ancestors 'self'") || !strings.Contains(csp, "form-action 'none'") ||
		!strings.Contains(csp, "sandbox allow-same-origin allow-scripts") || strings.Contains(csp, "*") || h.Get("Cache-Control") != "no-store" {
		t.Errorf("a frame's headers: X-Frame-Options %q, CSP %q, Cache-Control %q", h.Get("X-Frame-Options"), csp, h.Get("Cache-Control"))
	}
	for _, path := range []string{"/console/challenge-preview/frame", "/console/challenge-preview/challenge/step"} {
		if st, _, _ := op.PostForm(path, url.Values{"action": {"submit"}, "code": {"123456"}}); st != http.StatusMethodNotAllowed && st != http.StatusNotFound {
			t.Errorf("a form posted to %s answered %d, want nothing there", path, st)
		}
	}
	if st, _, css := op.Get("/console/challenge-preview/static/challenge.css"); st != http.StatusOK || !strings.Contains(css, ".actions") {
		t.Errorf("the challenge stylesheet answered %d", st)
	}

	// Mistakes name their field.
	for _, c := range []struct {
		query  string
		status int
		says   string
	}{
		{"issuer=bank-z&lang=xx&step=code&size=01", http.StatusBadRequest, "lang: must be a language the challenge pages are written in: en, ja."},
		{"issuer=bank-z&lang=en&step=code&size=06", http.StatusBadRequest, "size: must be a challengeWindowSize, 01 to 05."},
		{"issuer=bank-z&lang=en&step=code", http.StatusBadRequest, "size: must be a challengeWindowSize, 01 to 05."},
		{"issuer=bank-z&lang=en&step=pay&size=01", http.StatusBadRequest, "step: must be one of choose, no-channel"},
		{"issuer=nobody&lang=en&step=code&size=01", http.StatusNotFound, "issuer: there is no issuer with this id."},
	} {
		st, _, body := op.Get("/console/challenge-preview/frame?" + c.query)
		if st != c.status || !strings.Contains(body, c.says) {
			t.Errorf("frame?%s answered %d, want %d saying %q:\n%s", c.query, st, c.status, c.says, body)
		}
	}
	body = op.Page("/console/challenge-preview?issuer=bank-z&lang=xx")
	if !strings.Contains(body, `class="alert"`) || !strings.Contains(body, "lang: must be a language") || strings.Contains(body, "<iframe") {
		t.Errorf("the preview page with an unknown language shows:\n%s", body)
	}

	// Hundreds of previews later, the store holds no transaction and no challenge.
	txs, err := r.st.FindTransactions(t.Context(), acs.TransactionFind{Limit: 10})
	if err != nil || len(txs) != 0 {
		t.Errorf("after the previews the store has %d transactions (%v)", len(txs), err)
	}
	if _, err := r.st.ChallengeOf(t.Context(), "preview"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after the previews a challenge row exists: %v", err)
	}
}

// previewHeaders gets path and returns its headers, requiring a 200.
func previewHeaders(t testing.TB, b *consoletest.Client, path string) http.Header {
	t.Helper()
	resp, err := b.HTTP.Get(b.Base + path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s answered %d", path, resp.StatusCode)
	}
	return resp.Header
}
