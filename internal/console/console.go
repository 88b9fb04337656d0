// Package console is the operations console every role serves under /console/ on its admin listener:
// sign-in with accounts (argon2id passwords, a TOTP second factor, lockout, sessions kept in the
// store, CSRF tokens on every form), three kinds of account (admin, operator, read-only), the audit
// log, and the frame that each role's own pages sit in. Pages are rendered on the server and need no
// script; charts are SVG drawn into the page (chart.go).
//
// A role adds its pages with Page and its changes with Action; the console checks the session, the
// account's access and the form's CSRF token before either runs, and records every Action in the
// audit log. Sessions live in the role's store, so any instance behind a load balancer serves them.
package console

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/audit"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/vault"
)

//go:embed templates/*.html static/*
var files embed.FS

// Options build a Console.
type Options struct {
	// Role is the role's short name (ds, acs, 3dss): it names the session cookie, so that the consoles
	// of several roles on one host (the demo's) keep their sessions apart.
	Role string
	// Title is the role as operators call it ("Directory Server"); the console's header shows it.
	Title string
	DB    *store.DB
	// Vault, when set, seals the accounts' TOTP secrets at rest.
	Vault  *vault.Keyring
	Policy Policy
	Log    *slog.Logger
	// SecureCookies marks the session cookie Secure even on plain HTTP requests: set it when TLS ends
	// at a load balancer in front of the admin listener. Requests that arrive over TLS get it anyway.
	SecureCookies bool
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Console is one role's console.
type Console struct {
	o        Options
	accounts *Accounts
	audit    *audit.Log
	mux      *http.ServeMux
	nav      []NavItem
	home     string
	now      func() time.Time
}

// NavItem is one entry of the console's navigation.
type NavItem struct {
	Path  string // under /console, e.g. "/cardholders"
	Label string
	// Group puts related pages together in the navigation ("Issuer", "Analytics"); empty is the
	// role's main group.
	Group string
}

// New builds a console. Its pages are added with Page and Action before Handler is served.
func New(o Options) *Console {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Policy.MaxAttempts == 0 {
		o.Policy = DefaultPolicy
	}
	acc := NewAccounts(o.DB, o.Vault, o.Policy)
	acc.now = o.Now
	c := &Console{o: o, accounts: acc, audit: audit.New(o.DB), mux: http.NewServeMux(), now: o.Now}
	c.routes()
	return c
}

// Accounts returns the console's accounts, for the command line and the demo.
func (c *Console) Accounts() *Accounts { return c.accounts }

// Audit returns the role's audit log.
func (c *Console) Audit() *audit.Log { return c.audit }

// Handler serves the console; mount it at /console/ on the admin listener.
func (c *Console) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// Console pages carry operators' data: never cached, never framed, and links out send only
		// the origin.
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		c.mux.ServeHTTP(w, r)
	})
}

// Request is what a role's page or action gets: the HTTP request and the session it came with.
type Request struct {
	*http.Request
	Session *Session
	w       http.ResponseWriter
}

// Writer is the response, for a page that answers with something other than a View (a CSV export).
func (r *Request) Writer() http.ResponseWriter { return r.w }

// View is what a page shows: its title and its template with the data the template reads as
// .Data. Template nil with Raw set sends Raw as it is (the page wrote its own answer).
type View struct {
	Title    string
	Template *Template
	Data     any
	// Written says the page wrote its answer itself through Request.Writer.
	Written bool
}

// PageFunc renders one page.
type PageFunc func(r *Request) (View, error)

// Change is what an Action did, for the audit log and the page that follows.
type Change struct {
	Action string // audit action, e.g. "cardholder.unlock"
	Target string // what changed; never a PAN or a secret
	Detail string
	// Notice is shown once on the next page ("Card …1234 unlocked").
	Notice string
	// Redirect is where the browser goes next, a path under /console; empty goes back to the form's
	// "back" field or the console's home.
	Redirect string
	// Unchanged says nothing was changed after all (a no-op); nothing is recorded.
	Unchanged bool
	// Show, when set, is rendered as the answer instead of a redirect: for what may be shown once
	// only (a new password, a new API key), which must not travel through a URL or a stored notice.
	Show *View
}

// ActionFunc makes one change. A *FieldError or an *httpx.Problem with a 4xx status is shown to the
// operator on the next page, and nothing is recorded.
type ActionFunc func(r *Request) (Change, error)

