package console

import (
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/open3ds/open3ds/internal/audit"
	"github.com/open3ds/open3ds/internal/httpx"
)

// The console's own pages: sign-in, the audit log, accounts (admins), and one's own account.

var (
	auditPage    = pageOf("audit.html")
	accountsPage = pageOf("accounts.html")
	accountPage  = pageOf("account.html")
	shownPage    = pageOf("password_shown.html")
)

func (c *Console) routes() {
	static, _ := fs.Sub(files, "static")
	fsrv := http.StripPrefix("/console/static/", http.FileServerFS(static))
	c.mux.Handle("GET /console/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	}))
	c.mux.Handle("GET /console/{$}", httpx.Page(c.signedIn(ReadOnly, func(w http.ResponseWriter, r *Request) error {
		home := "/console/audit"
		if c.home != "" {
			home = "/console" + c.home
		}
		http.Redirect(w, r.Request, home, http.StatusSeeOther)
		return nil
	})))
	c.mux.Handle("GET /console", http.RedirectHandler("/console/", http.StatusMovedPermanently))
	c.mux.Handle("GET /console/sign-in", httpx.Page(c.signInForm))
	c.mux.Handle("POST /console/sign-in", httpx.Page(c.signIn))
	c.mux.Handle("GET /console/second-factor", httpx.Page(c.secondFactorForm))
	c.mux.Handle("POST /console/second-factor", httpx.Page(c.secondFactor))
	c.mux.Handle("POST /console/sign-out", httpx.Page(c.signOut))

	c.Page(NavItem{Path: "/audit"}, ReadOnly, c.auditLog)
	c.Page(NavItem{Path: "/account"}, ReadOnly, c.ownAccount)
	c.Action("/account/password", ReadOnly, c.changeOwnPassword)
	c.Page(NavItem{Path: "/accounts"}, Admin, c.listAccounts)
	c.Action("/accounts", Admin, c.createAccount)
	c.Action("/accounts/{name}/access", Admin, c.changeAccess)
	c.Action("/accounts/{name}/unlock", Admin, c.unlockAccount)
	c.Action("/accounts/{name}/reset", Admin, c.resetAccount)
	c.Action("/accounts/{name}/disable", Admin, c.disableAccount)
	c.Action("/accounts/{name}/enable", Admin, c.enableAccount)
	c.Action("/accounts/{name}/delete", Admin, c.deleteAccount)
}

type auditData struct {
	Entries []audit.Entry
	Filter  audit.Filter
	Next    string // the link to older entries, empty on the last page
	Vias    []string
}

func (c *Console) auditLog(r *Request) (View, error) {
	q := r.URL.Query()
	f := audit.Filter{Actor: strings.TrimSpace(q.Get("actor")), Via: q.Get("via"), Action: strings.TrimSpace(q.Get("action")),
		Target: strings.TrimSpace(q.Get("target")), Limit: 50}
	if b, err := strconv.ParseInt(q.Get("before"), 10, 64); err == nil && b > 0 {
		f.Before = b
	}
	es, err := c.audit.List(r.Context(), f)
	if err != nil {
		return View{}, err
	}
	d := auditData{Entries: es, Filter: f, Vias: []string{audit.ViaConsole, audit.ViaCLI, audit.ViaAPI}}
	if len(es) == f.Limit {
		nq := url.Values{}
		for _, k := range []string{"actor", "via", "action", "target"} {
			if v := q.Get(k); v != "" {
				nq.Set(k, v)
			}
		}
		nq.Set("before", strconv.FormatInt(es[len(es)-1].ID, 10))
		d.Next = "/console/audit?" + nq.Encode()
	}
	return View{Title: "Audit log", Template: auditPage, Data: d}, nil
}

type accountsData struct {
	Accounts []Account
	Me       string
}

// shownPassword is shown once, in the answer to the form that made it: never in a redirect's URL,
// the session's notice (which is stored) or a log.
type shownPassword struct{ Name, Password, What string }

func (c *Console) listAccounts(r *Request) (View, error) {
	as, err := c.accounts.List(r.Context())
	if err != nil {
		return View{}, err
	}
	for i := range as {
		if as[i].LockedUntil != nil && !as[i].Locked(c.now()) {
			as[i].LockedUntil = nil
		}
	}
	return View{Title: "Accounts", Template: accountsPage, Data: accountsData{Accounts: as, Me: r.Session.Account}}, nil
}

func (c *Console) createAccount(r *Request) (Change, error) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	access, err := ParseAccess(r.PostFormValue("access"))
	if err != nil {
		return Change{}, &FieldError{"access", err.Error()}
	}
	pw, err := c.accounts.Create(r.Context(), name, access, "")
	if errors.Is(err, ErrExists) {
		return Change{}, &FieldError{"name", "is taken by another account"}
	}
	if err != nil {
		return Change{}, err
	}
	return Change{Action: "account.create", Target: name, Detail: "access " + string(access),
		Show: &View{Title: "Account created", Template: shownPage, Data: shownPassword{name, pw, "created"}}}, nil
}

