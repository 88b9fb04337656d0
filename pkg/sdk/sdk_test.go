package sdk_test

import (
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/sdkcrypto"
	"github.com/open3ds/open3ds/pkg/sdk"
)

func TestCreateTransactionEncryptsTheDeviceDataToTheDSWithAFreshKeyAndID(t *testing.T) {
	for _, ec := range []bool{false, true} {
		a := newTestACS(t)
		s := newSDK(t, a, ec)
		tx1, err := s.CreateTransaction()
		must(t, err)
		tx2, err := s.CreateTransaction()
		must(t, err)
		p1, p2 := tx1.AuthenticationRequestParameters(), tx2.AuthenticationRequestParameters()
		if p1.SDKTransID == p2.SDKTransID || string(p1.SDKEphemPubKey) == string(p2.SDKEphemPubKey) {
			t.Fatal("two transactions share an sdkTransID or an ephemeral key")
		}
		if p1.SDKAppID != appID || p1.SDKReferenceNumber != refNumber || p1.SDKMaxTimeout != "05" || p1.MessageVersion != "2.2.0" ||
			p1.DeviceRenderOptions.SDKInterface != "03" || len(p1.DeviceRenderOptions.SDKUiType) != 5 {
			t.Fatalf("parameters = %+v", p1)
		}
		files := layout(t).DSEncryptionRSA
		if ec {
			files = layout(t).DSEncryptionEC
		}
		pair := loadPair(t, files)
		plain, err := sdkcrypto.DSKeys{DSID: pki.DefaultDSID, Keys: []sdkcrypto.DSKey{{Key: pair.PrivateKey.(crypto.Signer)}}}.
			DecryptSDKEncData(p1.SDKEncData)
		must(t, err)
		var dev struct {
			DV   string
			DD   map[string]string
			DPNA map[string]string
			SW   []string
		}
		must(t, json.Unmarshal(plain, &dev))
		if dev.DV != "1.7" || dev.DD["C018"] != p1.SDKTransID || dev.DD["C016"] != refNumber || dev.DD["C014"] != appID ||
			dev.DD["C001"] != "Android" || dev.DD["C002"] != "Pixel 8" || dev.DD["C008"] != "1080x2400" || dev.DPNA["C013"] != "RE04" ||
			dev.SW == nil {
			t.Fatalf("the DS reads the device data as %s", plain)
		}
	}
}

func TestATextChallengeSendsTheCodeAndEndsWithTheFinalCResStatus(t *testing.T) {
	a := newTestACS(t)
	a.answer = func(creq *emv.CReq, cres *emv.CRes) string {
		switch creq.SDKCounterStoA {
		case "000":
			textScreen(cres)
		default:
			final(cres, map[bool]string{true: "Y", false: "N"}[creq.ChallengeDataEntry == "123456"])
		}
		return ""
	}
	tx, p := begin(t, a, newSDK(t, a, false))
	ui := &scriptedUI{text: answer(sdk.Answer{Entry: "123456"})}
	res, err := tx.DoChallenge(context.Background(), p, ui)
	must(t, err)
	if res.TransStatus != "Y" || res.Cancelled || res.Interactions != 2 {
		t.Fatalf("result = %+v; want Y after two CReqs", res)
	}
	creqs, erros := a.received()
	if len(creqs) != 2 || creqs[0].SDKCounterStoA != "000" || creqs[1].SDKCounterStoA != "001" ||
		creqs[0].ChallengeDataEntry != "" || creqs[1].ChallengeDataEntry != "123456" || len(erros) != 0 {
		t.Fatalf("the ACS got %d CReqs (%+v) and %d Erros", len(creqs), creqs, len(erros))
	}
	if c := creqs[0]; c.ThreeDSServerTransID != serverTxID || c.ACSTransID != acsTxID || c.SDKTransID == "" || c.MessageVersion != "2.2.0" {
		t.Fatalf("first CReq = %+v; want the transaction's ids", c)
	}
	if s := ui.shown[0]; s.Header != "Purchase" || s.Label != "Code" || s.SubmitLabel != "Submit" || s.ResendLabel == "" || s.Interaction != 1 {
		t.Fatalf("the UI was shown %+v", s)
	}
	if a.contentTypes[0] != "application/jose; charset=UTF-8" || a.kids[0] != acsTxID {
		t.Fatalf("CReq sent as %q with kid %q", a.contentTypes[0], a.kids[0])
	}
}

