package threedsserver_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/threedsserver"
)

func TestTheMethodNotificationMarksTheMethodCompleteSoTheAReqSaysY(t *testing.T) {
	n := newNetwork(t)
	st := start(t, n, panFrictionless)
	// The ACS posts back threeDSMethodData holding only the transaction id.
	data := emv.EncodeBase64URL([]byte(`{"threeDSServerTransID":"` + st.ID + `"}`))
	resp, err := http.PostForm(n.public.URL+"/3ds/method", url.Values{"threeDSMethodData": {data}})
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("method notification: HTTP %d", resp.StatusCode)
	}
	tx, err := n.st.Transaction(context.Background(), st.ID)
	must(t, err)
	if !tx.MethodDone {
		t.Fatal("the 3DS Method is not marked complete")
	}
	body := authenticateBody()
	body["threeDSCompInd"] = "N"
	n.call(t, "POST", "/v1/authentications/"+st.ID+"/authenticate", body, nil)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.lastReq.ThreeDSCompInd != "Y" {
		t.Fatalf("AReq threeDSCompInd = %q; want Y since the notification arrived", n.lastReq.ThreeDSCompInd)
	}
}

func TestTheChallengeNotificationPostsTheOutcomeToTheMerchantsPageOrigin(t *testing.T) {
	n := newNetwork(t)
	st := start(t, n, panChallenge)
	var res threedsserver.Result
	n.call(t, "POST", "/v1/authentications/"+st.ID+"/authenticate", authenticateBody(), &res)
	cres := `{"messageType":"CRes","messageVersion":"2.2.0","threeDSServerTransID":"` + st.ID + `","acsTransID":"` +
		res.ACSTransID + `","challengeCompletionInd":"Y","transStatus":"Y"}`
	tests := []struct {
		name, cres string
		status     int
		want       string
	}{
		{"a final CRes gives its transStatus", emv.EncodeBase64URL([]byte(cres)), 200, `"transStatus":"Y"`},
		{"an Erro gives its code", emv.EncodeBase64URL([]byte(`{"messageType":"Erro","messageVersion":"2.2.0","threeDSServerTransID":"` + st.ID +
			`","errorCode":"402","errorComponent":"A","errorDescription":"timeout","errorDetail":"challenge","errorMessageType":"CReq"}`)), 200, `"errorCode":"402"`},
		{"garbage is refused", "!!!", 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.PostForm(n.public.URL+"/3ds/notification", url.Values{"cres": {tt.cres}})
			must(t, err)
			defer resp.Body.Close()
			page, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("HTTP %d; want %d", resp.StatusCode, tt.status)
			}
			// The harness's merchant has requestorUrl https://shop.example.
			if tt.status == 200 && (!strings.Contains(string(page), tt.want) || !strings.Contains(string(page), `"https://shop.example"`) ||
				strings.Contains(string(page), `"*"`)) {
				t.Fatalf("page does not post %s to https://shop.example:\n%s", tt.want, page)
			}
		})
	}
}

func TestARangeWithoutAMethodURLGivesNoMethodFormAndCompIndU(t *testing.T) {
	n := newNetwork(t)
	ctx := context.Background()
	r := dsRange("4200000000000000", "4200000000009999")
	r.MethodURL = ""
	must(t, n.dsStore.AddRange(ctx, r))
	must(t, n.server.RefreshRanges(ctx))
	st := start(t, n, "4200000000001040")
	if !st.Enrolled || st.ThreeDSMethod != nil {
		t.Fatalf("start answered %+v; want enrolled without a Method form", st)
	}
	n.call(t, "POST", "/v1/authentications/"+st.ID+"/authenticate", authenticateBody(), nil)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.lastReq.ThreeDSCompInd != "U" {
		t.Fatalf("AReq threeDSCompInd = %q; want U", n.lastReq.ThreeDSCompInd)
	}
}

