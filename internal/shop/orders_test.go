package shop_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/shop"
)

func TestTheResultPageSaysWhatHappenedInWords(t *testing.T) {
	const base = `"id":"` + enrolledID + `","maskedPan":"400000******1000","messageVersion":"2.2.0","dsTransID":"d1d2d3d4-0000-4000-8000-000000000001","acsTransID":"a1a2a3a4-0000-4000-8000-000000000002"`
	cases := []struct {
		name   string
		result string
		want   []string
		not    []string
	}{
		{"an authenticated payment is complete", `{` + base + `,"state":"final","final":true,"transStatus":"Y","eci":"05","authenticationValue":"AAABBBCCCDDDEEEFFF0011223344=","timings":{"aresMs":120,"resultMs":5300}}`,
			[]string{"Authenticated — payment complete", "AAABBBCCCDDDEEEFFF0011223344=", ">05<", ">Y<", "400000******1000",
				"d1d2d3d4-0000-4000-8000-000000000001", "a1a2a3a4-0000-4000-8000-000000000002", "first answer after 120 ms", "final result after 5300 ms"},
			[]string{"no payment taken", "http-equiv"}},
		{"an attempted authentication still completes the payment", `{` + base + `,"state":"frictionless","final":true,"transStatus":"A","eci":"06","authenticationValue":"AAAA","timings":{}}`,
			[]string{"Payment complete (attempted authentication)"}, []string{"no payment taken"}},
		{"a refusal gives the bank's reason", `{` + base + `,"state":"frictionless","final":true,"transStatus":"N","transStatusReason":"11","timings":{}}`,
			[]string{"Not authenticated — no payment taken", "Your bank said: suspected fraud."}, []string{"payment complete"}},
		{"a failed challenge gives the failed authentication", `{` + base + `,"state":"final","final":true,"transStatus":"N","transStatusReason":"01","timings":{}}`,
			[]string{"Not authenticated — no payment taken", "card authentication failed"}, nil},
		{"a cancelled challenge says the shopper cancelled", `{` + base + `,"state":"final","final":true,"transStatus":"N","transStatusReason":"01","challengeCancel":"01","timings":{}}`,
			[]string{"Not authenticated — no payment taken", "You cancelled the verification."}, nil},
		{"a challenge that timed out says so", `{` + base + `,"state":"final","final":true,"transStatus":"N","transStatusReason":"14","challengeCancel":"05","timings":{}}`,
			[]string{"The verification timed out before it started."}, nil},
		{"a protocol error names its code and detail", `{` + base + `,"state":"error","final":true,"errorCode":"203","errorDetail":"purchaseAmount","timings":{}}`,
			[]string{"Not authenticated — no payment taken", "error 203", "purchaseAmount"}, nil},
		{"a status without a reason is explained", `{` + base + `,"state":"frictionless","final":true,"transStatus":"R","timings":{}}`,
			[]string{"Your bank rejected the payment."}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI(t)
			api.get = func(string, int) (int, string) { return 200, tc.result }
			s := newShop(t, api, nil)
			s.startOrder(t)
			s.do(t, "POST", "/api/authenticate/"+enrolledID, checkoutBody(map[string]any{"product": "headphones"}))
			resp, body := s.do(t, "GET", "/orders/"+enrolledID, "")
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			for _, w := range append(tc.want, "Wireless headphones", "€89.00", `href="/"`) {
				if !strings.Contains(body, w) {
					t.Errorf("the page lacks %q:\n%s", w, body)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(body, n) {
					t.Errorf("the page shows %q", n)
				}
			}
		})
	}
}

func TestTheResultPageWaitsForTheRReqAWhile(t *testing.T) {
	api := newFakeAPI(t)
	api.get = func(id string, reads int) (int, string) {
		if reads < 3 {
			return 200, `{"id":"` + id + `","state":"challenge","final":false,"transStatus":"C","timings":{}}`
		}
		return 200, `{"id":"` + id + `","state":"final","final":true,"transStatus":"Y","eci":"05","authenticationValue":"AAAA","timings":{}}`
	}
	s := newShop(t, api, func(c *shop.Config) { c.ResultWait = 5 * time.Second })
	_, body := s.do(t, "GET", "/orders/"+enrolledID, "")
	if !strings.Contains(body, "Authenticated — payment complete") || strings.Contains(body, "http-equiv") {
		t.Errorf("the page did not wait for the final result:\n%s", body)
	}
	if n := api.readsOf(enrolledID); n != 3 {
		t.Errorf("the result was read %d times, want 3", n)
	}
}