func TestEachScreenTypeReachesItsUIMethodAndItsAnswerTheNextCReq(t *testing.T) {
	a := newTestACS(t)
	a.answer = func(creq *emv.CReq, c *emv.CRes) string {
		switch creq.SDKCounterStoA {
		case "000": // a text screen whose code the cardholder asks to resend
			textScreen(c)
		case "001":
			textScreen(c)
			c.ACSUiType, c.ChallengeSelectInfo = "02", []map[string]string{{"sms": "SMS to ******0123"}, {"mail": "E-mail to j***@example.com"}}
		case "002":
			textScreen(c)
			c.ACSUiType, c.ChallengeSelectInfo = "03", []map[string]string{{"a": "Groceries"}, {"b": "Travel"}, {"c": "Books"}}
		case "003":
			c.ChallengeCompletionInd, c.ACSUiType = "N", "04"
			c.ChallengeInfoHeader, c.ChallengeInfoText, c.OOBContinueLabel = "Approve", "Approve in your bank's app", "Continue"
		case "004":
			c.ChallengeCompletionInd, c.ACSUiType = "N", "05"
			c.ACSHTML = emv.EncodeBase64URL([]byte(`<form><input name="otp"></form>`))
		default:
			final(c, "N")
		}
		return ""
	}
	tx, p := begin(t, a, newSDK(t, a, true))
	var html string
	ui := &scriptedUI{text: answer(sdk.Answer{Resend: true}), single: answer(sdk.Answer{Selected: []string{"mail"}}),
		multi: answer(sdk.Answer{Selected: []string{"a", "c"}}), oob: answer(sdk.Answer{}),
		html: func(_ context.Context, s sdk.Screen) (sdk.Answer, error) {
			html = s.HTML
			return sdk.Answer{HTMLData: "otp=246810"}, nil
		}}
	res, err := tx.DoChallenge(context.Background(), p, ui)
	must(t, err)
	if res.TransStatus != "N" || res.Interactions != 6 {
		t.Fatalf("result = %+v; want N after six CReqs", res)
	}
	creqs, _ := a.received()
	got := []string{creqs[1].ResendChallenge, creqs[2].ChallengeDataEntry, creqs[3].ChallengeDataEntry,
		boolString(creqs[4].OOBContinue), creqs[5].ChallengeHTMLDataEntry}
	want := []string{"Y", "mail", "a,c", "true", "otp=246810"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("the CReqs carried %q; want %q", got, want)
	}
	if len(ui.shown[1].Options) != 2 || ui.shown[1].Options[1].Key != "mail" || html != `<form><input name="otp"></form>` {
		t.Fatalf("the select screen had %+v and the HTML screen %q", ui.shown[1].Options, html)
	}
}

func boolString(b *bool) string {
	if b == nil {
		return ""
	}
	return map[bool]string{true: "true", false: "false"}[*b]
}

// wantSentErro checks that the challenge ended with an Erro the SDK sent the ACS, of code naming detail.
func wantSentErro(t *testing.T, a *testACS, err error, code, detail string) {
	t.Helper()
	var pe *sdk.ProtocolError
	if !errors.As(err, &pe) || !pe.Sent || pe.Code != code || pe.Detail != detail {
		t.Fatalf("DoChallenge returned %v; want an Erro %s naming %s sent to the ACS", err, code, detail)
	}
	_, erros := a.received()
	if len(erros) != 1 || erros[0].ErrorCode != code || erros[0].ErrorComponent != "C" || erros[0].ErrorDetail != detail ||
		erros[0].ACSTransID != acsTxID || erros[0].SDKTransID == "" {
		t.Fatalf("the ACS received %+v; want one Erro %s from the SDK (C) naming %s", erros, code, detail)
	}
}

