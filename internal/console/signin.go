package console

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/open3ds/open3ds/internal/httpx"
)

// The sign-in: a name and a password, then a code from the account's TOTP app (enrolled on the spot
// at the first sign-in when the policy requires it). Each wrong password or code counts against the
// account (reserve, in accounts.go); the limit locks it for Policy.LockFor. Whatever went wrong, the
// page says only that the name, password or code was wrong, or that the account is locked: it never
// tells which names exist.

var (
	signInPage       = pageOf("signin.html")
	secondFactorPage = pageOf("second_factor.html")
)

type signInData struct {
	Name, Next, Token, Problem string
}

// signInCookie carries the sign-in form's own CSRF token (double submit): there is no session yet
// whose token the form could carry.
func (c *Console) signInCookie() string { return c.cookieName() + "_form" }

func (c *Console) signInForm(w http.ResponseWriter, r *http.Request) error {
	if s, _ := c.sessionOf(r); s != nil && s.Stage == stageSignedIn {
		http.Redirect(w, r, "/console/", http.StatusSeeOther)
		return nil
	}
	return c.showSignIn(w, r, http.StatusOK, signInData{Next: localPath(r.URL.Query().Get("next"), "")})
}

func (c *Console) showSignIn(w http.ResponseWriter, r *http.Request, status int, d signInData) error {
	d.Token = randomToken()
	c.setCookie(w, r, c.signInCookie(), d.Token, 600)
	return c.renderStatus(w, r, nil, status, View{Title: "Sign in", Template: signInPage, Data: d})
}

