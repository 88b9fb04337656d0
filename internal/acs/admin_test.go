package acs_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/emv"
)

// call sends a JSON request to the admin API and decodes the answer into out (when not nil).
func call(tb testing.TB, method, url, token string, body any, out any) int {
	tb.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

func TestAFrictionlessValueVerifiesOnceThenShowsAsUsed(t *testing.T) {
	e := newACS(t)
	res := post(t, e.ds, e.url, areq(t, "2.2.0", "areq-browser-pa", map[string]any{"acctNumber": panEnrolled})).(*emv.ARes)
	if res.TransStatus != "Y" {
		t.Fatalf("transStatus %s", res.TransStatus)
	}
	ask := map[string]string{"pan": panEnrolled, "amount": "12999", "currency": "978", "authenticationValue": res.AuthenticationValue}
	type answer struct {
		Valid       bool
		ACSTransID  string
		AlreadyUsed bool
	}
	var first, second, wrong answer
	if st := call(t, "POST", e.admin+"/v1/authentication-values/verify", adminToken, ask, &first); st != 200 {
		t.Fatalf("status %d", st)
	}
	if !first.Valid || first.ACSTransID != res.ACSTransID || first.AlreadyUsed {
		t.Errorf("first verify = %+v", first)
	}
	call(t, "POST", e.admin+"/v1/authentication-values/verify", adminToken, ask, &second)
	if !second.Valid || !second.AlreadyUsed {
		t.Errorf("second verify = %+v, want valid and already used", second)
	}
	ask["amount"] = "13000"
	call(t, "POST", e.admin+"/v1/authentication-values/verify", adminToken, ask, &wrong)
	if wrong.Valid {
		t.Errorf("a value verified for another amount")
	}
}

func TestAdminAPI(t *testing.T) {
	e := newACS(t)
	t.Run("a request without the token is 401", func(t *testing.T) {
		if st := call(t, "GET", e.admin+"/v1/issuers", "", nil, nil); st != 401 {
			t.Errorf("status %d", st)
		}
		if st := call(t, "GET", e.admin+"/v1/issuers", "wrong", nil, nil); st != 401 {
			t.Errorf("status %d with a wrong token", st)
		}
	})
	t.Run("a cardholder added through the API answers with a masked PAN only", func(t *testing.T) {
		var got map[string]any
		st := call(t, "POST", e.admin+"/v1/cardholders", adminToken,
			map[string]any{"issuer": "bank-a", "pan": "4000007777777777", "emails": []string{"x@example.com"}}, &got)
		if st != 201 || got["maskedPAN"] != "400000******7777" || got["pan"] != nil {
			t.Errorf("status %d, %v", st, got)
		}
	})
	t.Run("a bad cardholder is a problem naming the field", func(t *testing.T) {
		var p struct{ Errors []struct{ Field string } }
		st := call(t, "POST", e.admin+"/v1/cardholders", adminToken, map[string]any{"issuer": "bank-a", "pan": "4000"}, &p)
		if st != 422 && st != 400 || len(p.Errors) != 1 || p.Errors[0].Field != "pan" {
			t.Errorf("status %d, %+v", st, p)
		}
	})
	t.Run("an issuer changed through the API keeps its id and takes the new fields", func(t *testing.T) {
		is := testIssuer("bank-a", "4000", "4000")
		is.Name, is.ECIStyle = "Bank A Renamed", "mastercard"
		var got struct{ ID, Name, ECIStyle string }
		if st := call(t, "PUT", e.admin+"/v1/issuers/bank-a", adminToken, is, &got); st != 200 || got.Name != "Bank A Renamed" || got.ECIStyle != "mastercard" {
			t.Errorf("status %d, %+v", st, got)
		}
	})
	t.Run("a cardholder's app challenge screen set through the API", func(t *testing.T) {
		ch, _ := e.store.CardholderByPAN(t.Context(), panEnrolled)
		var got struct{ AppUI string }
		if st := call(t, "PUT", e.admin+"/v1/cardholders/"+ch.ID, adminToken, map[string]any{"appUI": "04", "mobiles": ch.Mobiles}, &got); st != 200 || got.AppUI != "04" {
			t.Errorf("status %d, %+v", st, got)
		}
		var p struct{ Errors []struct{ Field string } }
		if st := call(t, "PUT", e.admin+"/v1/cardholders/"+ch.ID, adminToken, map[string]any{"appUI": "09"}, &p); st != 422 || len(p.Errors) != 1 || p.Errors[0].Field != "appUI" {
			t.Errorf("an unknown screen: status %d, %+v", st, p)
		}
	})
	t.Run("a cardholder blocked and removed through the API", func(t *testing.T) {
		ch, _ := e.store.CardholderByPAN(t.Context(), panEnrolled)
		var got struct{ Status, MaskedPAN string }
		st := call(t, "PUT", e.admin+"/v1/cardholders/"+ch.ID, adminToken, map[string]any{"status": "blocked", "mobiles": []string{"+447700900999"}}, &got)
		if st != 200 || got.Status != "blocked" || got.MaskedPAN != "400000******7891" {
			t.Errorf("status %d, %+v", st, got)
		}
		if st := call(t, "DELETE", e.admin+"/v1/cardholders/"+ch.ID, adminToken, nil, nil); st != 204 {
			t.Errorf("delete: %d", st)
		}
		if st := call(t, "GET", e.admin+"/v1/cardholders/"+ch.ID, adminToken, nil, nil); st != 404 {
			t.Errorf("get after delete: %d", st)
		}
	})
	t.Run("an overlapping issuer is 409", func(t *testing.T) {
		st := call(t, "POST", e.admin+"/v1/issuers", adminToken, testIssuer("bank-x", "40000", "40001"), nil)
		if st != 409 {
			t.Errorf("status %d", st)
		}
	})
	t.Run("a verify request with bad fields names each", func(t *testing.T) {
		var p struct{ Errors []struct{ Field string } }
		call(t, "POST", e.admin+"/v1/authentication-values/verify", adminToken, map[string]string{"pan": "12", "amount": "x"}, &p)
		var fields []string
		for _, f := range p.Errors {
			fields = append(fields, f.Field)
		}
		if strings.Join(fields, ",") != "pan,amount,currency,authenticationValue" {
			t.Errorf("fields %v", fields)
		}
	})
}
