package threedsserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/ids"
	"github.com/open3ds/open3ds/internal/store"
)

// PublicRoutes are the browser-facing routes of PublicHandler.
var PublicRoutes = []string{"POST /3ds/method", "POST /3ds/notification", "GET /checkout.js"}

// PublicHandler serves shoppers' browsers: the checkout script the merchant's page loads, and the
// pages the ACS's 3DS Method and final challenge page post to. Neither page carries a result the
// merchant should trust; that comes from the RReq.
func (s *Server) PublicHandler() http.Handler {
	mux := http.NewServeMux()
	framed := func(h httpx.HandlerFunc) http.Handler { return httpx.WithCSP(framedErrorCSP, httpx.Page(h)) }
	mux.Handle(PublicRoutes[0], framed(s.methodNotification))
	mux.Handle(PublicRoutes[1], framed(s.challengeNotification))
	mux.HandleFunc(PublicRoutes[2], serveCheckoutJS)
	return mux
}

// framedErrorCSP is the policy of the two notification routes when they answer with an error page.
// Both routes load in the merchant's iframes, so the default policy's frame-ancestors 'none' would
// leave the shopper looking at a browser's "refused to connect" box instead of our sentence. Any
// ancestor may frame them, as with the ACS's pages: the error page holds only a status, a sentence
// and a request id, and for an unknown transaction we could not name the merchant's origin anyway.
// The success pages replace this policy with their nonced one (writeNoncedPage).
const framedErrorCSP = "default-src 'none'; form-action 'none'; frame-ancestors *; base-uri 'none'"

// checkoutJS is the checkout script (docs/checkout.md), served at /checkout.js.
//
//go:embed static/checkout.js
var checkoutJS []byte

// checkoutETag names this build's script, so that a browser whose copy is older than five minutes
// revalidates it with a cheap 304.
var checkoutETag = func() string {
	sum := sha256.Sum256(checkoutJS)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}()

func serveCheckoutJS(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("ETag", checkoutETag)
	// A merchant may pin the script with Subresource Integrity, which needs a CORS answer.
	h.Set("Access-Control-Allow-Origin", "*")
	http.ServeContent(w, r, "checkout.js", time.Time{}, bytes.NewReader(checkoutJS))
}

// DecodeMethodData reads the threeDSMethodData the ACS posts back: base64url (padded or not, or
// standard base64) of a JSON object with a UUID threeDSServerTransID.
func DecodeMethodData(v string) (string, error) {
	raw, err := emv.DecodeBase64Lenient(v)
	if err != nil {
		return "", errors.New("threeDSMethodData is not base64url")
	}
	var d struct {
		ID string `json:"threeDSServerTransID"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return "", errors.New("threeDSMethodData is not a JSON object")
	}
	if !isUUID(d.ID) {
		return "", errors.New("threeDSServerTransID is not a UUID")
	}
	return strings.ToLower(d.ID), nil
}

func (s *Server) methodNotification(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	id, err := DecodeMethodData(r.PostFormValue("threeDSMethodData"))
	if err != nil {
		return httpx.BadRequest(err.Error())
	}
	ctx := r.Context()
	if err := s.cfg.Store.MarkMethodDone(ctx, id); errors.Is(err, store.ErrNotFound) {
		return httpx.NewProblem(http.StatusNotFound, "unknown transaction")
	} else if err != nil {
		return err
	}
	_, m, err := s.transactionAndMerchant(ctx, id)
	if err != nil {
		return err
	}
	return writeNoncedPage(w, methodPage, map[string]any{"ID": id, "Origin": s.parentOrigin(m)})
}

// methodPage tells the checkout script that the 3DS Method completed. Without a script it is a
// blank page, and the script's 10-second timer decides.
var methodPage = template.Must(template.New("m").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>3DS Method</title></head><body>
<script nonce="{{.Nonce}}">
(function () {
  var msg = {type: "open3ds:method", id: {{.ID}}};
  // An ACS may frame its own page, so every ancestor is told; the target origin makes the browser
  // drop the message at any window that is not the merchant's page.
  for (var w = window; w.parent !== w; ) { w = w.parent; w.postMessage(msg, {{.Origin}}); }
})();
</script></body></html>`))

// writeNoncedPage writes a page whose one inline script runs under a fresh nonce. The policy
// leaves out frame-ancestors, since both pages load in the merchant's iframes.
func writeNoncedPage(w http.ResponseWriter, page *template.Template, data map[string]any) error {
	nonce := ids.New()
	data["Nonce"] = nonce
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	return page.Execute(w, data)
}