func TestACResThatFailsACheckEndsTheChallengeWithTheErroSentToTheACS(t *testing.T) {
	other, err := sdkcrypto.DeriveSession(mustKey(t), mustKey(t).PublicKey(), refNumber)
	must(t, err)
	for _, tc := range []struct {
		name         string
		break_       func(a *testACS, creq *emv.CReq, c *emv.CRes) string
		code, detail string
	}{
		{"a CRes answering another counter is refused with 302", func(a *testACS, creq *emv.CReq, c *emv.CRes) string {
			textScreen(c)
			c.ACSCounterAtoS = "001"
			return ""
		}, "302", "acsCounterAtoS"},
		{"a CRes for another SDK transaction is refused with 301", func(a *testACS, creq *emv.CReq, c *emv.CRes) string {
			textScreen(c)
			c.SDKTransID = "0e1d2c3b-4a59-4687-9a0b-1c2d3e4f5a6b"
			return ""
		}, "301", "sdkTransID"},
		{"a CRes for another ACS transaction is refused with 301", func(a *testACS, creq *emv.CReq, c *emv.CRes) string {
			textScreen(c)
			c.ACSTransID = "0e1d2c3b-4a59-4687-9a0b-1c2d3e4f5a6b"
			return ""
		}, "301", "acsTransID"},
		{"a CRes sealed under another key is refused with 302", func(a *testACS, creq *emv.CReq, c *emv.CRes) string {
			final(c, "Y")
			rec := &rawWriter{}
			a.write(rec, c, other, sdkcrypto.EncA128CBCHS256)
			return rec.b.String()
		}, "302", "the CRes does not decrypt"},
		// emv checks a screen's elements by acsUiType as a cross-field rule, which is 203.
		{"a screen without its required elements is refused with 203", func(a *testACS, creq *emv.CReq, c *emv.CRes) string {
			textScreen(c)
			c.SubmitAuthenticationLabel = ""
			return ""
		}, "203", "submitAuthenticationLabel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newTestACS(t)
			a.answer = func(creq *emv.CReq, c *emv.CRes) string { return tc.break_(a, creq, c) }
			tx, p := begin(t, a, newSDK(t, a, false))
			ui := &scriptedUI{text: answer(sdk.Answer{Entry: "123456"})}
			_, err := tx.DoChallenge(context.Background(), p, ui)
			wantSentErro(t, a, err, tc.code, tc.detail)
			if creqs, _ := a.received(); len(creqs) != 1 || len(ui.shown) != 0 {
				t.Fatalf("the challenge went on after the bad CRes: %d CReqs, %d screens", len(creqs), len(ui.shown))
			}
		})
	}
}

// rawWriter collects what testACS.write writes, for a test that sends it otherwise.
type rawWriter struct {
	h http.Header
	b strings.Builder
}

func (w *rawWriter) Header() http.Header {
	if w.h == nil {
		w.h = http.Header{}
	}
	return w.h
}
func (w *rawWriter) Write(p []byte) (int, error) { return w.b.Write(p) }
func (w *rawWriter) WriteHeader(int)             {}

func mustKey(t *testing.T) *ecdh.PrivateKey {
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	must(t, err)
	return k
}

func TestAPlainErroFromTheACSEndsTheChallengeWithThatError(t *testing.T) {
	a := newTestACS(t)
	a.answer = func(creq *emv.CReq, c *emv.CRes) string {
		return `{"messageType":"Erro","messageVersion":"2.2.0","errorCode":"203","errorComponent":"A",` +
			`"errorDescription":"Format of one or more data elements invalid","errorDetail":"sdkCounterStoA",` +
			`"errorMessageType":"CReq","threeDSServerTransID":"` + serverTxID + `"}`
	}
	tx, p := begin(t, a, newSDK(t, a, false))
	_, err := tx.DoChallenge(context.Background(), p, &scriptedUI{})
	var pe *sdk.ProtocolError
	if !errors.As(err, &pe) || pe.Sent || pe.Code != "203" || pe.Component != "A" || pe.Detail != "sdkCounterStoA" {
		t.Fatalf("DoChallenge returned %v; want the ACS's Erro 203", err)
	}
	if _, erros := a.received(); len(erros) != 0 {
		t.Fatalf("the SDK answered the ACS's Erro with %+v", erros)
	}
}