func (c *Console) changeAccess(r *Request) (Change, error) {
	name := r.PathValue("name")
	access, err := ParseAccess(r.PostFormValue("access"))
	if err != nil {
		return Change{}, &FieldError{"access", err.Error()}
	}
	if name == r.Session.Account {
		return Change{}, &FieldError{"access", "of your own account cannot be changed by yourself; ask another admin"}
	}
	if err := c.accounts.SetAccess(r.Context(), name, access); err != nil {
		return Change{}, accountProblem(err)
	}
	return Change{Action: "account.access", Target: name, Detail: "access " + string(access),
		Notice: name + " now has " + string(access) + " access.", Redirect: "/accounts"}, nil
}

func (c *Console) unlockAccount(r *Request) (Change, error) {
	name := r.PathValue("name")
	if err := c.accounts.Unlock(r.Context(), name); err != nil {
		return Change{}, accountProblem(err)
	}
	return Change{Action: "account.unlock", Target: name, Notice: name + " is unlocked.", Redirect: "/accounts"}, nil
}

func (c *Console) resetAccount(r *Request) (Change, error) {
	name := r.PathValue("name")
	secondFactor := r.PostFormValue("second_factor") == "on"
	pw, err := c.accounts.ResetPassword(r.Context(), name, "", secondFactor)
	if err != nil {
		return Change{}, accountProblem(err)
	}
	detail := "password reset"
	if secondFactor {
		detail += "; TOTP app removed, to be enrolled at the next sign-in"
	}
	return Change{Action: "account.reset", Target: name, Detail: detail,
		Show: &View{Title: "Password reset", Template: shownPage, Data: shownPassword{name, pw, "reset"}}}, nil
}

func (c *Console) disableAccount(r *Request) (Change, error) {
	name := r.PathValue("name")
	if name == r.Session.Account {
		return Change{}, &FieldError{"account", "cannot disable itself"}
	}
	if err := c.accounts.SetDisabled(r.Context(), name, true); err != nil {
		return Change{}, accountProblem(err)
	}
	return Change{Action: "account.disable", Target: name, Notice: name + " is disabled and signed out.", Redirect: "/accounts"}, nil
}

func (c *Console) enableAccount(r *Request) (Change, error) {
	name := r.PathValue("name")
	if err := c.accounts.SetDisabled(r.Context(), name, false); err != nil {
		return Change{}, accountProblem(err)
	}
	return Change{Action: "account.enable", Target: name, Notice: name + " is enabled.", Redirect: "/accounts"}, nil
}

func (c *Console) deleteAccount(r *Request) (Change, error) {
	name := r.PathValue("name")
	if name == r.Session.Account {
		return Change{}, &FieldError{"account", "cannot delete itself"}
	}
	if err := c.accounts.Delete(r.Context(), name); err != nil {
		return Change{}, accountProblem(err)
	}
	return Change{Action: "account.delete", Target: name, Notice: name + " is deleted.", Redirect: "/accounts"}, nil
}

func accountProblem(err error) error {
	if errors.Is(err, ErrNoAccount) {
		return &FieldError{"account", "does not exist"}
	}
	return err
}

func (c *Console) ownAccount(r *Request) (View, error) {
	ac, err := c.accounts.Get(r.Context(), r.Session.Account)
	if err != nil {
		return View{}, err
	}
	return View{Title: "Your account", Template: accountPage, Data: ac}, nil
}

func (c *Console) changeOwnPassword(r *Request) (Change, error) {
	name := r.Session.Account
	at, err := c.accounts.reserve(r.Context(), name)
	if errors.Is(err, errLocked) {
		return Change{}, &FieldError{"current password", "cannot be checked: the account is locked"}
	}
	if err != nil {
		return Change{}, err
	}
	ok, _, err := CheckPassword(at.hash, r.PostFormValue("current"), c.accounts.argon)
	if err != nil {
		return Change{}, err
	}
	if !ok {
		return Change{}, &FieldError{"current password", "is wrong"}
	}
	if err := c.accounts.release(r.Context(), name, at, false); err != nil {
		return Change{}, err
	}
	pw := r.PostFormValue("new")
	if pw != r.PostFormValue("repeat") {
		return Change{}, &FieldError{"new password", "and its repetition differ"}
	}
	if _, err := c.accounts.ResetPassword(r.Context(), name, pw, false); err != nil {
		return Change{}, err
	}
	// ResetPassword ended every session of the account, this one too: sign in again.
	return Change{Action: "account.password", Target: name, Detail: "changed by the account itself",
		Redirect: "/sign-in"}, nil
}
