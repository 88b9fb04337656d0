// Package shop is the demo shop: a product page with a checkout form that authenticates the card
// through the 3DS Server's merchant API and the 3DS Server's checkout script, and a result page that
// reads the outcome from the 3DS Server (the RReq's word, never the browser's).
//
// The shop plays a merchant's web site and its back end at once. The browser never sees the API key:
// the page talks to the shop's own /api endpoints, which call the merchant API with the key.
package shop

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/httpx"
)

// Config is what a shop needs.
type Config struct {
	APIURL    string       // the 3DS Server's merchant API base, e.g. https://127.0.0.1:8413
	APIKey    string       // the merchant's API key (a secret: never logged, never sent to the browser)
	Client    *http.Client // trusts the API listener's certificate; a client with a 30 s timeout when nil
	ScriptURL string       // the 3DS Server's checkout.js URL as browsers reach it
	// PublicURL is the shop's origin as browsers reach it (e.g. http://127.0.0.1:8080), which the 3DS
	// Server checks the return URL against; when empty, the Host of each request is used.
	PublicURL string
	Name      string       // shop name shown in the header (default "open3ds demo shop")
	Currency  string       // ISO 4217 numeric (default "978"); the page formats amounts for it
	Products  []Product    // default: DefaultProducts
	Cards     []Card       // optional: the demo's test cards, listed in a collapsible help box on the page
	Log       *slog.Logger // slog.Default() when nil

	// ResultWait is how long the result page waits for a challenge's result before it shows a
	// waiting page that reloads itself; 3 s when zero.
	ResultWait time.Duration
}

// Product is one thing the shop sells.
type Product struct {
	ID, Name, Description string
	Amount                int64 // minor units of Config.Currency
	// ChallengeFirst: for this product the shop wants the shopper to answer the bank's challenge,
	// with approval in the bank's app only as the challenge's fallback (the merchant API's
	// decoupled.fallback "only": 2.3.1's threeDSRequestorDecReqInd F). Other products allow the
	// bank's app up front.
	ChallengeFirst bool
}

// Card is a test card of the demo, shown on the page so that a visitor can try each outcome.
type Card struct {
	Number  string
	Expiry  string // MM/YY
	Outcome string // what to expect, e.g. "frictionless Y"
	Product string // the ID of the product this ending needs, if any: "Use" chooses it too
}

// DefaultProducts is the catalogue of a shop configured without one. The amounts span the demo
// issuer's risk policy: the high-value item is challenged.
var DefaultProducts = []Product{
	{ID: "book", Name: "Paperback: Secure Payments Explained", Description: "A friendly guide to card authentication.", Amount: 2400},
	{ID: "headphones", Name: "Wireless headphones", Description: "Noise cancelling, 30 hours of battery.", Amount: 8900,
		// Electronics resell easily: the shop wants the shopper to answer the bank there and then.
		ChallengeFirst: true},
	{ID: "bike", Name: "Carbon road bike", Description: "The high-value item: expect your bank to ask you to confirm.", Amount: 145000},
}

// Shop serves the shop's pages and its back end.
type Shop struct {
	cfg      Config
	money    currency
	api      *apiClient
	orders   *orderBook
	passkeys *passkeys
	products map[string]Product
	csp      string
}

//go:embed templates/*.html static/*
var files embed.FS

var funcs = template.FuncMap{"spaced": spaced}

var (
	indexPage = template.Must(template.New("").Funcs(funcs).ParseFS(files, "templates/base.html", "templates/index.html"))
	orderPage = template.Must(template.New("").Funcs(funcs).ParseFS(files, "templates/base.html", "templates/order.html"))
)