func TestSignedContentThatIsNotTheACSsForThisTransactionIsARuntimeError(t *testing.T) {
	otherCA, err := pki.NewCA("Other Scheme")
	must(t, err)
	certPEM, keyPEM, err := otherCA.IssueContentSigning("acs")
	must(t, err)
	foreign, err := tls.X509KeyPair(certPEM, keyPEM)
	must(t, err)
	for _, tc := range []struct {
		name    string
		content func(a *testACS, p sdk.ChallengeParameters, sdkKey json.RawMessage) string
	}{
		{"signed by a certificate of another CA", func(a *testACS, p sdk.ChallengeParameters, sdkKey json.RawMessage) string {
			return sign(t, foreign, map[string]any{"acsURL": a.srv.URL, "acsEphemPubKey": sdkcrypto.PublicJWK(a.key.PublicKey()),
				"sdkEphemPubKey": sdkKey})
		}},
		{"carrying another SDK key than ours", func(a *testACS, p sdk.ChallengeParameters, sdkKey json.RawMessage) string {
			return sign(t, loadPair(t, layout(t).ACSSigning), map[string]any{"acsURL": a.srv.URL,
				"acsEphemPubKey": sdkcrypto.PublicJWK(a.key.PublicKey()), "sdkEphemPubKey": sdkcrypto.PublicJWK(mustKey(t).PublicKey())})
		}},
		// A listener on loopback that fails the test when contacted: were plain HTTP let through, the
		// CReq would reach it rather than fail to connect, which would look like a refusal.
		{"sending the challenge over plain HTTP", func(a *testACS, p sdk.ChallengeParameters, sdkKey json.RawMessage) string {
			plain := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
				t.Error("a CReq went out over plain HTTP")
			}))
			t.Cleanup(plain.Close)
			return sign(t, loadPair(t, layout(t).ACSSigning), map[string]any{"acsURL": plain.URL + "/app",
				"acsEphemPubKey": sdkcrypto.PublicJWK(a.key.PublicKey()), "sdkEphemPubKey": sdkKey})
		}},
		// The altered payload still names the test ACS and its key, so that a signature left unchecked
		// would send a CReq the test ACS records, not fail on an unreachable host.
		{"tampered with after signing", func(a *testACS, p sdk.ChallengeParameters, sdkKey json.RawMessage) string {
			parts := strings.Split(p.ACSSignedContent, ".")
			payload, _ := json.Marshal(map[string]any{"acsURL": a.srv.URL + "/elsewhere", "sdkEphemPubKey": sdkKey,
				"acsEphemPubKey": sdkcrypto.PublicJWK(a.key.PublicKey())})
			return parts[0] + "." + strings.TrimRight(emv.EncodeBase64URL(payload), "=") + "." + parts[2]
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newTestACS(t)
			a.answer = func(*emv.CReq, *emv.CRes) string { t.Error("a CReq went out"); return "" }
			tx, p := begin(t, a, newSDK(t, a, false))
			p.ACSSignedContent = tc.content(a, p, tx.AuthenticationRequestParameters().SDKEphemPubKey)
			_, err := tx.DoChallenge(context.Background(), p, &scriptedUI{})
			var re *sdk.RuntimeError
			if !errors.As(err, &re) {
				t.Fatalf("DoChallenge returned %v; want a runtime error", err)
			}
			if creqs, erros := a.received(); len(creqs)+len(erros) != 0 {
				t.Fatal("the SDK talked to an ACS it could not trust")
			}
		})
	}
}

func TestCancelSendsChallengeCancel01AndEndsWithTheACSsStatus(t *testing.T) {
	a := newTestACS(t)
	a.answer = func(creq *emv.CReq, c *emv.CRes) string {
		if creq.ChallengeCancel == "01" {
			final(c, "N")
		} else {
			textScreen(c)
		}
		return ""
	}
	tx, p := begin(t, a, newSDK(t, a, false))
	res, err := tx.DoChallenge(context.Background(), p, &scriptedUI{text: answer(sdk.Answer{Cancel: true})})
	must(t, err)
	if !res.Cancelled || res.TransStatus != "N" {
		t.Fatalf("result = %+v; want a cancelled N", res)
	}
	if creqs, _ := a.received(); len(creqs) != 2 || creqs[1].ChallengeCancel != "01" || creqs[1].ChallengeDataEntry != "" {
		t.Fatalf("the last CReq = %+v; want challengeCancel 01 and no entry", creqs[len(creqs)-1])
	}
}

func TestTheSDKsTimeoutEndsTheChallengeWithErro402ToTheACS(t *testing.T) {
	a := newTestACS(t)
	a.answer = func(creq *emv.CReq, c *emv.CRes) string { textScreen(c); return "" }
	s := newSDK(t, a, false)
	sdk.SetMaxTimeout(s, 300*time.Millisecond)
	tx, p := begin(t, a, s)
	// The cardholder never answers: the UI waits until the SDK's time is up.
	ui := &scriptedUI{text: func(ctx context.Context, _ sdk.Screen) (sdk.Answer, error) {
		<-ctx.Done()
		return sdk.Answer{}, ctx.Err()
	}}
	_, err := tx.DoChallenge(context.Background(), p, ui)
	wantSentErro(t, a, err, "402", "the cardholder did not finish within sdkMaxTimeout")
}

