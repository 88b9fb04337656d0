package acs_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/emv"
)

// sdks names the two SDK sides every screen is driven by: sdkcrypto in Go and the npm jose peer.
var sdks = []struct {
	name string
	jose bool
}{{"go-sdk", false}, {"jose-sdk", true}}

// final checks a final CRes and the RReq queued before it.
func final(t *testing.T, sdk *appSDK, a answer, status string) *emv.RReq {
	t.Helper()
	c, e := a.c, a.e
	if e != nil || c == nil || c.ChallengeCompletionInd != "Y" || c.TransStatus != status {
		t.Fatalf("got CRes %+v, Erro %+v; want the final CRes with %s", c, e, status)
	}
	r := sdk.rreq(t)
	want := sdk.res.SDKTransID
	if sdk.res.MessageVersion == "2.1.0" {
		want = "" // the RReq has no sdkTransID before 2.2.0
	}
	if r.TransStatus != status || r.SDKTransID != want {
		t.Fatalf("RReq transStatus %s sdkTransID %s, want %s %s", r.TransStatus, r.SDKTransID, status, want)
	}
	if rt := r.ACSRenderingType; rt == nil || *rt != *sdk.res.ACSRenderingType {
		t.Errorf("RReq acsRenderingType %+v, want the ARes's %+v", rt, sdk.res.ACSRenderingType)
	}
	return r
}

func screen(t *testing.T, a answer, ui string) *emv.CRes {
	t.Helper()
	c, e := a.c, a.e
	if e != nil || c == nil || c.ChallengeCompletionInd != "N" || c.ACSUiType != ui {
		t.Fatalf("got CRes %+v, Erro %+v; want screen %s", c, e, ui)
	}
	return c
}

func TestAppChallengeCodeScreen(t *testing.T) {
	for _, b := range backends {
		for _, sd := range sdks {
			t.Run(b.name+"/"+sd.name, func(t *testing.T) {
				s := newAppShop(t, b.open)
				s.setAppUI(t, "01")
				sdk := s.startApp(t, sd.jose, nil)
				if r := sdk.res.ACSRenderingType; r.ACSInterface != "01" || r.ACSUiTemplate != "01" {
					t.Fatalf("acsRenderingType %+v", r)
				}
				c := screen(t, sdk.send(t, nil), "01")
				if !strings.Contains(c.ChallengeInfoText, "•") || c.SubmitAuthenticationLabel == "" || c.WhyInfoText == "" ||
					c.IssuerImage == nil || c.ChallengeInfoTextIndicator != "N" {
					t.Errorf("code screen %+v", c)
				}
				code := s.code(t, "+447700900123", 1)
				c = screen(t, sdk.send(t, map[string]any{"challengeDataEntry": "000000x"}), "01")
				if c.ChallengeInfoTextIndicator != "Y" || !strings.Contains(c.ChallengeInfoText, "could not be verified") {
					t.Errorf("after a wrong code: %q (%s)", c.ChallengeInfoText, c.ChallengeInfoTextIndicator)
				}
				sdk.noRReq(t)
				final(t, sdk, sdk.send(t, map[string]any{"challengeDataEntry": code}), "Y")
				// The code is looked for anywhere in the log, as the browser's test does: quoted, it would
				// be found only as a whole value, not inside a message or an error's text.
				if logs := s.e.logs.String(); strings.Contains(logs, code) || strings.Contains(logs, panEnrolled) {
					t.Errorf("the log holds the code or the PAN")
				}
			})
		}
	}
}

func TestAppChallengeChooseScreenInJapanese(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newAppShop(t, b.open)
			ch, _ := s.e.store.CardholderByPAN(t.Context(), panEnrolled)
			ch.Locale = "ja"
			s.e.store.UpdateCardholder(t.Context(), ch)
			sdk := s.startApp(t, false, nil) // two destinations: the ACS lets the cardholder choose
			if sdk.res.ACSRenderingType.ACSUiTemplate != "02" {
				t.Fatalf("acsRenderingType %+v", sdk.res.ACSRenderingType)
			}
			c := screen(t, sdk.send(t, nil), "02")
			if len(c.ChallengeSelectInfo) != 2 || c.ChallengeSelectInfo[1]["email:0"] == "" || strings.Contains(c.ChallengeSelectInfo[1]["email:0"], "taro@") {
				t.Fatalf("challengeSelectInfo %v", c.ChallengeSelectInfo)
			}
			if !strings.Contains(c.ChallengeInfoHeader, "本人確認") {
				t.Errorf("header %q is not Japanese", c.ChallengeInfoHeader)
			}
			screen(t, sdk.send(t, map[string]any{"challengeDataEntry": "email:0"}), "01")
			code := s.code(t, "taro@example.com", 1)
			final(t, sdk, sdk.send(t, map[string]any{"challengeDataEntry": code}), "Y")
		})
	}
}

var oobLink = regexp.MustCompile(`https?://\S+/bankapp/[0-9a-f]+`)