// Page adds a page at GET /console<nav.Path> that accounts with at least need may see. A nav with
// an empty Label routes the page without listing it in the navigation (a detail page).
func (c *Console) Page(nav NavItem, need Access, h PageFunc) {
	if nav.Label != "" {
		c.nav = append(c.nav, nav)
		if c.home == "" {
			c.home = nav.Path
		}
	}
	c.mux.Handle("GET /console"+nav.Path, httpx.Page(c.signedIn(need, func(w http.ResponseWriter, r *Request) error {
		v, err := h(r)
		if err != nil {
			return err
		}
		if v.Written {
			return nil
		}
		return c.render(w, r, v)
	})))
}

// Action adds a change at POST /console<path> for accounts with at least need.
func (c *Console) Action(path string, need Access, h ActionFunc) {
	c.mux.Handle("POST /console"+path, httpx.Page(c.signedIn(need, func(w http.ResponseWriter, r *Request) error {
		ch, err := h(r)
		back := localPath(r.FormValue("back"), "/console"+c.home)
		if msg, ok := userError(err); ok {
			c.flash(r, "!"+msg)
			http.Redirect(w, r.Request, back, http.StatusSeeOther)
			return nil
		}
		if err != nil {
			return err
		}
		if !ch.Unchanged {
			c.record(r, ch.Action, ch.Target, ch.Detail)
		}
		if ch.Show != nil {
			w.Header().Set("Cache-Control", "no-store")
			return c.render(w, r, *ch.Show)
		}
		if ch.Notice != "" {
			c.flash(r, ch.Notice)
		}
		to := back
		if ch.Redirect != "" {
			to = localPath("/console"+ch.Redirect, back)
		}
		http.Redirect(w, r.Request, to, http.StatusSeeOther)
		return nil
	})))
}

// userError is the sentence an operator should read for err, when err is their mistake.
func userError(err error) (string, bool) {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Field + ": " + fe.Problem, true
	}
	var p *httpx.Problem
	if errors.As(err, &p) && p.Status >= 400 && p.Status < 500 {
		msg := p.Detail
		for _, f := range p.Errors {
			msg += " " + f.Field + ": " + f.Detail + "."
		}
		if msg == "" {
			msg = p.Title
		}
		return strings.TrimSpace(msg), true
	}
	return "", false
}

// localPath returns p if it is a path inside the console, else def: a form's "back" field never
// sends the browser elsewhere.
func localPath(p, def string) string {
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/console/") ||
		strings.Contains(u.Path, "..") || strings.HasPrefix(p, "//") {
		return def
	}
	return u.RequestURI()
}

// Record writes an audit entry for a change made outside an Action (a page that changes something
// as a side effect should not exist, but the sign-in pages record sign-ins this way).
func (c *Console) record(r *Request, action, target, detail string) {
	actor := "anonymous"
	if r.Session != nil {
		actor = r.Session.Account
	}
	c.recordAs(r.Request, actor, action, target, detail)
}

func (c *Console) recordAs(r *http.Request, actor, action, target, detail string) {
	e := audit.Entry{Actor: actor, Via: audit.ViaConsole, Action: action, Target: target, Detail: detail, Remote: r.RemoteAddr}
	// The change has been made: its record is written even if the browser has gone.
	if err := c.audit.Record(context.WithoutCancel(r.Context()), e); err != nil {
		c.o.Log.Error("console: audit entry not written", "action", action, "target", target, "err", err)
	}
}

func (c *Console) flash(r *Request, msg string) {
	if r.Session == nil {
		return
	}
	if err := c.accounts.setFlash(context.WithoutCancel(r.Context()), r.Session, msg); err != nil {
		c.o.Log.Warn("console: notice not kept", "err", err)
	}
}

// ---- sessions and access ----

func (c *Console) cookieName() string {
	return "open3ds_" + strings.ReplaceAll(c.o.Role, "-", "_") + "_console"
}

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/console/", MaxAge: maxAge, HttpOnly: true,
		Secure: c.o.SecureCookies || r.TLS != nil, SameSite: http.SameSiteStrictMode})
}

func (c *Console) sessionOf(r *http.Request) (*Session, error) {
	ck, err := r.Cookie(c.cookieName())
	if err != nil {
		return nil, nil
	}
	return c.accounts.session(r.Context(), ck.Value)
}

