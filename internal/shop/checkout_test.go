package shop_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/shop"
)

func TestStartSendsTheCardToTheThreeDSServerAndAnswersWhatThePageNeeds(t *testing.T) {
	s := newShop(t, newFakeAPI(t), nil)
	resp, body := s.do(t, "POST", "/api/start", `{"cardNumber":"4000 0000 0000 1000"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("start answered %d: %s", resp.StatusCode, body)
	}
	if got := s.api.startedCards(); len(got) != 1 || got[0] != enrolledCard {
		t.Errorf("the 3DS Server got card numbers %q, want the digits %q", got, enrolledCard)
	}
	if got := s.api.authorizations(); len(got) != 1 || got[0] != "Bearer "+apiKey {
		t.Errorf("the shop called the API with Authorization %q", got)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "enrolled", "showLogo", "messageVersion", "maskedPan", "threeDSMethod"} {
		if _, ok := got[k]; !ok {
			t.Errorf("the answer lacks %s: %s", k, body)
		}
	}
	if got["showLogo"] != true || got["id"] != enrolledID {
		t.Errorf("answer %s, want the 3DS Server's id and showLogo", body)
	}
	if strings.Contains(s.logs.String(), enrolledCard) {
		t.Errorf("the log shows the card number:\n%s", s.logs)
	}
}

func TestStartRefusesACardNumberThatCannotBeRight(t *testing.T) {
	cases := []struct{ name, body, detail string }{
		{"a number failing the Luhn check", `{"cardNumber":"4000 0000 0000 1001"}`, "is not valid"},
		{"a number too short", `{"cardNumber":"4000 0000 00"}`, "13 to 19 digits"},
		{"a number with letters", `{"cardNumber":"4000 0000 0000 10O0"}`, "13 to 19 digits"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newShop(t, newFakeAPI(t), nil)
			resp, body := s.do(t, "POST", "/api/start", tc.body)
			p := readProblem(t, resp, body)
			if resp.StatusCode != 422 || p.fields() != "cardNumber" || !strings.Contains(p.Errors[0].Detail, tc.detail) {
				t.Errorf("got %d %s, want 422 naming cardNumber with %q", resp.StatusCode, body, tc.detail)
			}
			if n := len(s.api.startedCards()); n != 0 {
				t.Errorf("the 3DS Server was called %d times", n)
			}
		})
	}
}

func TestAuthenticateSendsTheOrderAndTheBrowserAndReturnsTheAnswerAsItCame(t *testing.T) {
	api := newFakeAPI(t)
	challenge := `{"id":"` + enrolledID + `","state":"challenge","final":false,"transStatus":"C",` +
		`"challenge":{"acsURL":"https://acs.example/challenge","creq":"eyJ4IjoxfQ","windowSize":"03","threeDSSessionData":"c2Vz"},"timings":{}}`
	api.authenticate = func(string) (int, string) { return 200, challenge }
	s := newShop(t, api, nil)
	s.startOrder(t)
	resp, body := s.do(t, "POST", "/api/authenticate/"+enrolledID, checkoutBody(nil), "Accept", "application/json")
	if resp.StatusCode != 200 || strings.TrimSpace(body) != challenge {
		t.Fatalf("got %d %s, want the 3DS Server's answer as it came", resp.StatusCode, body)
	}
	sent := api.sentFor(enrolledID)
	want := map[string]any{"amount": "145000", "currency": "978", "exponent": float64(2), "threeDSCompInd": "Y",
		"challengeWindowSize": "03", "cardExpiryDate": "3912", "cardholderName": "Ada Lovelace", "email": "ada@example.com",
		"returnUrl": s.url + "/orders/return"}
	for k, v := range want {
		if sent[k] != v {
			t.Errorf("the 3DS Server got %s = %v, want %v", k, sent[k], v)
		}
	}
	browser, _ := sent["browser"].(map[string]any)
	if browser["ip"] != "127.0.0.1" || browser["acceptHeader"] != "text/html,application/xhtml+xml" ||
		browser["userAgent"] != "Mozilla/5.0 (test)" || browser["colorDepth"] != "24" {
		t.Errorf("the 3DS Server got browser %v, want the script's data with ip and the page's Accept header", browser)
	}
	if _, ok := sent["product"]; ok {
		t.Errorf("the shop's own fields went to the 3DS Server: %v", sent)
	}
}

func TestAuthenticateUsesItsOwnAcceptHeaderWhenThePageSentNone(t *testing.T) {
	api := newFakeAPI(t)
	s := newShop(t, api, func(c *shop.Config) { c.PublicURL = "https://shop.example:8080/" })
	s.startOrder(t)
	resp, body := s.do(t, "POST", "/api/authenticate/"+enrolledID, checkoutBody(map[string]any{"acceptHeader": nil}),
		"Accept", "application/json, */*")
	if resp.StatusCode != 200 {
		t.Fatalf("got %d %s", resp.StatusCode, body)
	}
	sent := api.sentFor(enrolledID)
	if b, _ := sent["browser"].(map[string]any); b["acceptHeader"] != "application/json, */*" {
		t.Errorf("acceptHeader = %v, want the request's own", b["acceptHeader"])
	}
	if sent["returnUrl"] != "https://shop.example:8080/orders/return" {
		t.Errorf("returnUrl = %v, want it on the configured public origin", sent["returnUrl"])
	}
}

func TestAuthenticateNamesEveryBadFieldBeforeCallingTheThreeDSServer(t *testing.T) {
	cases := []struct {
		name   string
		edit   map[string]any
		fields string
	}{
		{"an unknown product", map[string]any{"product": "yacht"}, "product"},
		{"an expiry that is not MM/YY", map[string]any{"expiry": "2039-12"}, "expiry"},
		{"an expiry with month 13", map[string]any{"expiry": "13/39"}, "expiry"},
		{"an expired card", map[string]any{"expiry": "01/20"}, "expiry"},
		{"no name", map[string]any{"name": " "}, "name"},
		{"an e-mail that is not one", map[string]any{"email": "ada at example"}, "email"},
		{"a 3DS Method outcome that is not Y, N or U", map[string]any{"threeDSCompInd": "X"}, "threeDSCompInd"},
		{"a challenge window size out of range", map[string]any{"challengeWindowSize": "07"}, "challengeWindowSize"},
		{"no browser data", map[string]any{"browser": nil}, "browser"},
		{"several mistakes at once", map[string]any{"product": "", "expiry": "", "name": ""}, "product,expiry,name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newShop(t, newFakeAPI(t), nil)
			s.startOrder(t)
			resp, body := s.do(t, "POST", "/api/authenticate/"+enrolledID, checkoutBody(tc.edit))
			p := readProblem(t, resp, body)
			if resp.StatusCode != 422 || p.fields() != tc.fields {
				t.Errorf("got %d naming %q (%s), want 422 naming %q", resp.StatusCode, p.fields(), body, tc.fields)
			}
			if s.api.sentFor(enrolledID) != nil {
				t.Error("the 3DS Server was called")
			}
		})
	}
}

func TestAuthenticateRefusesACheckoutTheShopDidNotStart(t *testing.T) {
	s := newShop(t, newFakeAPI(t), nil)
	resp, body := s.do(t, "POST", "/api/authenticate/"+enrolledID, checkoutBody(nil))
	p := readProblem(t, resp, body)
	if resp.StatusCode != 404 || !strings.Contains(p.Detail, "enter your card number again") {
		t.Errorf("got %d %s, want 404 asking for the card again", resp.StatusCode, body)
	}
}

func TestAProblemOfTheThreeDSServerReachesThePageAsItCame(t *testing.T) {
	api := newFakeAPI(t)
	conflict := `{"type":"about:blank","title":"Conflict","status":409,"detail":"this authentication was already sent; start a new one"}`
	invalid := `{"type":"about:blank","title":"Unprocessable Entity","status":422,"detail":"the request has invalid fields",` +
		`"errors":[{"field":"browser.language","detail":"is required, 1-8 characters"}]}`
	for _, tc := range []struct {
		name   string
		status int
		body   string
	}{{"a conflict", 409, conflict}, {"a bad browser field", 422, invalid}} {
		t.Run(tc.name, func(t *testing.T) {
			api.authenticate = func(string) (int, string) { return tc.status, tc.body }
			s := newShop(t, api, nil)
			s.startOrder(t)
			resp, body := s.do(t, "POST", "/api/authenticate/"+enrolledID, checkoutBody(nil))
			readProblem(t, resp, body)
			if resp.StatusCode != tc.status || body != tc.body {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, body, tc.status, tc.body)
			}
		})
	}
}

func TestAnUnreachableThreeDSServerIsABadGateway(t *testing.T) {
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	api := newFakeAPI(t)
	api.url = gone.URL
	s := newShop(t, api, nil)
	resp, body := s.do(t, "POST", "/api/start", `{"cardNumber":"4000 0000 0000 1000"}`)
	p := readProblem(t, resp, body)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(p.Detail, "3DS Server could not be reached") {
		t.Errorf("got %d %s, want 502 saying the 3DS Server could not be reached", resp.StatusCode, body)
	}
	if strings.Contains(s.logs.String(), apiKey) {
		t.Errorf("the log shows the API key:\n%s", s.logs)
	}
}

func TestAWrongAPIKeyIsPassedOnAsTheThreeDSServerSaidIt(t *testing.T) {
	s := newShop(t, newFakeAPI(t), func(c *shop.Config) { c.APIKey = "o3k_wrong" })
	resp, body := s.do(t, "POST", "/api/start", `{"cardNumber":"4000 0000 0000 1000"}`)
	if p := readProblem(t, resp, body); resp.StatusCode != 401 || !strings.Contains(p.Detail, "API key is required") {
		t.Errorf("got %d %s", resp.StatusCode, body)
	}
	if strings.Contains(body, "o3k_wrong") {
		t.Errorf("the answer shows the key: %s", body)
	}
}
