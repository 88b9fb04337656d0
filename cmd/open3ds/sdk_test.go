package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/shopapp"
	"github.com/open3ds/open3ds/pkg/sdk"
)

// TestSDKBuyPaysAsAnAppThroughTheDemoNetwork runs `open3ds sdk buy` against a running demo, with
// nothing but the card: the SDK's device data goes encrypted to the demo DS's key, the AReq goes
// through the demo's 3DS Server, DS and ACS, and a frictionless card ends in Y with its value.
func TestSDKBuyPaysAsAnAppThroughTheDemoNetwork(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "open3ds-data")
	d := startTestDemo(t, dir, 0)
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"sdk", "buy", "--demo", dir, "--card", "4000 0000 0000 1000"},
		func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
	if err != nil {
		t.Fatalf("sdk buy: %v\n%s\n%s\n%s", err, stdout.String(), stderr.String(), d.logs)
	}
	out := stdout.String()
	for _, want := range []string{"transStatus     Y", "ECI             05", "authentication value present"} {
		if !strings.Contains(out, want) {
			t.Errorf("sdk buy printed\n%s\nwithout %q", out, want)
		}
	}
	// The demo's cards end as the README says; one that is refused exits 1.
	stdout.Reset()
	err = run(context.Background(), []string{"sdk", "buy", "--demo", dir, "--card", "4000000000002008"},
		func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
	if exitCode(err) != 1 || strings.Contains(stdout.String(), "transStatus     Y") {
		t.Fatalf("sdk buy of a refused card: %v\n%s", err, stdout.String())
	}
}

// TestSDKBuyNonPaymentSavesTheCardInTheApp runs `open3ds sdk buy --non-payment`: an app
// non-payment authentication (adding the card to a wallet) with no amount, verified by the bank.
func TestSDKBuyNonPaymentSavesTheCardInTheApp(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "open3ds-data")
	d := startTestDemo(t, dir, 0)
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"sdk", "buy", "--demo", dir, "--card", "4000 0000 0000 1000", "--non-payment"},
		func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
	if err != nil || !strings.Contains(stdout.String(), "transStatus     Y") {
		t.Fatalf("sdk buy --non-payment: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	id := ""
	for _, line := range strings.Split(stdout.String(), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "authentication" {
			id = f[1]
		}
	}
	var res map[string]any
	if id == "" || d.api("GET", "/v1/authentications/"+id, nil, &res) != 200 || res["channel"] != "app" || res["messageCategory"] != "non-payment" {
		t.Fatalf("the 3DS Server's record (id %q): %v\n%s", id, res, stdout.String())
	}
}

func TestSDKHelpListsItsFlags(t *testing.T) {
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"sdk", "-h"}, func(string) string { return "" }, strings.NewReader(""), &stdout, &stdout); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"open3ds sdk buy --card PAN", "-otp-cmd", "-amount", "-demo", "-ds-key"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("sdk -h lacks %q:\n%s", want, stdout.String())
		}
	}
}