// Notification is what the challenge notification page tells the parent window. It is the
// browser's word, for the page's flow only: the merchant's back end reads the RReq's result.
type Notification struct {
	ID          string `json:"id"`
	TransStatus string `json:"transStatus,omitempty"`
	ErrorCode   string `json:"errorCode,omitempty"`
}

// DecodeNotification reads the `cres` field the ACS posts to notificationURL: a final CRes, or an
// Erro (some ACSs post one there when the challenge fails).
func DecodeNotification(v string) (Notification, error) {
	raw, err := emv.DecodeBase64Lenient(v)
	if err != nil {
		return Notification{}, errors.New("cres is not base64url")
	}
	m, err := emv.Parse(raw, nil)
	if err != nil {
		return Notification{}, err
	}
	switch m := m.(type) {
	case *emv.CRes:
		if m.ChallengeCompletionInd != "Y" {
			return Notification{}, errors.New("cres is not a final CRes")
		}
		return Notification{ID: strings.ToLower(m.ThreeDSServerTransID), TransStatus: m.TransStatus}, nil
	case *emv.Erro:
		return Notification{ID: strings.ToLower(m.ThreeDSServerTransID), ErrorCode: m.ErrorCode}, nil
	}
	return Notification{}, errors.New("cres holds a " + m.Type())
}

var notificationPage = template.Must(template.New("n").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Authentication complete</title></head>
<body><p>Authentication complete.{{if .Return}} <noscript><a href="{{.Return}}">Return to the shop</a></noscript>{{else}} You may close this window.{{end}}</p>
<script nonce="{{.Nonce}}">
(function () {
  var msg = {type: "open3ds:challenge", outcome: {{.Outcome}}}, origin = {{.Origin}}, back = {{.Return}};
  if (window.parent === window) {
    // Top level: a pop-up hears from us; a redirected checkout goes back to the shop.
    if (window.opener) { window.opener.postMessage(msg, origin); } else if (back) { location.replace(back); }
    return;
  }
  // As on the 3DS Method page, every ancestor is told and only the merchant's page can hear it.
  for (var w = window; w.parent !== w; ) { w = w.parent; w.postMessage(msg, origin); }
})();
</script></body></html>`))

func (s *Server) challengeNotification(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	n, err := DecodeNotification(r.PostFormValue("cres"))
	if err != nil {
		return httpx.BadRequest("the challenge result could not be read")
	}
	t, m, err := s.transactionAndMerchant(r.Context(), n.ID)
	if err != nil {
		return err
	}
	return writeNoncedPage(w, notificationPage, map[string]any{"Outcome": n, "Origin": s.parentOrigin(m),
		"Return": withID(t.ReturnURL, t.ID)})
}

// transactionAndMerchant finds a transaction the browser names and the merchant it belongs to.
func (s *Server) transactionAndMerchant(ctx context.Context, id string) (Transaction, Merchant, error) {
	t, err := s.cfg.Store.Transaction(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return t, Merchant{}, httpx.NewProblem(http.StatusNotFound, "unknown transaction")
	} else if err != nil {
		return t, Merchant{}, err
	}
	m, err := s.cfg.Store.Merchant(ctx, t.MerchantID)
	return t, m, err
}

// withID adds id=<transaction> to the merchant's returnUrl, keeping its own query and fragment;
// "" stays "".
func withID(returnURL, id string) string {
	u, err := url.Parse(returnURL)
	if returnURL == "" || err != nil {
		return ""
	}
	if u.RawQuery != "" {
		u.RawQuery += "&"
	}
	u.RawQuery += "id=" + url.QueryEscape(id)
	return u.String()
}

// parentOrigin is the one origin the notification pages post to: never "*", since the messages
// name the transaction. A configured origin wins (one merchant per 3DS Server); otherwise it is the
// origin of the merchant's threeDSRequestorURL, where its checkout page lives.
func (s *Server) parentOrigin(m Merchant) string {
	if s.cfg.ParentOrigin != "" {
		return s.cfg.ParentOrigin
	}
	if o, ok := originOf(m.RequestorURL); ok {
		return o
	}
	// Only a merchant stored around Validate gets here: the 3DS Server's own origin hears nothing.
	o, _ := originOf(s.cfg.PublicURL)
	return o
}

// originOf is the browser's origin of an absolute http(s) URL: scheme://host[:port], with the
// scheme's default port left out as browsers do.
func originOf(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" || u.User != nil {
		return "", false
	}
	host := strings.ToLower(u.Host)
	if p := u.Port(); (u.Scheme == "https" && p == "443") || (u.Scheme == "http" && p == "80") {
		host = strings.TrimSuffix(host, ":"+p)
	}
	return u.Scheme + "://" + host, true
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}
