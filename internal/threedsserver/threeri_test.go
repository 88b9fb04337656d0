package threedsserver_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/threedsserver"
)

// Cards of ranges that speak one version only; the test ACS answers Y for their final 0.
const (
	pan210 = "4000000100000050"
	pan231 = "4000000200000000"
)

// withVersionRanges adds a 2.1.0-only and a 2.3.1-only range to the network.
func (n *network) withVersionRanges(tb testing.TB) {
	tb.Helper()
	ctx := context.Background()
	for _, r := range []struct{ start, end, v string }{
		{"4000000100000000", "4000000100009999", emv.Version210}, {"4000000200000000", "4000000200009999", emv.Version231}} {
		dr := dsRange(r.start, r.end)
		dr.ACSStart, dr.ACSEnd = r.v, r.v
		must(tb, n.dsStore.AddRange(ctx, dr))
	}
	must(tb, n.server.RefreshRanges(ctx))
}

// frictionless runs a browser purchase of pan to its frictionless end and returns its id.
func frictionless(t *testing.T, n *network, pan string) string {
	t.Helper()
	st := start(t, n, pan)
	var res threedsserver.Result
	if code := n.call(t, "POST", "/v1/authentications/"+st.ID+"/authenticate", authenticateBody(), &res); code != http.StatusOK || !res.Final {
		t.Fatalf("prior purchase: HTTP %d %+v", code, res)
	}
	return st.ID
}

func monthlyBody(pan, prior string) map[string]any {
	return map[string]any{"channel": "3ri", "cardNumber": pan, "threeRIInd": "recurring", "amount": "999", "currency": "978",
		"priorAuthentication": map[string]string{"id": prior},
		"recurring":           map[string]any{"expiry": "20991231", "frequency": 30}}
}

// problemFields sends body to start and returns the status and the fields the problem names.
func problemFields(t *testing.T, n *network, body any) (int, []string) {
	t.Helper()
	var p struct {
		Errors []struct{ Field string } `json:"errors"`
	}
	code := n.call(t, "POST", "/v1/authentications", body, &p)
	var fields []string
	for _, e := range p.Errors {
		fields = append(fields, e.Field)
	}
	return code, fields
}