func TestTheResultPageReloadsItselfWhileTheBankHasNotAnswered(t *testing.T) {
	api := newFakeAPI(t)
	api.get = func(id string, _ int) (int, string) {
		return 200, `{"id":"` + id + `","state":"challenge","final":false,"transStatus":"C","timings":{}}`
	}
	s := newShop(t, api, func(c *shop.Config) { c.ResultWait = 300 * time.Millisecond })
	_, body := s.do(t, "GET", "/orders/"+enrolledID, "")
	if !strings.Contains(body, "Waiting for your bank&#39;s answer…") || !strings.Contains(body, `<meta http-equiv="refresh" content="1">`) {
		t.Errorf("want a waiting page that reloads:\n%s", body)
	}
	if n := api.readsOf(enrolledID); n < 2 {
		t.Errorf("the result was read %d times; the page did not poll", n)
	}
}

func TestACancelledChallengeIsShownAtOnceWithoutWaiting(t *testing.T) {
	api := newFakeAPI(t)
	api.get = func(id string, _ int) (int, string) {
		return 200, `{"id":"` + id + `","state":"challenge","final":false,"transStatus":"C","timings":{}}`
	}
	s := newShop(t, api, func(c *shop.Config) { c.ResultWait = time.Minute })
	_, body := s.do(t, "GET", "/orders/"+enrolledID+"?cancelled=1", "")
	if !strings.Contains(body, "You closed the verification — no payment taken") || strings.Contains(body, "http-equiv") {
		t.Errorf("want the cancelled page:\n%s", body)
	}
	if !strings.Contains(body, `href="/orders/`+enrolledID+`"`) {
		t.Errorf("the page offers no way to check the bank's answer again:\n%s", body)
	}
	if n := api.readsOf(enrolledID); n != 1 {
		t.Errorf("the result was read %d times, want once", n)
	}
}

func TestACancelledChallengeWithAFinalResultShowsTheResult(t *testing.T) {
	api := newFakeAPI(t)
	api.get = func(id string, _ int) (int, string) {
		return 200, `{"id":"` + id + `","state":"final","final":true,"transStatus":"N","transStatusReason":"01","challengeCancel":"01","timings":{}}`
	}
	s := newShop(t, api, nil)
	_, body := s.do(t, "GET", "/orders/"+enrolledID+"?cancelled=1", "")
	if !strings.Contains(body, "You cancelled the verification.") || strings.Contains(body, "You closed") {
		t.Errorf("want the bank's final word:\n%s", body)
	}
}

func TestAnUnknownOrderIsNotFound(t *testing.T) {
	api := newFakeAPI(t)
	api.get = func(string, int) (int, string) {
		return 404, `{"type":"about:blank","title":"Not Found","status":404,"detail":"no such authentication"}`
	}
	s := newShop(t, api, nil)
	for _, path := range []string{"/orders/" + enrolledID, "/orders/not-an-id"} {
		resp, body := s.do(t, "GET", path, "")
		if resp.StatusCode != 404 || !strings.Contains(body, "does not exist") {
			t.Errorf("GET %s: %d %s, want the not-found page", path, resp.StatusCode, body)
		}
	}
}

func TestTheReturnAddressLeadsToTheOrder(t *testing.T) {
	s := newShop(t, newFakeAPI(t), nil)
	resp, _ := s.do(t, "GET", "/orders/return?id="+strings.ToUpper(enrolledID), "")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/orders/"+enrolledID {
		t.Errorf("got %d to %q, want 303 to /orders/%s", resp.StatusCode, resp.Header.Get("Location"), enrolledID)
	}
	resp, _ = s.do(t, "GET", "/orders/return?id=https://evil.example/", "")
	if resp.StatusCode != 404 || resp.Header.Get("Location") != "" {
		t.Errorf("a return without an order id: %d to %q, want 404", resp.StatusCode, resp.Header.Get("Location"))
	}
}
