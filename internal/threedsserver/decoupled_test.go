package threedsserver_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/ds"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/threedsserver"
)

// withDecoupled is the authenticate body of a merchant that allows decoupled authentication.
func withDecoupled(d map[string]any) map[string]any {
	b := authenticateBody()
	b["decoupled"] = d
	return b
}

// A merchant that allows decoupled authentication sees D pending with the ACS's words, by GET and
// webhook, and then the final result the RReq brings, by GET and webhook again.
func TestDecoupledIsPendingThenFinalByAPIAndWebhook(t *testing.T) {
	n := newNetwork(t)
	bodies := make(chan []byte, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- b
	}))
	defer hook.Close()
	key, hash := threedsserver.NewAPIKey()
	m := testMerchant("hooked")
	m.WebhookURL = hook.URL + "/3ds-result"
	must(t, n.st.AddMerchant(context.Background(), m, hash))
	next := func() threedsserver.Result {
		t.Helper()
		select {
		case b := <-bodies:
			var res threedsserver.Result
			must(t, json.Unmarshal(b, &res))
			return res
		case <-time.After(5 * time.Second):
			t.Fatal("no webhook arrived")
		}
		return threedsserver.Result{}
	}

	var st threedsserver.StartResponse
	callWith(t, n.api.URL, key, "POST", "/v1/authentications", map[string]string{"cardNumber": panDecoupled}, &st)
	var res threedsserver.Result
	code := callWith(t, n.api.URL, key, "POST", "/v1/authentications/"+st.ID+"/authenticate",
		withDecoupled(map[string]any{"allowed": true, "maxMinutes": 15}), &res)
	if code != http.StatusOK || res.TransStatus != "D" || res.Final || res.Challenge != nil || !strings.Contains(res.CardholderInfo, "Approve") {
		t.Fatalf("authenticate: %d %+v", code, res)
	}
	n.mu.Lock()
	areq := n.lastReq
	n.mu.Unlock()
	if areq.ThreeDSRequestorDecReqInd != "Y" || areq.ThreeDSRequestorDecMaxTime != "00015" {
		t.Errorf("AReq decoupled fields %q %q", areq.ThreeDSRequestorDecReqInd, areq.ThreeDSRequestorDecMaxTime)
	}
	if p := next(); p.TransStatus != "D" || p.Final || p.CardholderInfo == "" {
		t.Errorf("pending webhook %+v", p)
	}
	rreq := &emv.RReq{MessageType: emv.TypeRReq, MessageVersion: res.MessageVersion, ThreeDSServerTransID: st.ID,
		ACSTransID: res.ACSTransID, DSTransID: res.DSTransID, MessageCategory: "01", TransStatus: "Y", AuthenticationType: "04",
		AuthenticationValue: "kcxyG4uvCrWa0U8wgGFqfng1lZc=", ECI: "05", InteractionCounter: "00"}
	if r, ok := n.postDS(t, rreq).(*emv.RRes); !ok || r.ResultsStatus != "01" {
		t.Fatalf("RReq got %#v", r)
	}
	if f := next(); f.TransStatus != "Y" || !f.Final || f.AuthenticationValue == "" {
		t.Errorf("final webhook %+v", f)
	}
	var got threedsserver.Result
	callWith(t, n.api.URL, key, "GET", "/v1/authentications/"+st.ID, nil, &got)
	if got.TransStatus != "Y" || !got.Final || got.ECI != "05" {
		t.Errorf("GET = %+v", got)
	}
}