func TestA3RIRecurringPaymentCarriesItsPriorAuthentication(t *testing.T) {
	n := newNetwork(t)
	prior := frictionless(t, n, panFrictionless)
	var res threedsserver.Result
	if code := n.call(t, "POST", "/v1/authentications", monthlyBody(panFrictionless, prior), &res); code != http.StatusCreated {
		t.Fatalf("3RI start: HTTP %d %+v", code, res)
	}
	if res.Channel != "3ri" || res.ThreeRIInd != "01" || res.TransStatus != "Y" || !res.Final || res.ECI != "05" ||
		res.MessageCategory != "payment" {
		t.Fatalf("3RI result %+v; want a final Y of channel 3ri, threeRIInd 01", res)
	}
	n.mu.Lock()
	a := n.lastReq
	n.mu.Unlock()
	info := a.ThreeDSRequestorPriorAuthenticationInfo
	if a.DeviceChannel != emv.Channel3RI || a.ThreeRIInd != "01" || len(info.Items) != 1 || info.List ||
		info.Items[0].ThreeDSReqPriorRef != "0c25afb2-246f-40c3-a162-9c82c19d3c90" || info.Items[0].ThreeDSReqPriorAuthMethod != "01" ||
		len(info.Items[0].ThreeDSReqPriorAuthTimestamp) != 12 || a.RecurringExpiry != "20991231" || a.RecurringFrequency != "30" ||
		a.ThreeDSRequestorAuthenticationInd != "" || a.BrowserUserAgent != "" || a.PurchaseAmount != "999" {
		t.Fatalf("the 3RI AReq: %+v", a)
	}
	var got threedsserver.Result
	n.call(t, "GET", "/v1/authentications/"+res.ID, nil, &got)
	if got.Channel != "3ri" || got.TransStatus != "Y" || got.ThreeRIInd != "01" {
		t.Fatalf("GET after the 3RI: %+v", got)
	}

	t.Run("another merchant's authentication is unknown as a prior", func(t *testing.T) {
		key, hash := threedsserver.NewAPIKey()
		must(t, n.st.AddMerchant(t.Context(), testMerchant("other"), hash))
		var p struct {
			Errors []struct{ Field string } `json:"errors"`
		}
		code := callWith(t, n.api.URL, key, "POST", "/v1/authentications", monthlyBody(panFrictionless, prior), &p)
		if code != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0].Field != "priorAuthentication.id" {
			t.Fatalf("answered %d %+v; want 422 naming priorAuthentication.id", code, p)
		}
	})
	t.Run("a prior still waiting for its challenge is refused", func(t *testing.T) {
		st := start(t, n, panChallenge)
		n.call(t, "POST", "/v1/authentications/"+st.ID+"/authenticate", authenticateBody(), nil)
		code, fields := problemFields(t, n, monthlyBody(panFrictionless, st.ID))
		if code != http.StatusUnprocessableEntity || strings.Join(fields, ",") != "priorAuthentication.id" {
			t.Fatalf("answered %d naming %v", code, fields)
		}
	})
	t.Run("a 3DS Server started afresh on the same store finds the prior", func(t *testing.T) {
		fresh := threedsserver.NewServer(threedsserver.Config{Store: n.st, Recorder: n.db, Client: clientFor(t, pki.RoleThreeDSServer, "3dss"),
			DSURL: n.dsSrv.URL, PublicURL: n.public.URL, ProtocolURL: n.proto.URL, Vault: n.ring, Timeout: 2 * time.Second})
		must(t, fresh.RefreshRanges(t.Context()))
		api := httptest.NewServer(fresh.MerchantHandler())
		defer api.Close()
		var again threedsserver.Result
		if code := callWith(t, api.URL, n.apiKey, "POST", "/v1/authentications", monthlyBody(panFrictionless, prior), &again); code != http.StatusCreated || again.TransStatus != "Y" {
			t.Fatalf("after a restart: HTTP %d %+v", code, again)
		}
	})
}