func TestAppChallengeBankApp(t *testing.T) {
	for _, b := range backends {
		for _, answer := range []string{"approve", "decline"} {
			t.Run(b.name+"/"+answer, func(t *testing.T) {
				s := newAppShop(t, b.open)
				s.setAppUI(t, "04")
				sdk := s.startApp(t, b.name == "sqlite", nil)
				c := screen(t, sdk.send(t, nil), "04")
				link := oobLink.FindString(c.ChallengeInfoText)
				if link == "" || c.OOBAppURL != link || c.OOBContinueLabel == "" {
					t.Fatalf("OOB screen %+v", c)
				}
				c = screen(t, sdk.send(t, map[string]any{"oobContinue": true}), "04")
				if c.ChallengeInfoTextIndicator != "Y" {
					t.Errorf("a continue before the approval is not flagged: %+v", c)
				}
				sdk.noRReq(t)
				// The store keeps the link's digest, never the token that approves the purchase.
				var stored string
				if err := s.e.db.Reader().QueryRow(s.e.db.Rebind(`SELECT oob_token FROM acs_app_challenges WHERE acs_trans_id = ?`),
					sdk.res.ACSTransID).Scan(&stored); err != nil {
					t.Fatal(err)
				}
				token := link[strings.LastIndex(link, "/")+1:]
				if sum := sha256.Sum256([]byte(token)); stored != hex.EncodeToString(sum[:]) {
					t.Errorf("the stored oob_token %q is not the digest of the link's token", stored)
				}
				page := get(t, link)
				if !strings.Contains(page, `value="approve"`) || !strings.Contains(page, "EUR") {
					t.Fatalf("bank app page: %s", page)
				}
				resp, err := http.PostForm(link, url.Values{"answer": {answer}})
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				want := map[string]string{"approve": "Y", "decline": "N"}[answer]
				r := final(t, sdk, sdk.send(t, map[string]any{"oobContinue": true}), want)
				if answer == "decline" && r.TransStatusReason != "01" {
					t.Errorf("declined: reason %s", r.TransStatusReason)
				}
				if again := get(t, link); strings.Contains(again, `value="approve"`) {
					t.Errorf("the bank app still asks after the end")
				}
			})
		}
	}
}

func get(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestAppChallengeHTMLScreen(t *testing.T) {
	s := newAppShop(t, backends[0].open)
	sdk := s.startApp(t, true, map[string]any{"deviceRenderOptions": map[string]any{"sdkInterface": "02", "sdkUiType": []string{"01", "02", "05"}}})
	if r := sdk.res.ACSRenderingType; r.ACSInterface != "02" || r.ACSUiTemplate != "05" {
		t.Fatalf("acsRenderingType %+v", r)
	}
	html := func(c *emv.CRes) string {
		b, err := base64.RawURLEncoding.DecodeString(c.ACSHTML)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	page := html(screen(t, sdk.send(t, nil), "05"))
	if !strings.Contains(page, `action="HTTPS://EMV3DS/challenge"`) || !strings.Contains(page, `value="sms:0"`) {
		t.Fatalf("HTML choose screen: %s", page)
	}
	page = html(screen(t, sdk.send(t, map[string]any{"challengeHTMLDataEntry": "dest=sms%3A0"}), "05"))
	if !strings.Contains(page, `name="code"`) {
		t.Fatalf("HTML code screen: %s", page)
	}
	code := s.code(t, "+447700900123", 1)
	final(t, sdk, sdk.send(t, map[string]any{"challengeHTMLDataEntry": "code=" + code + "&action=submit"}), "Y")
}

func TestAppChallengeMultiSelectSendsTheCodeToEveryTickedDestination(t *testing.T) {
	s := newAppShop(t, backends[0].open)
	s.setAppUI(t, "03")
	sdk := s.startApp(t, false, nil)
	c := screen(t, sdk.send(t, nil), "03")
	if len(c.ChallengeSelectInfo) != 2 || c.SubmitAuthenticationLabel == "" {
		t.Fatalf("multi-select screen %+v", c)
	}
	screen(t, sdk.send(t, map[string]any{"challengeDataEntry": "sms:0,email:0"}), "01")
	code := s.code(t, "+447700900123", 1)
	if other := s.code(t, "taro@example.com", 1); other != code {
		t.Fatalf("the two destinations got different codes")
	}
	final(t, sdk, sdk.send(t, map[string]any{"challengeDataEntry": code}), "Y")
}

// TestAppChallengeInEveryVersion: the ARes, every CRes and the RReq are valid in 2.1.0 and 2.3.1
// too (the harness parses each with the version's rules).
func TestAppChallengeInEveryVersion(t *testing.T) {
	for _, v := range []string{"2.1.0", "2.3.1"} {
		t.Run(v, func(t *testing.T) {
			s := newAppShop(t, backends[0].open)
			s.setAppUI(t, "04")
			sdk := s.startAppVersion(t, false, v, nil)
			if sdk.res.MessageVersion != v {
				t.Fatalf("ARes version %s", sdk.res.MessageVersion)
			}
			c := screen(t, sdk.send(t, nil), "04")
			if (v == "2.1.0") != (c.OOBAppURL == "") {
				t.Errorf("oobAppURL %q in %s", c.OOBAppURL, v)
			}
			link := oobLink.FindString(c.ChallengeInfoText)
			resp, err := http.PostForm(link, url.Values{"answer": {"approve"}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			final(t, sdk, sdk.send(t, map[string]any{"oobContinue": true}), "Y")
		})
	}
}
