package shop_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/shop"
)

func TestEveryAnswerCarriesTheSecurityHeaders(t *testing.T) {
	s := newShop(t, newFakeAPI(t), nil)
	wantCSP := "default-src 'self'; script-src 'self' https://3dss.example:8443; frame-src http: https:; style-src 'self'; " +
		"img-src 'self' data:; connect-src 'self'"
	for _, req := range []struct{ method, path, body string }{
		{"GET", "/", ""}, {"GET", "/static/shop.js", ""}, {"GET", "/orders/" + enrolledID, ""},
		{"POST", "/api/start", "{}"}, {"GET", "/no-such-page", ""}, {"GET", "/healthz", ""},
	} {
		resp, _ := s.do(t, req.method, req.path, req.body)
		h := resp.Header
		if !strings.HasPrefix(h.Get("Content-Security-Policy"), wantCSP) || h.Get("X-Content-Type-Options") != "nosniff" ||
			h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s %s: CSP %q, nosniff %q, Referrer-Policy %q", req.method, req.path,
				h.Get("Content-Security-Policy"), h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"))
		}
	}
}

func TestTheShopPageOffersTheProductsAndAFormWithLabels(t *testing.T) {
	s := newShop(t, newFakeAPI(t), func(c *shop.Config) {
		c.Name = "Ada's Books"
		c.Cards = []shop.Card{{Number: "4000000000001000", Expiry: "12/39", Outcome: "frictionless Y"}}
	})
	resp, body := s.do(t, "GET", "/", "", "Accept", "text/html,application/xhtml+xml;q=0.9")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("got %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, w := range []string{"Ada&#39;s Books", `value="book"`, `value="headphones"`, `value="bike"`, "€24.00", "€89.00", "€1,450.00",
		`<label for="card-number">`, `autocomplete="cc-number"`, `inputmode="numeric"`, `<label for="expiry">`, `<label for="name">`,
		`<label for="email">`, `src="https://3dss.example:8443/checkout.js"`, `src="/static/shop.js"`,
		`data-accept="text/html,application/xhtml&#43;xml;q=0.9"`, "4000 0000 0000 1000", "frictionless Y", `role="alert"`} {
		if !strings.Contains(body, w) {
			t.Errorf("the page lacks %s", w)
		}
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, " style=") || strings.Contains(body, "onclick") {
		t.Error("the page has inline script or style, which its CSP forbids")
	}
}

func TestTheAPIKeyIsNeverSentToTheBrowser(t *testing.T) {
	s := newShop(t, newFakeAPI(t), nil)
	s.startOrder(t)
	_, authenticated := s.do(t, "POST", "/api/authenticate/"+enrolledID, checkoutBody(nil))
	pages := []string{authenticated}
	for _, path := range []string{"/", "/static/shop.js", "/orders/" + enrolledID} {
		_, body := s.do(t, "GET", path, "")
		pages = append(pages, body)
	}
	for i, body := range pages {
		if strings.Contains(body, apiKey) {
			t.Errorf("answer %d shows the API key", i)
		}
	}
	if strings.Contains(s.logs.String(), apiKey) {
		t.Error("the log shows the API key")
	}
}

func TestAmountsAreWrittenForTheShopsCurrency(t *testing.T) {
	cases := []struct {
		name, currency string
		amount         int64
		want           string
		exponent       float64
	}{
		{"euros have cents", "978", 145000, "€1,450.00", 2},
		{"yen have no minor unit", "392", 12000, "¥12,000", 0},
		{"dollars have cents", "840", 8905, "$89.05", 2},
		{"a small amount keeps its leading zero", "840", 5, "$0.05", 2},
		{"Bahraini dinars have three decimals", "048", 1250, "BHD 1.250", 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI(t)
			s := newShop(t, api, func(c *shop.Config) {
				c.Currency = tc.currency
				c.Products = []shop.Product{{ID: "thing", Name: "A thing", Amount: tc.amount}}
			})
			if _, body := s.do(t, "GET", "/", ""); !strings.Contains(body, tc.want) {
				t.Errorf("the page lacks %s", tc.want)
			}
			s.startOrder(t)
			s.do(t, "POST", "/api/authenticate/"+enrolledID, checkoutBody(map[string]any{"product": "thing"}))
			sent := api.sentFor(enrolledID)
			if sent["currency"] != tc.currency || sent["exponent"] != tc.exponent {
				t.Errorf("the 3DS Server got currency %v exponent %v", sent["currency"], sent["exponent"])
			}
		})
	}
}

func TestTheStaticFilesAreCached(t *testing.T) {
	s := newShop(t, newFakeAPI(t), nil)
	for path, ct := range map[string]string{"/static/shop.css": "text/css", "/static/shop.js": "text/javascript",
		"/static/secure-checkout.svg": "image/svg+xml"} {
		resp, _ := s.do(t, "GET", path, "")
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), ct) ||
			!strings.Contains(resp.Header.Get("Cache-Control"), "max-age") {
			t.Errorf("GET %s: %d %q %q", path, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
		}
	}
	if resp, body := s.do(t, "GET", "/static/", ""); resp.StatusCode != 404 || strings.Contains(body, "shop.js") {
		t.Errorf("GET /static/: %d %s, want 404 without a listing", resp.StatusCode, body)
	}
}

func TestHealthzAnswersOK(t *testing.T) {
	s := newShop(t, newFakeAPI(t), nil)
	if resp, body := s.do(t, "GET", "/healthz", ""); resp.StatusCode != http.StatusOK || body != "ok\n" {
		t.Errorf("got %d %q", resp.StatusCode, body)
	}
}

func TestNewNamesEveryConfigProblem(t *testing.T) {
	_, err := shop.New(shop.Config{APIURL: "localhost:8413", ScriptURL: "/checkout.js", Currency: "999",
		Products: []shop.Product{{ID: "Book!", Amount: 0}, {ID: "x", Name: "X", Amount: 1}, {ID: "x", Name: "Y", Amount: 1}},
		Cards:    []shop.Card{{Number: "4000000000001000", Product: "x"}, {Number: "4000000000001000", Product: "bike"}}})
	if err == nil {
		t.Fatal("New accepted a broken config")
	}
	for _, w := range []string{"APIURL", "APIKey", "ScriptURL", `Currency "999"`, "Products[0].ID", "Products[0].Name",
		"Products[0].Amount", `Products[2].ID "x" is used twice`, `Cards[1].Product "bike" is not one of the products`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the error does not name %s: %v", w, err)
		}
	}
}