func TestA3RIFollowsTheVersionOfTheCardsRange(t *testing.T) {
	n := newNetwork(t)
	n.withVersionRanges(t)
	prior210, prior231 := frictionless(t, n, pan210), frictionless(t, n, pan231)

	t.Run("2.1.0 refuses a payment 3RI and the indicators it lacks, naming the field", func(t *testing.T) {
		code, fields := problemFields(t, n, monthlyBody(pan210, prior210))
		if code != http.StatusUnprocessableEntity || strings.Join(fields, ",") != "messageCategory" {
			t.Fatalf("a payment 3RI in 2.1.0: %d naming %v", code, fields)
		}
		body := map[string]any{"channel": "3ri", "cardNumber": pan210, "threeRIInd": "split-shipment", "messageCategory": "non-payment",
			"priorAuthentication": map[string]string{"id": prior210}}
		code, fields = problemFields(t, n, body)
		if code != http.StatusUnprocessableEntity || strings.Join(fields, ",") != "threeRIInd" {
			t.Fatalf("split shipment in 2.1.0: %d naming %v", code, fields)
		}
	})
	t.Run("2.1.0 sends a non-payment add-card 3RI without purchase data", func(t *testing.T) {
		body := map[string]any{"channel": "3ri", "cardNumber": pan210, "threeRIInd": "03", "messageCategory": "non-payment",
			"priorAuthentication": map[string]string{"id": prior210}}
		var res threedsserver.Result
		if code := n.call(t, "POST", "/v1/authentications", body, &res); code != http.StatusCreated || res.MessageCategory != "non-payment" {
			t.Fatalf("HTTP %d %+v", code, res)
		}
		n.mu.Lock()
		a := n.lastReq
		n.mu.Unlock()
		if a.MessageVersion != emv.Version210 || a.MessageCategory != "02" || a.PurchaseAmount != "" || a.TransType != "" ||
			a.ThreeDSRequestorPriorAuthenticationInfo.List {
			t.Fatalf("the 2.1.0 NPA 3RI AReq: %+v", a)
		}
	})
	t.Run("2.2.0 refuses 2.3.1's recurring amount, naming it", func(t *testing.T) {
		body := monthlyBody(panFrictionless, frictionless(t, n, panFrictionless))
		body["recurring"] = map[string]any{"expiry": "20991231", "frequency": 30, "amount": "999", "amountInd": "fixed"}
		code, fields := problemFields(t, n, body)
		if code != http.StatusUnprocessableEntity || !strings.Contains(strings.Join(fields, ","), "recurring.amount") {
			t.Fatalf("%d naming %v", code, fields)
		}
	})
	t.Run("2.3.1 sends the prior as an array and the fixed recurring amount", func(t *testing.T) {
		body := monthlyBody(pan231, prior231)
		body["threeRIInd"] = "13"
		body["recurring"] = map[string]any{"expiry": "20991231", "frequency": 30, "amount": "999", "currency": "978",
			"date": "20990101", "amountInd": "fixed", "frequencyInd": "fixed"}
		var res threedsserver.Result
		if code := n.call(t, "POST", "/v1/authentications", body, &res); code != http.StatusCreated || res.TransStatus != "Y" {
			t.Fatalf("HTTP %d %+v", code, res)
		}
		n.mu.Lock()
		a := n.lastReq
		n.mu.Unlock()
		if a.MessageVersion != emv.Version231 || !a.ThreeDSRequestorPriorAuthenticationInfo.List || a.ThreeRIInd != "13" ||
			a.RecurringAmount != "999" || a.RecurringExponent != "2" || a.RecurringInd == nil || a.RecurringInd.AmountInd != "01" {
			t.Fatalf("the 2.3.1 3RI AReq: %+v", a)
		}
	})
}

func TestABad3RIStartIsRefusedNamingEachField(t *testing.T) {
	n := newNetwork(t)
	prior := frictionless(t, n, panFrictionless)
	for _, tc := range []struct {
		name  string
		edit  func(b map[string]any)
		field string
	}{
		{"no threeRIInd", func(b map[string]any) { delete(b, "threeRIInd") }, "threeRIInd"},
		{"a threeRIInd that is no indicator", func(b map[string]any) { b["threeRIInd"] = "weekly" }, "threeRIInd"},
		{"no prior authentication", func(b map[string]any) { delete(b, "priorAuthentication") }, "priorAuthentication.id"},
		{"an unknown prior authentication", func(b map[string]any) { b["priorAuthentication"] = map[string]string{"id": "nope"} },
			"priorAuthentication.id"},
		{"a recurring expiry that is no date", func(b map[string]any) { b["recurring"] = map[string]any{"expiry": "20991340"} },
			"recurring.expiry"},
		{"a recurring payment without its expiry", func(b map[string]any) { b["recurring"] = map[string]any{"frequency": 30} },
			"recurring.expiry"},
		{"an instalment plan of one", func(b map[string]any) { b["threeRIInd"] = "instalment"; b["instalments"] = 1 }, "instalments"},
		{"a payment without an amount", func(b map[string]any) { delete(b, "amount") }, "amount"},
		{"an unknown message category", func(b map[string]any) { b["messageCategory"] = "loan" }, "messageCategory"},
		{"SDK parameters", func(b map[string]any) { b["sdk"] = map[string]any{} }, "sdk"},
		{"a browser start with a 3RI indicator", func(b map[string]any) { b["channel"] = "browser"; delete(b, "amount"); delete(b, "currency") },
			"threeRIInd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := monthlyBody(panFrictionless, prior)
			tc.edit(body)
			code, fields := problemFields(t, n, body)
			if code != http.StatusUnprocessableEntity || !strings.Contains(","+strings.Join(fields, ",")+",", ","+tc.field+",") {
				t.Fatalf("answered %d naming %v; want 422 naming %s", code, fields, tc.field)
			}
		})
	}
}

