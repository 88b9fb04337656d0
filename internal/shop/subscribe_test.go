package shop_test

import (
	"net/http"
	"strings"
	"testing"
)

const subscriptionID = "7a1e0c33-2b4d-4e5f-8a9b-0c1d2e3f4a5b"

func TestSavingACardSendsANonPaymentWithoutAnAmount(t *testing.T) {
	api := newFakeAPI(t)
	api.get = func(id string, _ int) (int, string) {
		return 200, `{"id":"` + id + `","state":"frictionless","final":true,"maskedPan":"400000******1000","transStatus":"Y",` +
			`"messageCategory":"non-payment","channel":"browser","timings":{}}`
	}
	s := newShop(t, api, nil)
	s.startOrder(t)
	resp, body := s.do(t, "POST", "/api/authenticate/"+enrolledID, checkoutBody(map[string]any{"product": nil, "saveCard": true}))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("save card answered %d: %s", resp.StatusCode, body)
	}
	sent := api.sentFor(enrolledID)
	if sent["messageCategory"] != "non-payment" || sent["amount"] != nil || sent["currency"] != nil || sent["exponent"] != nil {
		t.Fatalf("the 3DS Server got %v; want a non-payment without purchase data", sent)
	}
	_, page := s.do(t, "GET", "/orders/"+enrolledID, "")
	if !strings.Contains(page, "Card saved") || !strings.Contains(page, `id="save-only"`) || strings.Contains(page, "Subscribe monthly") {
		t.Errorf("the saved card's page does not say it was saved without payment:\n%s", page)
	}
}

func TestSubscribingChargesTheCardOnFileAsA3RIStandingOnThePurchase(t *testing.T) {
	api := newFakeAPI(t)
	s := newShop(t, api, nil)
	s.startOrder(t)
	if resp, body := s.do(t, "POST", "/api/authenticate/"+enrolledID, checkoutBody(nil)); resp.StatusCode != http.StatusOK {
		t.Fatalf("buy answered %d: %s", resp.StatusCode, body)
	}
	_, page := s.do(t, "GET", "/orders/"+enrolledID, "")
	if !strings.Contains(page, `action="/orders/`+enrolledID+`/subscribe"`) || !strings.Contains(page, "Subscribe monthly") {
		t.Fatalf("an authenticated purchase's page offers no subscription:\n%s", page)
	}
	api.start = func(string) (int, string) {
		return 201, `{"id":"` + subscriptionID + `","state":"frictionless","final":true,"channel":"3ri","transStatus":"Y","timings":{}}`
	}
	resp, _ := s.do(t, "POST", "/orders/"+enrolledID+"/subscribe", "")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/orders/"+subscriptionID {
		t.Fatalf("subscribe answered %d to %q; want 303 to the subscription's page", resp.StatusCode, resp.Header.Get("Location"))
	}
	got := api.lastStart()
	prior, _ := got["priorAuthentication"].(map[string]any)
	rec, _ := got["recurring"].(map[string]any)
	if got["channel"] != "3ri" || got["cardNumber"] != enrolledCard || got["threeRIInd"] != "recurring" || got["amount"] != "145000" ||
		prior["id"] != enrolledID || rec["frequency"] != float64(30) || len(rec["expiry"].(string)) != 8 {
		t.Fatalf("the 3RI start: %v", got)
	}
	// The subscription's page offers the next payment, which stands on the same purchase.
	api.get = func(id string, _ int) (int, string) {
		return 200, `{"id":"` + id + `","state":"frictionless","final":true,"maskedPan":"400000******1000","transStatus":"Y",` +
			`"channel":"3ri","timings":{}}`
	}
	_, page = s.do(t, "GET", "/orders/"+subscriptionID, "")
	if !strings.Contains(page, "Subscription payment authenticated") || !strings.Contains(page, "Renew now") {
		t.Fatalf("the subscription's page:\n%s", page)
	}
	s.do(t, "POST", "/orders/"+subscriptionID+"/subscribe", "")
	if p, _ := api.lastStart()["priorAuthentication"].(map[string]any); p["id"] != enrolledID {
		t.Errorf("Renew stands on %v, want the purchase %s", p, enrolledID)
	}
	if strings.Contains(s.logs.String(), enrolledCard) {
		t.Errorf("the log shows the card number")
	}
}

func TestSubscribingToAnOrderTheShopDoesNotKnowIsNotFound(t *testing.T) {
	s := newShop(t, newFakeAPI(t), nil)
	resp, _ := s.do(t, "POST", "/orders/"+enrolledID+"/subscribe", "")
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("answered %d, want 404", resp.StatusCode)
	}
	if n := len(s.api.startedCards()); n != 0 {
		t.Errorf("the 3DS Server was called %d times", n)
	}
}