func TestDecoupledRequestIsValidatedAndVersioned(t *testing.T) {
	n := newNetwork(t)
	for _, c := range []struct {
		name  string
		d     map[string]any
		field string
	}{
		{"more than 7 days is refused", map[string]any{"allowed": true, "maxMinutes": 10081}, "decoupled.maxMinutes"},
		{"a time without consent is refused", map[string]any{"maxMinutes": 10}, "decoupled.allowed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := start(t, n, panDecoupled)
			var p struct {
				Errors []struct{ Field string } `json:"errors"`
			}
			code := n.call(t, "POST", "/v1/authentications/"+st.ID+"/authenticate", withDecoupled(c.d), &p)
			if code != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0].Field != c.field {
				t.Errorf("got %d %+v, want 422 naming %s", code, p, c.field)
			}
		})
	}
	t.Run("without consent the AReq carries no decoupled fields and the ACS challenges", func(t *testing.T) {
		st := start(t, n, panDecoupled)
		var res threedsserver.Result
		n.call(t, "POST", "/v1/authentications/"+st.ID+"/authenticate", authenticateBody(), &res)
		if res.TransStatus != "C" || n.lastReq.ThreeDSRequestorDecReqInd != "" {
			t.Errorf("got %s with DecReqInd %q", res.TransStatus, n.lastReq.ThreeDSRequestorDecReqInd)
		}
	})
	t.Run("a 2.1.0 AReq never carries the fields, whatever the merchant allows", func(t *testing.T) {
		r := ds.Range{Start: "4100000000000000", End: "4100000000009999", ACS: "bank", ACSStart: "2.1.0", ACSEnd: "2.1.0",
			DSStart: "2.1.0", DSEnd: "2.3.1"}
		must(t, n.dsStore.AddRange(context.Background(), r))
		must(t, n.server.RefreshRanges(context.Background()))
		st := start(t, n, "4100000000000043")
		var res threedsserver.Result
		n.call(t, "POST", "/v1/authentications/"+st.ID+"/authenticate", withDecoupled(map[string]any{"allowed": true, "maxMinutes": 30}), &res)
		n.mu.Lock()
		areq := n.lastReq
		n.mu.Unlock()
		if res.MessageVersion != "2.1.0" || res.TransStatus != "C" || areq.ThreeDSRequestorDecReqInd != "" || areq.ThreeDSRequestorDecMaxTime != "" {
			t.Errorf("got %s %s; AReq DecReqInd %q DecMaxTime %q", res.MessageVersion, res.TransStatus,
				areq.ThreeDSRequestorDecReqInd, areq.ThreeDSRequestorDecMaxTime)
		}
	})
}

// In 2.3.1 a challenged transaction may turn decoupled (the requestor allowed it as a fallback): the
// ACS's RReq D leaves the result pending, by GET and webhook, and its next RReq makes it final.
func TestA231RReqDKeepsTheResultPendingUntilTheFinalRReq(t *testing.T) {
	n := newNetwork(t)
	r := ds.Range{Start: "4400000000000000", End: "4400000000009999", ACS: "bank", ACSStart: "2.1.0", ACSEnd: "2.3.1",
		DSStart: "2.1.0", DSEnd: "2.3.1"}
	must(t, n.dsStore.AddRange(context.Background(), r))
	must(t, n.server.RefreshRanges(context.Background()))
	st := start(t, n, "4400000000000081")
	var res threedsserver.Result
	n.call(t, "POST", "/v1/authentications/"+st.ID+"/authenticate", authenticateBody(), &res)
	if res.MessageVersion != "2.3.1" || res.TransStatus != "C" {
		t.Fatalf("authenticate: %+v", res)
	}
	rreq := func(status string) *emv.RReq {
		m := &emv.RReq{MessageType: emv.TypeRReq, MessageVersion: "2.3.1", ThreeDSServerTransID: st.ID, ACSTransID: res.ACSTransID,
			DSTransID: res.DSTransID, MessageCategory: "01", TransStatus: status, AuthenticationMethod: []string{"11"}, InteractionCounter: "01"}
		if status == "Y" {
			m.AuthenticationValue, m.ECI = "kcxyG4uvCrWa0U8wgGFqfng1lZc=", "05"
		}
		return m
	}
	for range 2 { // a repeated RReq D changes nothing
		if r, ok := n.postDS(t, rreq("D")).(*emv.RRes); !ok || r.ResultsStatus != "01" {
			t.Fatalf("RReq D got %#v", r)
		}
	}
	var got threedsserver.Result
	n.call(t, "GET", "/v1/authentications/"+st.ID, nil, &got)
	if got.TransStatus != "D" || got.Final {
		t.Fatalf("after the RReq D: %+v", got)
	}
	if r, ok := n.postDS(t, rreq("Y")).(*emv.RRes); !ok || r.ResultsStatus != "01" {
		t.Fatalf("final RReq got %#v", r)
	}
	n.call(t, "GET", "/v1/authentications/"+st.ID, nil, &got)
	if got.TransStatus != "Y" || !got.Final || got.AuthenticationValue == "" {
		t.Fatalf("after the final RReq: %+v", got)
	}
}