// notificationPage posts a final CRes for the challenge transaction id to the public handler h.
func notificationPage(t *testing.T, h http.Handler, id, acsTransID string) string {
	t.Helper()
	cres := `{"messageType":"CRes","messageVersion":"2.2.0","threeDSServerTransID":"` + id + `","acsTransID":"` +
		acsTransID + `","challengeCompletionInd":"Y","transStatus":"N"}`
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/3ds/notification", strings.NewReader(url.Values{"cres": {emv.EncodeBase64URL([]byte(cres))}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("notification: HTTP %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func TestEachMerchantsPagesHearFromTheNotificationPagesUnlessOneOriginIsConfigured(t *testing.T) {
	n := newNetwork(t)
	ctx := context.Background()
	other := testMerchant("other")
	other.RequestorURL = "https://other.example:8443/shop/checkout?x=1"
	key, hash := threedsserver.NewAPIKey()
	must(t, n.st.AddMerchant(ctx, other, hash))
	challenge := func(key string) (string, string) {
		var st threedsserver.StartResponse
		callWith(t, n.api.URL, key, "POST", "/v1/authentications", map[string]string{"cardNumber": panChallenge}, &st)
		var res threedsserver.Result
		callWith(t, n.api.URL, key, "POST", "/v1/authentications/"+st.ID+"/authenticate", authenticateBody(), &res)
		return st.ID, res.ACSTransID
	}
	shopID, shopACS := challenge(n.apiKey)
	otherID, otherACS := challenge(key)
	single := threedsserver.NewServer(threedsserver.Config{Store: n.st, PublicURL: n.public.URL, ParentOrigin: "https://one.example/"}).PublicHandler()
	tests := []struct {
		name   string
		h      http.Handler
		id     string
		acs    string
		origin string
	}{
		{"the first merchant's page origin", n.server.PublicHandler(), shopID, shopACS, "https://shop.example"},
		{"the second merchant's page origin, port kept, path dropped", n.server.PublicHandler(), otherID, otherACS, "https://other.example:8443"},
		{"the configured origin for the first merchant", single, shopID, shopACS, "https://one.example"},
		{"the configured origin for the second merchant", single, otherID, otherACS, "https://one.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := notificationPage(t, tt.h, tt.id, tt.acs)
			if !strings.Contains(page, `origin = "`+tt.origin+`"`) {
				t.Fatalf("the page does not post to %s:\n%s", tt.origin, page)
			}
		})
	}
}

func TestTheMethodNotificationPageTellsTheMerchantsPageTheTransaction(t *testing.T) {
	n := newNetwork(t)
	st := start(t, n, panFrictionless)
	data := emv.EncodeBase64URL([]byte(`{"threeDSServerTransID":"` + st.ID + `"}`))
	resp, err := http.PostForm(n.public.URL+"/3ds/method", url.Values{"threeDSMethodData": {data}})
	must(t, err)
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(string(page), `{type: "open3ds:method", id: "`+st.ID+`"}`) || !strings.Contains(string(page), `"https://shop.example")`) {
		t.Fatalf("the page does not post the method message to https://shop.example:\n%s", page)
	}
	if !strings.Contains(csp, "script-src 'nonce-") || strings.Contains(csp, "frame-ancestors") {
		t.Fatalf("CSP %q: want a nonce'd script and framing allowed", csp)
	}
}

func TestAReturnURLMustBeOnTheMerchantsPageOriginAndComesBackWithTheID(t *testing.T) {
	n := newNetwork(t)
	tests := []struct {
		name, returnURL string
		status          int
	}{
		{"a foreign origin is refused", "https://evil.example/back", http.StatusBadRequest},
		{"another port of the shop is refused", "https://shop.example:8443/back", http.StatusBadRequest},
		{"a relative URL is refused", "/back", http.StatusBadRequest},
		{"a javascript URL is refused", "javascript:alert(1)", http.StatusBadRequest},
		{"the shop's own page is kept with its query", "https://shop.example/thanks?order=42", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := start(t, n, panChallenge)
			body := authenticateBody()
			body["returnUrl"] = tt.returnURL
			var res struct {
				threedsserver.Result
				Errors []struct{ Field string } `json:"errors"`
			}
			if code := n.call(t, "POST", "/v1/authentications/"+st.ID+"/authenticate", body, &res); code != tt.status {
				t.Fatalf("HTTP %d; want %d", code, tt.status)
			}
			if tt.status != http.StatusOK {
				if len(res.Errors) != 1 || res.Errors[0].Field != "returnUrl" {
					t.Fatalf("the problem names %+v; want returnUrl", res.Errors)
				}
				return
			}
			page := notificationPage(t, n.server.PublicHandler(), st.ID, res.ACSTransID)
			back := "https://shop.example/thanks?order=42&id=" + st.ID
			if !strings.Contains(page, `back = "`+strings.ReplaceAll(back, "&", `\u0026`)+`"`) ||
				!strings.Contains(page, `<noscript><a href="`+strings.ReplaceAll(back, "&", "&amp;")+`">`) {
				t.Fatalf("the page does not send a top-level browser to %s:\n%s", back, page)
			}
		})
	}
}