func TestAFailingUIEndsTheChallengeWithChallengeCancel07(t *testing.T) {
	a := newTestACS(t)
	a.answer = func(creq *emv.CReq, c *emv.CRes) string {
		if creq.ChallengeCancel != "" {
			final(c, "N")
		} else {
			textScreen(c)
		}
		return ""
	}
	tx, p := begin(t, a, newSDK(t, a, false))
	_, err := tx.DoChallenge(context.Background(), p, &scriptedUI{}) // no text method: the UI fails
	var re *sdk.RuntimeError
	if !errors.As(err, &re) || !errors.Is(err, errUnexpectedScreen) {
		t.Fatalf("DoChallenge returned %v; want a runtime error wrapping the UI's", err)
	}
	if creqs, _ := a.received(); len(creqs) != 2 || creqs[1].ChallengeCancel != "07" {
		t.Fatalf("the ACS got %+v; want a last CReq with challengeCancel 07", creqs)
	}
}

func TestDoChallengeRunsOncePerTransaction(t *testing.T) {
	a := newTestACS(t)
	a.answer = func(creq *emv.CReq, c *emv.CRes) string { final(c, "Y"); return "" }
	tx, p := begin(t, a, newSDK(t, a, false))
	if _, err := tx.DoChallenge(context.Background(), p, &scriptedUI{}); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.DoChallenge(context.Background(), p, &scriptedUI{}); err == nil {
		t.Fatal("a second DoChallenge ran")
	}
}

// TestPlainHTTPIsForTheLoopbackAloneAndOnlyWhenAsked: LoopbackHTTP (the demo's pages) admits http
// to this machine and nothing else.
func TestPlainHTTPIsForTheLoopbackAloneAndOnlyWhenAsked(t *testing.T) {
	for u, want := range map[string]bool{"http://localhost:8420/app": true, "http://127.0.0.1:8420/app": true,
		"http://[::1]:8420/app": true, "http://acs.example/app": false, "http://10.0.0.1/app": false, "ftp://localhost/app": false} {
		if got := sdk.LoopbackHTTPURL(u); got != want {
			t.Errorf("%s: loopback http %v, want %v", u, got, want)
		}
	}
}

// TestAFinalCResDIsAcceptedOnlyWhenTheBackEndAllowedTheFallback: in 2.3.1 a cardholder may move the
// challenge to the bank's app and the ACS ends it with a final CRes D. The SDK returns D when its
// app's back end allowed decoupled as a fallback, and otherwise sends the ACS Erro 203 naming
// transStatus; in 2.2.0 a CRes D is 203 however the back end asked.
func TestAFinalCResDIsAcceptedOnlyWhenTheBackEndAllowedTheFallback(t *testing.T) {
	for _, c := range []struct {
		version  string
		fallback bool
		want     string // the result's transStatus, or the Erro's code
	}{{"2.3.1", true, "D"}, {"2.3.1", false, "203"}, {"2.2.0", true, "203"}} {
		t.Run(fmt.Sprintf("%s fallback %v", c.version, c.fallback), func(t *testing.T) {
			a := newTestACS(t)
			a.answer = func(creq *emv.CReq, cres *emv.CRes) string {
				final(cres, "D")
				return ""
			}
			s, err := sdk.New(sdk.Config{DSCertificate: loadPair(t, layout(t).DSEncryptionRSA).Leaf, DSID: pki.DefaultDSID, Roots: roots(t),
				ReferenceNumber: refNumber, AppID: appID, Client: a.srv.Client(), MessageVersion: c.version,
				Device: sdk.DeviceInfo{Model: "Pixel 8", ScreenResolution: "1080x2400", Platform: "Android"}})
			must(t, err)
			tx, p := begin(t, a, s)
			p.DecoupledFallback = c.fallback
			res, err := tx.DoChallenge(context.Background(), p, &scriptedUI{})
			if c.want == "D" {
				if err != nil || res.TransStatus != "D" {
					t.Fatalf("got %+v, %v; want the final CRes D", res, err)
				}
				return
			}
			var pe *sdk.ProtocolError
			if !errors.As(err, &pe) || !pe.Sent || pe.Code != c.want || pe.Detail != "transStatus" {
				t.Fatalf("got %+v, %v; want Erro %s naming transStatus sent to the ACS", res, err, c.want)
			}
		})
	}
}