func sameToken(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return a != "" && subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

func (c *Console) signIn(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		return httpx.NewProblem(http.StatusBadRequest, "")
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	d := signInData{Name: name, Next: localPath(r.PostFormValue("next"), "")}
	ck, err := r.Cookie(c.signInCookie())
	if err != nil || !sameToken(r.PostFormValue("token"), ck.Value) {
		d.Problem = "The sign-in form had expired. Please try again."
		return c.showSignIn(w, r, http.StatusForbidden, d)
	}
	password := r.PostFormValue("password")
	at, err := c.accounts.reserve(r.Context(), name)
	if errors.Is(err, errLocked) {
		// Spend the time a password check would, so a locked or unknown name answers as slowly as
		// a known one.
		CheckPassword(dummyHash, password, DefaultArgon2)
		c.recordAs(r, orUnknown(name), "signin.refused", name, "locked, disabled or unknown account")
		d.Problem = "The name or password is wrong, or the account is locked. After repeated failures an account stays locked for a while; an admin can unlock it."
		return c.showSignIn(w, r, http.StatusUnauthorized, d)
	}
	if err != nil {
		return err
	}
	// The attempt is reserved; what follows finishes whoever hangs up, so the count stays right.
	ctx := context.WithoutCancel(r.Context())
	ok, stale, err := CheckPassword(at.hash, password, c.accounts.argon)
	if err != nil {
		return err
	}
	if !ok {
		detail := "wrong password"
		if at.lockedNow {
			detail += "; account locked"
		}
		c.recordAs(r, name, "signin.failed", name, detail)
		d.Problem = "The name or password is wrong, or the account is locked. After repeated failures an account stays locked for a while; an admin can unlock it."
		return c.showSignIn(w, r, http.StatusUnauthorized, d)
	}
	if err := c.accounts.release(ctx, name, at, false); err != nil {
		return err
	}
	if stale {
		if h, err := HashPassword(password, c.accounts.argon); err == nil {
			c.accounts.update(ctx, name, "password_hash = ?", h)
		}
	}
	tok, err := c.accounts.newSession(ctx, name, stageSecondFactor)
	if err != nil {
		return err
	}
	if !at.confirmed && !c.o.Policy.RequireSecondFactor {
		// No second factor enrolled and none required: the password completes the sign-in.
		s, err := c.accounts.session(ctx, tok)
		if err != nil || s == nil {
			return errors.Join(err, errors.New("console: new session not found"))
		}
		if tok, err = c.accounts.promote(ctx, s); err != nil {
			return err
		}
		if err := c.accounts.release(ctx, name, at, true); err != nil {
			return err
		}
		c.recordAs(r, name, "signin", name, "password only (no second factor enrolled)")
		c.setCookie(w, r, c.cookieName(), tok, int(c.o.Policy.MaxSession.Seconds()))
		http.Redirect(w, r, orHome(d.Next), http.StatusSeeOther)
		return nil
	}
	c.setCookie(w, r, c.cookieName(), tok, int(c.o.Policy.MaxSession.Seconds()))
	to := "/console/second-factor"
	if d.Next != "" {
		to += "?next=" + url.QueryEscape(d.Next)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

func orUnknown(name string) string {
	if name == "" {
		return "(empty)"
	}
	return name
}

func orHome(next string) string {
	if next == "" {
		return "/console/"
	}
	return next
}

type secondFactorData struct {
	Account, Next, Problem string
	// Enrol is set while the account has no confirmed TOTP app: the page shows the secret.
	Enrol       bool
	Secret, URI string
	QR          template.URL // a data: URL of the otpauth QR code, empty if it could not be drawn
}

func (c *Console) secondFactorForm(w http.ResponseWriter, r *http.Request) error {
	return c.showSecondFactor(w, r, http.StatusOK, localPath(r.URL.Query().Get("next"), ""), "")
}

func (c *Console) showSecondFactor(w http.ResponseWriter, r *http.Request, status int, next, problem string) error {
	s, err := c.sessionOf(r)
	if err != nil {
		return err
	}
	if s == nil {
		http.Redirect(w, r, "/console/sign-in", http.StatusSeeOther)
		return nil
	}
	if s.Stage == stageSignedIn {
		http.Redirect(w, r, "/console/", http.StatusSeeOther)
		return nil
	}
	ac, err := c.accounts.Get(r.Context(), s.Account)
	if err != nil {
		return err
	}
	d := secondFactorData{Account: s.Account, Next: next, Problem: problem}
	if !ac.SecondFactor {
		secret, err := c.accounts.pendingSecret(r.Context(), s.Account)
		if err != nil {
			return err
		}
		d.Enrol = true
		d.Secret = groupSecret(b32.EncodeToString(secret))
		d.URI = totpURI("open3ds "+c.o.Title, s.Account, secret)
		// The URL is ours, a PNG we drew: html/template would otherwise refuse a data: URL.
		d.QR = template.URL(qrDataURL(d.URI))
	}
	return c.renderStatus(w, r, s, status, View{Title: "Second factor", Template: secondFactorPage, Data: struct {
		secondFactorData
		CSRF string
	}{d, s.CSRF}})
}

func (c *Console) secondFactor(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		return httpx.NewProblem(http.StatusBadRequest, "")
	}
	next := localPath(r.PostFormValue("next"), "")
	s, err := c.sessionOf(r)
	if err != nil {
		return err
	}
	if s == nil || s.Stage != stageSecondFactor {
		http.Redirect(w, r, "/console/sign-in", http.StatusSeeOther)
		return nil
	}
	if !sameToken(r.PostFormValue("csrf"), s.CSRF) {
		return httpx.NewProblem(http.StatusForbidden, "the form has expired: go back, reload the page and try again")
	}
	at, err := c.accounts.reserve(r.Context(), s.Account)
	if errors.Is(err, errLocked) {
		c.recordAs(r, s.Account, "signin.refused", s.Account, "account locked or disabled at the second factor")
		c.accounts.endSession(context.WithoutCancel(r.Context()), s.hash)
		c.setCookie(w, r, c.cookieName(), "", -1)
		return c.showSignIn(w, r, http.StatusUnauthorized, signInData{Name: s.Account,
			Problem: "The account is locked after repeated failures. It unlocks after a while; an admin can unlock it sooner."})
	}
	if err != nil {
		return err
	}
	ctx := context.WithoutCancel(r.Context())
	var secret []byte
	if at.secret.Valid {
		secret, err = c.accounts.openSecret(s.Account, at.secret.String)
		if err != nil {
			return err
		}
	}
	step := int64(0)
	if secret != nil {
		step = matchTOTP(secret, r.PostFormValue("code"), c.now())
	}
	used := false
	if step > 0 {
		if used, err = c.accounts.useStep(ctx, s.Account, step); err != nil {
			return err
		}
	}
	if !used {
		detail := "wrong or reused code"
		if at.lockedNow {
			detail += "; account locked"
		}
		c.recordAs(r, s.Account, "signin.failed", s.Account, detail)
		return c.showSecondFactor(w, r, http.StatusUnauthorized, next, "That code is not right (or was used already). Type the code your app shows now.")
	}
	detail := "password and TOTP code"
	if !at.confirmed {
		if err := c.accounts.confirmSecret(ctx, s.Account); err != nil {
			return err
		}
		c.recordAs(r, s.Account, "account.second-factor.enrol", s.Account, "TOTP app enrolled")
		detail = "password and TOTP code (app enrolled now)"
	}
	if err := c.accounts.release(ctx, s.Account, at, true); err != nil {
		return err
	}
	tok, err := c.accounts.promote(ctx, s)
	if err != nil {
		return err
	}
	c.recordAs(r, s.Account, "signin", s.Account, detail)
	c.setCookie(w, r, c.cookieName(), tok, int(c.o.Policy.MaxSession.Seconds()))
	http.Redirect(w, r, orHome(next), http.StatusSeeOther)
	return nil
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request) error {
	s, err := c.sessionOf(r)
	if err != nil {
		return err
	}
	if s != nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		r.ParseForm()
		if !sameToken(r.PostFormValue("csrf"), s.CSRF) {
			return httpx.NewProblem(http.StatusForbidden, "the form has expired: go back, reload the page and try again")
		}
		if err := c.accounts.endSession(context.WithoutCancel(r.Context()), s.hash); err != nil {
			return err
		}
		c.recordAs(r, s.Account, "signout", s.Account, "")
	}
	c.setCookie(w, r, c.cookieName(), "", -1)
	http.Redirect(w, r, "/console/sign-in", http.StatusSeeOther)
	return nil
}