// New checks cfg, naming every problem at once, and makes the shop.
func New(cfg Config) (*Shop, error) {
	if cfg.Name == "" {
		cfg.Name = "open3ds demo shop"
	}
	if cfg.Currency == "" {
		cfg.Currency = "978"
	}
	if cfg.Products == nil {
		cfg.Products = DefaultProducts
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.ResultWait <= 0 {
		cfg.ResultWait = 3 * time.Second
	}
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("shop: "+format, a...)) }
	if !absoluteURL(cfg.APIURL) {
		bad("APIURL must be an absolute http(s) URL")
	}
	if cfg.APIKey == "" {
		bad("APIKey is required")
	}
	if !absoluteURL(cfg.ScriptURL) {
		bad("ScriptURL must be an absolute http(s) URL")
	}
	if cfg.PublicURL != "" && !absoluteURL(cfg.PublicURL) {
		bad("PublicURL must be an absolute http(s) URL")
	}
	money, ok := currencies[cfg.Currency]
	if !ok {
		bad("Currency %q is not an ISO 4217 numeric code the shop can format", cfg.Currency)
	}
	products := map[string]Product{}
	if len(cfg.Products) == 0 {
		bad("Products must list at least one product")
	}
	for i, p := range cfg.Products {
		if !productID(p.ID) {
			bad("Products[%d].ID must be 1-32 lower-case letters, digits or '-'", i)
		} else if _, dup := products[p.ID]; dup {
			bad("Products[%d].ID %q is used twice", i, p.ID)
		}
		if p.Name == "" {
			bad("Products[%d].Name is required", i)
		}
		if p.Amount <= 0 {
			bad("Products[%d].Amount must be positive", i)
		}
		products[p.ID] = p
	}
	for i, c := range cfg.Cards {
		if _, ok := products[c.Product]; c.Product != "" && !ok {
			bad("Cards[%d].Product %q is not one of the products", i, c.Product)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s := &Shop{cfg: cfg, money: money, products: products, orders: newOrderBook(maxOrders), passkeys: newPasskeys(),
		api: &apiClient{base: strings.TrimRight(cfg.APIURL, "/"), key: cfg.APIKey, client: cfg.Client}}
	// The page loads the checkout script from the 3DS Server and nothing else from elsewhere; the
	// 3DS Method and the challenge run in iframes whose ACS URLs no one knows in advance.
	s.csp = "default-src 'self'; script-src 'self' " + origin(cfg.ScriptURL) + "; frame-src http: https:; " +
		"style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"
	return s, nil
}

// Handler serves the whole shop. Its paths are absolute, so it must be the root handler of its own
// origin: the checkout script and the 3DS Server's return URL expect the shop there.
func (s *Shop) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", httpx.Page(s.index))
	mux.Handle("POST /api/start", httpx.API(s.start))
	mux.Handle("POST /api/authenticate/{id}", httpx.API(s.authenticate))
	mux.Handle("GET /api/result/{id}", httpx.API(s.poll))
	mux.Handle("POST /api/passkey/options", httpx.API(s.passkeyOptionsAPI))
	mux.Handle("POST /api/passkey/register", httpx.API(s.passkeyRegisterAPI))
	mux.Handle("POST /api/passkey/login", httpx.API(s.passkeyLoginAPI))
	mux.Handle("GET /orders/return", httpx.Page(s.orderReturn))
	mux.Handle("GET /orders/{id}", httpx.Page(s.order))
	mux.Handle("POST /orders/{id}/subscribe", httpx.Page(s.subscribe))
	static, _ := fs.Sub(files, "static")
	files := http.FileServerFS(static)
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // files only, no listing
			return
		}
		// Nothing in them is about one shopper; an hour keeps a redeployed demo fresh soon enough.
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	return httpx.Chain(mux, httpx.RequestID(s.cfg.Log), httpx.AccessLog, httpx.Recover, s.securityHeaders)
}

// securityHeaders sets the shop's headers on every answer, errors and static files included.
func (s *Shop) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", s.csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// indexData is what the shop page shows.
type indexData struct {
	Shop, Title  string
	Refresh      bool
	ScriptURL    string
	AcceptHeader string
	Products     []productView
	Cards        []Card
	SignedIn     bool // the shopper signed in with a passkey within passkeyLoginTTL
}

type productView struct {
	Product
	Price string
}

func (s *Shop) index(w http.ResponseWriter, r *http.Request) error {
	d := indexData{Shop: s.cfg.Name, Title: s.cfg.Name, ScriptURL: s.cfg.ScriptURL, Cards: s.cfg.Cards,
		AcceptHeader: r.Header.Get("Accept")}
	_, d.SignedIn = s.login(r)
	for _, p := range s.cfg.Products {
		d.Products = append(d.Products, productView{p, s.money.format(p.Amount)})
	}
	return render(w, indexPage, d)
}

func render(w http.ResponseWriter, t *template.Template, data any) error {
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "page", data); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, err := w.Write([]byte(b.String()))
	return err
}

// spaced groups a card number in fours, as it is printed on a card.
func spaced(number string) string {
	var b strings.Builder
	for i, c := range strings.ReplaceAll(number, " ", "") {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func absoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// origin is the scheme and host of an absolute URL, as a CSP source names it.
func origin(s string) string {
	u, _ := url.Parse(s)
	return u.Scheme + "://" + u.Host
}

func productID(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
