package httpx_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/httpx"
)

type purchase struct {
	Amount   int    `json:"amount"`
	Currency string `json:"currency"`
	Card     struct {
		Number string `json:"number"`
	} `json:"card"`
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		limit      int64
		wantStatus int // 0: no problem
		wantFields []httpx.FieldError
		wantDetail string
	}{
		{name: "a well-formed body decodes", body: `{"amount":100,"currency":"978","card":{"number":"x"}}`},
		{name: "trailing spaces are not trailing data", body: "{\"amount\":1}\n \n"},
		{name: "a body over the limit is refused with 413", body: `{"currency":"` + strings.Repeat("9", 100) + `"}`, limit: 64,
			wantStatus: 413, wantDetail: "the request body is larger than 64 bytes"},
		{name: "a body exactly at the limit is read", body: `{"currency":"` + strings.Repeat("9", 50) + `"}`, limit: 65},
		{name: "an empty body is refused", body: "", wantStatus: 400, wantDetail: "the request body is empty; send a JSON document"},
		{name: "a body of blanks is refused as empty", body: " \n", wantStatus: 400, wantDetail: "the request body is empty; send a JSON document"},
		{name: "an unknown field is refused and named", body: `{"amount":1,"tip":5}`, wantStatus: 400,
			wantFields: []httpx.FieldError{{Field: "tip", Detail: "unknown field"}}},
		{name: "a value of the wrong type names its field", body: `{"amount":"ten"}`, wantStatus: 400,
			wantFields: []httpx.FieldError{{Field: "amount", Detail: "must be a whole number"}}},
		{name: "a nested value of the wrong type names its path", body: `{"card":{"number":4111111111111111}}`, wantStatus: 400,
			wantFields: []httpx.FieldError{{Field: "card.number", Detail: "must be a string"}}},
		{name: "a second JSON value is refused", body: `{"amount":1}{"amount":2}`, wantStatus: 400,
			wantDetail: "the request body has data after its JSON document"},
		{name: "trailing garbage is refused", body: `{"amount":1} x`, wantStatus: 400,
			wantDetail: "the request body has data after its JSON document"},
		{name: "malformed JSON says where", body: `{"amount":1,}`, wantStatus: 400,
			wantDetail: "the request body is not valid JSON (at byte 13)"},
		{name: "a truncated document is refused", body: `{"amount":1`, wantStatus: 400,
			wantDetail: "the request body is not valid JSON (it ends too early)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
			var p purchase
			err := httpx.DecodeJSON(r, tt.limit, &p)
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("err = %v, want none", err)
				}
				return
			}
			var prob *httpx.Problem
			if !errors.As(err, &prob) {
				t.Fatalf("err = %v, want a *Problem", err)
			}
			if prob.Status != tt.wantStatus {
				t.Errorf("status = %d, want %d", prob.Status, tt.wantStatus)
			}
			if tt.wantDetail != "" && prob.Detail != tt.wantDetail {
				t.Errorf("detail = %q, want %q", prob.Detail, tt.wantDetail)
			}
			if tt.wantFields != nil && !reflect.DeepEqual(prob.Errors, tt.wantFields) {
				t.Errorf("fields = %+v, want %+v", prob.Errors, tt.wantFields)
			}
			if strings.Contains(err.Error(), "4111111111111111") {
				t.Errorf("the error repeats the value from the body: %v", err)
			}
		})
	}
}

func TestDecodeJSONDecodesTheValues(t *testing.T) {
	r := httptest.NewRequest("POST", "/", strings.NewReader(`{"amount":100,"currency":"978","card":{"number":"x"}}`))
	var p purchase
	if err := httpx.DecodeJSON(r, 0, &p); err != nil {
		t.Fatal(err)
	}
	if p.Amount != 100 || p.Currency != "978" || p.Card.Number != "x" {
		t.Errorf("decoded %+v", p)
	}
}

func TestDecodeJSONProblemsBecomeA400Problem(t *testing.T) {
	srv := start(t, func(mux *http.ServeMux) {
		mux.Handle("POST /p", httpx.API(func(w http.ResponseWriter, r *http.Request) error {
			var p purchase
			return httpx.DecodeJSON(r, 0, &p)
		}))
	})
	resp, body := srv.do(t, "POST", "/p", `{"amount":1,"tip":5}`)
	want := `{"type":"about:blank","title":"Bad Request","status":400,"detail":"the request has a field we do not know","errors":[{"field":"tip","detail":"unknown field"}]}`
	if resp.StatusCode != 400 || body != want {
		t.Errorf("got %d %s\nwant 400 %s", resp.StatusCode, body, want)
	}
}
