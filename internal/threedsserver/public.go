package threedsserver

import (
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/store"
)

// PublicRoutes are the browser-facing routes of PublicHandler.
var PublicRoutes = []string{"POST /3ds/method", "POST /3ds/notification"}

// PublicHandler serves shoppers' browsers: the ACS's 3DS Method page and its final challenge page
// post here. Neither answer carries a result the merchant should trust; that comes from the RReq.
func (s *Server) PublicHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(PublicRoutes[0], httpx.Page(s.methodNotification))
	mux.Handle(PublicRoutes[1], httpx.Page(s.challengeNotification))
	return mux
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
	if err := s.cfg.Store.MarkMethodDone(r.Context(), id); errors.Is(err, store.ErrNotFound) {
		return httpx.NewProblem(http.StatusNotFound, "unknown transaction")
	} else if err != nil {
		return err
	}
	// The page loads in the checkout's hidden iframe, so it must not forbid framing as DefaultCSP does.
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, err = w.Write([]byte("<!doctype html><title>3DS Method</title>"))
	return err
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
<body><p>Authentication complete. You may close this window.</p>
<script nonce="{{.Nonce}}">
(function () {
  var msg = {type: "open3ds:challenge", outcome: {{.Outcome}}};
  var target = window.parent !== window ? window.parent : window.opener;
  if (target) { target.postMessage(msg, {{.Origin}}); }
})();
</script></body></html>`))

func (s *Server) challengeNotification(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	n, err := DecodeNotification(r.PostFormValue("cres"))
	if err != nil {
		return httpx.BadRequest("the challenge result could not be read")
	}
	if _, err := s.cfg.Store.Transaction(r.Context(), n.ID); errors.Is(err, store.ErrNotFound) {
		return httpx.NewProblem(http.StatusNotFound, "unknown transaction")
	} else if err != nil {
		return err
	}
	// The page loads in the challenge iframe: its CSP allows its one script and framing.
	nonce := newUUID()
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	return notificationPage.Execute(w, map[string]any{"Nonce": nonce, "Outcome": n, "Origin": s.parentOrigin()})
}

// parentOrigin is the one origin the page posts to: never "*", since the outcome names the
// transaction.
func (s *Server) parentOrigin() string {
	if s.cfg.ParentOrigin != "" {
		return s.cfg.ParentOrigin
	}
	return s.cfg.PublicURL
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