// TestSDKBuyIsChallengedInTheAppThroughTheDemoNetwork buys with the demo's challenge cards as an app:
// the ACS answers C with its signed content, the SDK runs the native screens (a choice of channel,
// then the code) against the demo ACS, and the purchase ends Y with its value, with the SDK's device
// data encrypted to the DS's RSA key and to its EC key. The answers come from a scripted cardholder
// (--otp-cmd) who reads each code from the development outbox; the locked card ends N with 19.
func TestSDKBuyIsChallengedInTheAppThroughTheDemoNetwork(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "open3ds-data")
	d := startTestDemo(t, dir, 0)
	codeFile := filepath.Join(t.TempDir(), "code")
	// The cardholder's phone: each new code that reaches the outbox is put where the script reads it.
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() {
		seen := map[string]bool{}
		for ctx.Err() == nil {
			if msgs, err := d.readOutbox(""); err == nil && len(msgs) > 0 && !seen[msgs[0].Code] {
				seen[msgs[0].Code] = true
				os.WriteFile(codeFile+".new", []byte(msgs[0].Code), 0o600)
				os.Rename(codeFile+".new", codeFile)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	script := `case "$OPEN3DS_UI_TYPE" in
02|03) echo "${OPEN3DS_OPTIONS%%,*}" ;;
01) i=0; while [ ! -s ` + codeFile + ` ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; cat ` + codeFile + `; rm -f ` + codeFile + ` ;;
esac`
	for _, tc := range []struct{ card, dsKey, want, challenge string }{
		{"4000010000001009", "rsa", "transStatus     Y", "challenge       Y after 2 CReq(s)"},
		{"4000010000003005", "ec", "transStatus     Y", "challenge       Y after 3 CReq(s)"},
		{"4000010000004003", "rsa", "reason          19", "challenge       N"},
	} {
		t.Run(tc.card+" "+tc.dsKey, func(t *testing.T) {
			os.Remove(codeFile)
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), []string{"sdk", "buy", "--demo", dir, "--card", tc.card, "--ds-key", tc.dsKey, "--otp-cmd", script},
				func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
			out := stdout.String()
			if !strings.Contains(out, tc.want) || !strings.Contains(out, tc.challenge) {
				t.Fatalf("sdk buy (%v) printed\n%s\nwithout %q and %q\n%s", err, out, tc.want, tc.challenge, stderr.String())
			}
			if strings.HasSuffix(tc.want, "Y") != (err == nil) {
				t.Errorf("sdk buy exited with %v for\n%s", err, out)
			}
		})
	}
}

// screensUI is a cardholder at the app who ticks every option, approves in the bank's app and fills in
// the bank's HTML pages; codes come from the demo's development outbox.
type screensUI struct {
	t    *testing.T
	d    *testDemo
	seen int // codes in the outbox before this purchase
	used []string
}

func (u *screensUI) code() string {
	c := u.d.waitCode(u.t, u.seen)
	u.seen = u.d.outboxCount(u.t)
	u.used = append(u.used, c)
	return c
}

func (u *screensUI) Text(context.Context, sdk.Screen) (sdk.Answer, error) {
	return sdk.Answer{Entry: u.code()}, nil
}

func (u *screensUI) SingleSelect(_ context.Context, s sdk.Screen) (sdk.Answer, error) {
	return sdk.Answer{Selected: []string{s.Options[0].Key}}, nil
}

func (u *screensUI) MultiSelect(_ context.Context, s sdk.Screen) (sdk.Answer, error) {
	var all []string
	for _, o := range s.Options {
		all = append(all, o.Key)
	}
	return sdk.Answer{Selected: all}, nil
}

// OOB opens the bank's app from the link on the screen and approves there, then taps Continue.
func (u *screensUI) OOB(_ context.Context, s sdk.Screen) (sdk.Answer, error) {
	approveInBankApp(u.t, s.OOBAppURL, s.Text)
	return sdk.Answer{}, nil
}

// HTML answers the bank's page as its form would: the first destination, then the code.
func (u *screensUI) HTML(_ context.Context, s sdk.Screen) (sdk.Answer, error) {
	return sdk.Answer{HTMLData: bankPageAnswer(u.t, s.HTML, u.code)}, nil
}

// TestTheDemosAppScreenCardsEndYThroughTheDemoNetwork buys with the demo's three "In an app" cards
// through the reference SDK: the multi-select screen (one code to SMS and e-mail), the bank's app
// (approved from its link) and the bank's HTML pages, each ending Y by RReq as the README says.
func TestTheDemosAppScreenCardsEndYThroughTheDemoNetwork(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "open3ds-data")
	d := startTestDemo(t, dir, 0)
	f := sdkFlags{demo: dir, dsKey: "rsa", dsID: pki.DefaultDSID, version: "2.2.0", timeout: 5 * time.Minute, amount: "8900", currency: "978"}
	var stderr bytes.Buffer
	for _, tc := range []struct{ card, screen string }{{"4000010000005000", "03"}, {"4000010000006008", "04"}, {"4000010000007006", "05"}} {
		t.Run(tc.screen, func(t *testing.T) {
			app, err := sdkApp(env{getenv: func(string) string { return "" }, stdin: strings.NewReader(""), stdout: io.Discard, stderr: &stderr}, f)
			if err != nil {
				t.Fatal(err)
			}
			ui := &screensUI{t: t, d: d, seen: d.outboxCount(t)}
			app.UI = ui
			out, err := shopapp.Buy(context.Background(), app, shopapp.Purchase{Card: tc.card, Amount: "8900", Currency: "978"})
			if err != nil || !out.Authenticated() || out.Challenge == nil {
				t.Fatalf("the %s card ended %+v, %v; want Y after a challenge", tc.screen, out, err)
			}
			if tc.screen == "04" && len(ui.used) != 0 {
				t.Errorf("the bank-app card was sent codes")
			}
		})
	}
}