// The merchant asks for 2.3.1's fallback values with decoupled.fallback: "only" is F and "also" B
// in 2.3.1; before 2.3.1 "also" is Y and "only" sends nothing. A wrong value is a problem naming it.
func TestDecoupledFallbackRequest(t *testing.T) {
	n := newNetwork(t)
	r := ds.Range{Start: "4400000000000000", End: "4400000000009999", ACS: "bank", ACSStart: "2.1.0", ACSEnd: "2.3.1",
		DSStart: "2.1.0", DSEnd: "2.3.1"}
	must(t, n.dsStore.AddRange(context.Background(), r))
	must(t, n.server.RefreshRanges(context.Background()))
	for _, c := range []struct {
		name  string
		d     map[string]any
		field string
	}{
		{"an unknown fallback is refused", map[string]any{"allowed": true, "fallback": "always"}, "decoupled.fallback"},
		{"a fallback without consent is refused", map[string]any{"fallback": "only"}, "decoupled.allowed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := start(t, n, "4400000000000081")
			var p struct {
				Errors []struct{ Field string } `json:"errors"`
			}
			code := n.call(t, "POST", "/v1/authentications/"+st.ID+"/authenticate", withDecoupled(c.d), &p)
			if code != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0].Field != c.field {
				t.Errorf("got %d %+v, want 422 naming %s", code, p, c.field)
			}
		})
	}
	for _, c := range []struct {
		pan, fallback, version, want string
	}{
		{"4400000000000081", "only", "2.3.1", "F"},
		{"4400000000000081", "also", "2.3.1", "B"},
		{"4400000000000081", "", "2.3.1", "Y"},
		{panDecoupled, "only", "2.2.0", ""},
		{panDecoupled, "also", "2.2.0", "Y"},
	} {
		t.Run(c.version+" "+c.fallback, func(t *testing.T) {
			st := start(t, n, c.pan)
			var res threedsserver.Result
			n.call(t, "POST", "/v1/authentications/"+st.ID+"/authenticate",
				withDecoupled(map[string]any{"allowed": true, "maxMinutes": 20, "fallback": c.fallback}), &res)
			n.mu.Lock()
			areq := n.lastReq
			n.mu.Unlock()
			if res.MessageVersion != c.version || areq.ThreeDSRequestorDecReqInd != c.want {
				t.Errorf("version %s, threeDSRequestorDecReqInd %q; want %s %q", res.MessageVersion, areq.ThreeDSRequestorDecReqInd, c.version, c.want)
			}
		})
	}
}

// An app purchase allows decoupled authentication on its start request, validated and versioned as
// on a browser authenticate; a browser start request may not carry it.
func TestAnAppStartRequestAllowsDecoupled(t *testing.T) {
	n := newNetwork(t)
	sdk := newAppSDK(t, true)
	body := appBody(panDecoupled, sdk)
	body["decoupled"] = map[string]any{"allowed": true, "maxMinutes": 20}
	var res threedsserver.Result
	if code := n.call(t, "POST", "/v1/authentications", body, &res); code != http.StatusCreated {
		t.Fatalf("start: %d %+v", code, res)
	}
	n.mu.Lock()
	areq := n.lastReq
	n.mu.Unlock()
	if areq.DeviceChannel != emv.ChannelApp || areq.ThreeDSRequestorDecReqInd != "Y" || areq.ThreeDSRequestorDecMaxTime != "00020" {
		t.Errorf("app AReq channel %s, decoupled fields %q %q", areq.DeviceChannel, areq.ThreeDSRequestorDecReqInd, areq.ThreeDSRequestorDecMaxTime)
	}
	for _, c := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"a bad fallback on an app start is refused", func() map[string]any {
			b := appBody(panDecoupled, newAppSDK(t, true))
			b["decoupled"] = map[string]any{"allowed": true, "fallback": "later"}
			return b
		}(), "decoupled.fallback"},
		{"a browser start request may not carry decoupled", map[string]any{"cardNumber": panDecoupled,
			"decoupled": map[string]any{"allowed": true}}, "decoupled"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var p struct {
				Errors []struct{ Field string } `json:"errors"`
			}
			code := n.call(t, "POST", "/v1/authentications", c.body, &p)
			if code != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0].Field != c.field {
				t.Errorf("got %d %+v, want 422 naming %s", code, p, c.field)
			}
		})
	}
}
