// Package consoletest holds what the tests of the role packages need to use a role's console as an
// operator does: signing in through the real sign-in pages, enrolling the authenticator app, in
// headless Chromium (SignIn) or over plain HTTP (Client), and looking at a page in Chromium at a
// phone's, a tablet's or a desktop's size (Tab, FitsWidth, Text, Screenshot). It is imported only
// by tests; internal/console's own tests cannot import it (it imports console) and keep their own.
package consoletest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/open3ds/open3ds/internal/browsertest"
	"github.com/open3ds/open3ds/internal/console"
)

// Account makes an account in c and returns its password.
func Account(t testing.TB, c *console.Console, name string, a console.Access) string {
	t.Helper()
	pw, err := c.Accounts().Create(context.Background(), name, a, "")
	if err != nil {
		t.Fatalf("console account %s: %v", name, err)
	}
	return pw
}

// Operator is one account as a test signs it in: its name, password and, after its first sign-in,
// the key of its authenticator app.
type Operator struct {
	Name, Password string
	Secret         string // base32, spaces removed; set by the first SignIn
	lastStep       int64
}

var mu sync.Mutex

// SignIn signs op in through the console at base (e.g. "http://127.0.0.1:8421") in the Chromium tab
// ctx: it types the name and password, reads the key when the console asks to enrol an app (keeping
// it in op.Secret) and types the app's current code, then waits for a signed-in page. A code is
// good once, so a second sign-in of the same account within one 30-second step waits for the next.
func SignIn(t testing.TB, ctx context.Context, base string, op *Operator) {
	t.Helper()
	browsertest.Navigate(t, ctx, base+"/console/sign-in")
	browsertest.Do(t, ctx, "typing the name and password",
		chromedp.WaitVisible(chromedp.CSS("#name")),
		chromedp.SendKeys(chromedp.CSS("#name"), op.Name),
		chromedp.SendKeys(chromedp.CSS("#password"), op.Password),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#code")))
	if op.Secret == "" {
		secret, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#totp-secret")))
		if err != nil {
			t.Fatalf("the first sign-in of %s shows no authenticator key: %v", op.Name, err)
		}
		op.Secret = strings.ReplaceAll(secret, " ", "")
	}
	code := op.nextCode(t)
	browsertest.Do(t, ctx, "typing the authenticator code",
		chromedp.SendKeys(chromedp.CSS("#code"), code),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("nav.side")))
}

// nextCode is the app's code for the current step, after waiting out a step this operator used.
func (op *Operator) nextCode(t testing.TB) string {
	mu.Lock()
	defer mu.Unlock()
	for time.Now().Unix()/30 <= op.lastStep {
		time.Sleep(200 * time.Millisecond)
	}
	now := time.Now()
	code, err := console.TOTPCode(op.Secret, now)
	if err != nil {
		t.Fatalf("authenticator key of %s: %v", op.Name, err)
	}
	op.lastStep = now.Unix() / 30
	return code
}