func TestABrowserNonPaymentAuthenticationSendsNoPurchase(t *testing.T) {
	n := newNetwork(t)
	var st threedsserver.StartResponse
	if code := n.call(t, "POST", "/v1/authentications", map[string]string{"cardNumber": panFrictionless, "messageCategory": "non-payment"}, &st); code != http.StatusCreated {
		t.Fatalf("start: HTTP %d", code)
	}
	body := authenticateBody()
	delete(body, "amount")
	delete(body, "currency")
	var res threedsserver.Result
	if code := n.call(t, "POST", "/v1/authentications/"+st.ID+"/authenticate", body, &res); code != http.StatusOK || res.MessageCategory != "non-payment" || res.Channel != "browser" {
		t.Fatalf("authenticate: HTTP %d %+v", code, res)
	}
	n.mu.Lock()
	a := n.lastReq
	n.mu.Unlock()
	if a.MessageCategory != "02" || a.PurchaseAmount != "" || a.PurchaseCurrency != "" || a.PurchaseDate != "" || a.TransType != "" {
		t.Fatalf("the NPA AReq: %+v", a)
	}
}

func TestAuthenticateMayTurnABrowserStartIntoANonPayment(t *testing.T) {
	n := newNetwork(t)
	st := start(t, n, panFrictionless)
	body := authenticateBody()
	body["messageCategory"] = "non-payment"
	delete(body, "amount")
	delete(body, "currency")
	var res threedsserver.Result
	if code := n.call(t, "POST", "/v1/authentications/"+st.ID+"/authenticate", body, &res); code != http.StatusOK || res.MessageCategory != "non-payment" {
		t.Fatalf("authenticate: HTTP %d %+v", code, res)
	}
	var got threedsserver.Result
	n.call(t, "GET", "/v1/authentications/"+st.ID, nil, &got)
	if got.MessageCategory != "non-payment" {
		t.Fatalf("stored category %q", got.MessageCategory)
	}
	st = start(t, n, panFrictionless)
	body["messageCategory"] = "gift"
	var p struct {
		Errors []struct{ Field string } `json:"errors"`
	}
	if code := n.call(t, "POST", "/v1/authentications/"+st.ID+"/authenticate", body, &p); code != http.StatusUnprocessableEntity ||
		len(p.Errors) != 1 || p.Errors[0].Field != "messageCategory" {
		t.Fatalf("an unknown category: %d %+v", code, p)
	}
}

func TestA3RIThroughTheRealACSIsCheckedAgainstItsPrior(t *testing.T) {
	n := newNetwork(t)
	n.withRealACS(t)
	prior := frictionless(t, n, panRealACS)
	var first, second threedsserver.Result
	if code := n.call(t, "POST", "/v1/authentications", monthlyBody(panRealACS, prior), &first); code != http.StatusCreated ||
		first.TransStatus != "Y" || len(first.AuthenticationValue) != 28 || first.ECI != "05" {
		t.Fatalf("first monthly payment: HTTP %d %+v", code, first)
	}
	// The same agreement again at once is too frequent for a 30-day recurring payment.
	if n.call(t, "POST", "/v1/authentications", monthlyBody(panRealACS, prior), &second); second.TransStatus != "N" ||
		second.TransStatusReason != "04" || second.AuthenticationValue != "" {
		t.Fatalf("second monthly payment at once: %+v; want N 04", second)
	}
	// A 3RI standing on the first 3RI is refused: only a cardholder authentication backs one.
	var chained threedsserver.Result
	body := monthlyBody(panRealACS, first.ID)
	body["threeRIInd"] = "add-card"
	if n.call(t, "POST", "/v1/authentications", body, &chained); chained.TransStatus != "N" || chained.TransStatusReason != "07" {
		t.Fatalf("a 3RI on a 3RI: %+v; want N 07", chained)
	}
}