func TestTheAnswerCommandDoesNotSeeTheMerchantsAPIKey(t *testing.T) {
	t.Setenv("OPEN3DS_SDK_API_KEY", "merchant-secret")
	ui := answerCommand(`printf '%s/%s' "${OPEN3DS_SDK_API_KEY:-none}" "$OPEN3DS_UI_TYPE"`, io.Discard)
	a, err := ui.Text(context.Background(), sdk.Screen{UIType: "01"})
	if err != nil || a.Entry != "none/01" {
		t.Fatalf("the answer command printed %q (%v); want no API key and the screen's type", a.Entry, err)
	}
}

// TestSDKBuyFallsBackToTheBankAppThroughTheDemoNetwork: a 2.3.1 app purchase whose back end allows
// decoupled only as a fallback, on the demo card of the app-approval bank with a choice screen. The
// cardholder (the answer command) checks the screen offers "Approve in my bank's app instead" and
// takes it; the ACS answers the final CRes D, the app says to approve in the bank's app and waits;
// the cardholder approves through the link the bank sent (the development outbox), and the back
// end's result is the final RReq's Y, with an authentication value.
func TestSDKBuyFallsBackToTheBankAppThroughTheDemoNetwork(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "open3ds-data")
	d := startTestDemo(t, dir, 0)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	approved := make(chan string, 1)
	go func() {
		// The cardholder's phone: the first approval link that arrives is opened and approved.
		for ctx.Err() == nil {
			if msgs, err := d.readOutbox(demoMobile); err == nil && len(msgs) > 0 && msgs[0].Link != "" {
				resp, err := http.PostForm(msgs[0].Link, url.Values{"answer": {"approve"}})
				if err == nil {
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					approved <- string(body)
				}
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	script := `case "$OPEN3DS_UI_TYPE:$OPEN3DS_OPTIONS" in
02:*bankapp*) echo bankapp ;;
*) echo "unexpected screen $OPEN3DS_UI_TYPE with $OPEN3DS_OPTIONS" >&2; exit 1 ;;
esac`
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"sdk", "buy", "--demo", dir, "--card", "4000 0300 0000 2005", "--message-version", "2.3.1",
		"--decoupled", "only", "--decoupled-minutes", "5", "--otp-cmd", script},
		func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
	out := stdout.String()
	if err != nil || !strings.Contains(out, "transStatus     Y") || !strings.Contains(out, "challenge       D after 2 CReq(s)") ||
		!strings.Contains(out, "authentication value present") {
		t.Fatalf("sdk buy (%v) printed\n%s\n%s", err, out, stderr.String())
	}
	if !strings.Contains(stderr.String(), "Approve this payment in your bank's app") {
		t.Errorf("the app did not tell the cardholder to approve in the bank's app:\n%s", stderr.String())
	}
	select {
	case page := <-approved:
		if !strings.Contains(page, "Approved") {
			t.Errorf("the bank's approval page said:\n%s", page)
		}
	default:
		t.Errorf("no approval link was approved")
	}
	t.Run("a --decoupled that is none of yes, only, also is a usage error naming it", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), []string{"sdk", "buy", "--demo", dir, "--card", "4000 0300 0000 2005", "--decoupled", "maybe"},
			func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), "--decoupled") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("without the fallback the same card is challenged with a code only", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		script := `echo "$OPEN3DS_UI_TYPE:$OPEN3DS_OPTIONS" >&2; echo c`
		run(context.Background(), []string{"sdk", "buy", "--demo", dir, "--card", "4000 0300 0000 2005", "--message-version", "2.3.1",
			"--otp-cmd", script}, func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
		if !strings.Contains(stderr.String(), "02:sms:0") || strings.Contains(stderr.String(), "bankapp") {
			t.Errorf("the choice screen without the fallback:\n%s\n%s", stderr.String(), stdout.String())
		}
	})
}
