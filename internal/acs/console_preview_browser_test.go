package acs_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/open3ds/open3ds/internal/browsertest"
	"github.com/open3ds/open3ds/internal/console"
	"github.com/open3ds/open3ds/internal/console/consoletest"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/store/storetest"
	"github.com/open3ds/open3ds/internal/web"
)

// previewFrames reads every frame of the preview page once all have loaded the language lang:
// [size, innerWidth, scrollWidth, clientWidth, stylesheet applied, text].
const previewFrames = `((lang) => {
	const out = [];
	for (const f of document.querySelectorAll("#previews iframe")) {
		const d = f.contentDocument;
		if (!d || d.readyState !== "complete" || d.documentElement.lang !== lang || !d.querySelector("main")) { return null; }
		const e = d.documentElement;
		out.push([f.dataset.size, f.contentWindow.innerWidth, e.scrollWidth, e.clientWidth,
			getComputedStyle(d.body).marginTop === "0px", d.body.innerText.replace(/\s+/g, " ")]);
	}
	return out.length ? out : null;
})`

// An issuer's operator in Chromium, on a desktop and on a phone, under the console's real
// security headers: opens the challenge preview in English and in Japanese and goes through every
// screen; each of the five frames is as wide as its challenge window, has the challenge page's
// stylesheet, shows the screen translated and fits its box without a horizontal scroll bar. A
// button pressed in a frame goes nowhere, and the final page's automatic post does not leave it.
func TestACSConsoleChallengePreviewInChromium(t *testing.T) {
	widths := map[string]float64{"01": 250, "02": 390, "03": 500, "04": 600, "05": 1280}
	for _, screen := range []consoletest.Screen{consoletest.Desktop, consoletest.Phone} {
		t.Run(screen.Name, func(t *testing.T) {
			r := newConRig(t, storetest.OpenSQLite(t))
			previewIssuer(t, r)
			// The admin listener's headers, CSP included, as the server sends them.
			srv := httptest.NewServer(httpx.SecurityHeaders(r.c.Handler()))
			t.Cleanup(srv.Close)
			op := &consoletest.Operator{Name: "vera", Password: consoletest.Account(t, r.c, "vera", console.ReadOnly)}

			ctx := consoletest.Tab(t, screen)
			consoletest.SignIn(t, ctx, srv.URL, op)

			open := func(lang, step string) [][]any {
				t.Helper()
				browsertest.Navigate(t, ctx, srv.URL+"/console/challenge-preview?issuer=bank-z&lang="+lang+"&step="+step)
				var frames [][]any
				browsertest.WaitFor(t, "the five frames of "+lang+" "+step, func() string {
					got, err := chromedp.Run(ctx, chromedp.Evaluate[[]any](previewFrames+`("`+lang+`")`))
					if err != nil || len(got) == 0 {
						return ""
					}
					frames = frames[:0]
					for _, f := range got {
						frames = append(frames, f.([]any))
					}
					return "loaded"
				})
				return frames
			}

			for _, lang := range []string{"en", "ja"} {
				for _, s := range previewSteps {
					frames := open(lang, s.step)
					if len(frames) != len(widths) {
						t.Fatalf("%s %s: %d frames, want %d", lang, s.step, len(frames), len(widths))
					}
					want := strings.Join(strings.Fields(web.Text(lang)[s.key]), " ")
					if i := strings.Index(want, "%"); i >= 0 {
						want = want[:i] // the number the screen fills in follows
					}
					for _, f := range frames {
						size, inner, scroll, client, styled, text := f[0].(string), f[1].(float64), f[2].(float64), f[3].(float64), f[4].(bool), f[5].(string)
						if inner != widths[size] {
							t.Errorf("%s %s: frame %s is %v px wide, want %v", lang, s.step, size, inner, widths[size])
						}
						if scroll > client {
							t.Errorf("%s %s: frame %s scrolls sideways (%v px of content in %v)", lang, s.step, size, scroll, client)
						}
						if !styled {
							t.Errorf("%s %s: frame %s has no stylesheet", lang, s.step, size)
						}
						if !strings.Contains(text, "Zenith Savings") || !strings.Contains(text, strings.TrimSpace(want)) {
							t.Errorf("%s %s: frame %s says %q, want %q", lang, s.step, size, text, want)
						}
					}
					consoletest.FitsWidth(t, ctx, lang+" "+s.step+": the preview page", screen.W)
					if s.step == "code" || s.step == "locked" {
						consoletest.Screenshot(t, ctx, "acs-console-challenge-preview", lang+"-"+s.step+"-"+screen.Name)
					}
				}
			}

			// Pressing "Send code" in a frame leaves the frame on its page: the sandbox and the CSP
			// refuse the form. The final page's own post, two seconds after it shows, is refused too.
			for _, step := range []string{"choose", "authenticated"} {
				open("en", step)
				press := `(() => {
					const d = document.querySelector("#window-02 iframe").contentDocument;
					d.body.dataset.seen = "before";
					const b = d.querySelector("button[type=submit]");
					if (b) { b.click(); }
					return !!b;
				})()`
				if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](press)); err != nil || !ok {
					t.Fatalf("%s: no button to press in frame 02 (%v)", step, err)
				}
				time.Sleep(2500 * time.Millisecond)
				still, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
					const f = document.querySelector("#window-02 iframe");
					return f.contentDocument.body.dataset.seen === "before" && f.contentWindow.location.pathname === "/console/challenge-preview/frame";
				})()`))
				if err != nil || !still {
					t.Errorf("%s: after a button press the frame left its page (%v)", step, err)
				}
			}
		})
	}
}
