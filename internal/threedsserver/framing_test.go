package threedsserver_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/open3ds/open3ds/internal/browsertest"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/httpx"
)

// publicBehindMiddleware serves the 3DS Server's browser routes behind the middleware that `serve
// 3dss` puts around them, so that the test sees the headers a browser would.
func publicBehindMiddleware(t *testing.T, n *network) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(httpx.Standard(slog.New(slog.DiscardHandler), nil)(n.server.PublicHandler()))
	t.Cleanup(srv.Close)
	return srv
}

func TestTheNotificationRoutesErrorPagesMayBeFramedByTheMerchant(t *testing.T) {
	n := newNetwork(t)
	pub := publicBehindMiddleware(t, n)
	unknown := `{"threeDSServerTransID":"8a880dc0-d2d2-4067-bcb1-b08d1690b26e"}`
	tests := []struct {
		name, path string
		form       url.Values
		status     int
	}{
		{"a 3DS Method notification for an unknown transaction", "/3ds/method",
			url.Values{"threeDSMethodData": {emv.EncodeBase64URL([]byte(unknown))}}, http.StatusNotFound},
		{"a 3DS Method notification that cannot be read", "/3ds/method", url.Values{"threeDSMethodData": {"!!!"}}, http.StatusBadRequest},
		{"a challenge notification that cannot be read", "/3ds/notification", url.Values{"cres": {"!!!"}}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.PostForm(pub.URL+tt.path, tt.form)
			must(t, err)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("HTTP %d; want %d", resp.StatusCode, tt.status)
			}
			csp := resp.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "frame-ancestors *") || strings.Contains(csp, "frame-ancestors 'none'") {
				t.Fatalf("Content-Security-Policy %q does not let the merchant's page frame the error", csp)
			}
		})
	}
}

func TestTheChallengeNotificationsErrorShowsInsideTheMerchantsIframe(t *testing.T) {
	n := newNetwork(t)
	pub := publicBehindMiddleware(t, n)
	// The merchant's page, on an origin of its own, frames a form post that the notification route
	// cannot read, as a broken ACS would send.
	merchant := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><title>Shop</title><iframe name="challenge" id="challenge"></iframe>
<form id="f" method="post" target="challenge" action="%s/3ds/notification"><input type="hidden" name="cres" value="!!!"></form>
<script>document.getElementById("f").submit();</script>`, pub.URL)
	}))
	t.Cleanup(merchant.Close)
	ctx := browsertest.Start(t, browsertest.Options{})
	browsertest.Navigate(t, ctx, merchant.URL+"/")
	var heading string
	browsertest.InFrame(t, ctx, "iframe#challenge", "reading the error page in the iframe",
		func(in chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
			return []chromedp.Action[chromedp.Void]{browsertest.Keep(&heading, chromedp.Text(chromedp.CSS("main h1"), in))}
		})
	if heading != "Bad Request" {
		t.Fatalf("the iframe shows %q; want the error page's heading", heading)
	}
}