// maxForm bounds a console form; nothing an operator types is near it.
const maxForm = 64 << 10

// signedIn lets a request through to h when it comes with a complete session of an account with at
// least need; a form must also carry the session's CSRF token. Others go to the sign-in page (a
// page) or get 403 (a change).
func (c *Console) signedIn(need Access, h func(http.ResponseWriter, *Request) error) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		s, err := c.sessionOf(r)
		if err != nil {
			return err
		}
		if s == nil || s.Stage != stageSignedIn {
			if r.Method != http.MethodGet {
				return httpx.NewProblem(http.StatusForbidden, "sign in again: your session has ended")
			}
			to := "/console/sign-in"
			if s != nil {
				to = "/console/second-factor"
			} else if r.URL.Path != "/console/" {
				to += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			http.Redirect(w, r, to, http.StatusSeeOther)
			return nil
		}
		if !s.Access.Allows(need) {
			return httpx.NewProblem(http.StatusForbidden, "")
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if err := r.ParseForm(); err != nil {
				return httpx.NewProblem(http.StatusBadRequest, "")
			}
			if !sameToken(r.PostFormValue("csrf"), s.CSRF) {
				return httpx.NewProblem(http.StatusForbidden, "the form has expired: go back, reload the page and try again")
			}
		}
		return h(w, &Request{Request: r, Session: s, w: w})
	}
}

// ---- rendering ----

// Template is a page's template inside the console's frame.
type Template struct{ t *template.Template }

var layout = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html"))

// ParsePage makes a Template from a role's page file, which defines "content" (and may define
// "head"). fsys is the role's embedded files.
func ParsePage(fsys fs.FS, name string) *Template {
	t := template.Must(template.Must(layout.Clone()).ParseFS(fsys, name))
	return &Template{t: t}
}

// pageOf is for the console's own pages.
func pageOf(name string) *Template { return ParsePage(files, "templates/"+name) }

// frame is what the layout reads.
type frame struct {
	Title, Console, Role string
	Nav                  []navGroup
	Session              *Session
	CSRF                 string
	Notice, Alert        string
	Path                 string
	Data                 any
}

type navGroup struct {
	Name  string
	Items []navLink
}

type navLink struct {
	Href, Label string
	Active      bool
}

func (c *Console) navFor(s *Session, path string) []navGroup {
	var groups []navGroup
	idx := map[string]int{}
	add := func(group, href, label string) {
		i, ok := idx[group]
		if !ok {
			i = len(groups)
			idx[group] = i
			groups = append(groups, navGroup{Name: group})
		}
		groups[i].Items = append(groups[i].Items, navLink{Href: href, Label: label,
			Active: path == href || strings.HasPrefix(path, href+"/")})
	}
	for _, n := range c.nav {
		add(n.Group, "/console"+n.Path, n.Label)
	}
	add("Console", "/console/audit", "Audit log")
	if s != nil && s.Access.Allows(Admin) {
		add("Console", "/console/accounts", "Accounts")
	}
	add("Console", "/console/account", "Your account")
	return groups
}

func (c *Console) render(w http.ResponseWriter, r *Request, v View) error {
	return c.renderStatus(w, r.Request, r.Session, http.StatusOK, v)
}

func (c *Console) renderStatus(w http.ResponseWriter, r *http.Request, s *Session, status int, v View) error {
	f := frame{Title: v.Title, Console: c.o.Title, Role: c.o.Role, Session: s, Path: r.URL.Path, Data: v.Data}
	if s != nil && s.Stage == stageSignedIn {
		f.Nav = c.navFor(s, r.URL.Path)
		f.CSRF = s.CSRF
		if msg, isAlert := strings.CutPrefix(s.Flash, "!"); isAlert {
			f.Alert = msg
		} else {
			f.Notice = s.Flash
		}
	}
	var b strings.Builder
	if err := v.Template.t.ExecuteTemplate(&b, "layout.html", f); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write([]byte(b.String()))
	return err
}

var funcs = template.FuncMap{
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return "—"
			}
			return v.UTC().Format("2006-01-02 15:04:05 UTC")
		case *time.Time:
			if v == nil || v.IsZero() {
				return "—"
			}
			return v.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		return "—"
	},
	"pct":      func(v float64) string { return formatPct(v) },
	"accesses": func() []Access { return Accesses },
}
