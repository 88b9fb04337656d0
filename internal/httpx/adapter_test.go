package httpx_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/httpx"
)

func TestAdaptersTurnErrorsIntoAnswers(t *testing.T) {
	cause := errors.New("database unreachable at db.internal:5432")
	typedErro := &emv.Error{Code: emv.CodeFormatInvalid, Detail: "purchaseAmount", MessageType: "AReq",
		MessageVersion: emv.Version220, ThreeDSServerTransID: "8a880dc0-d2d2-4067-bcb1-b08d1690b26e"}
	tests := []struct {
		name       string
		handler    http.Handler
		wantStatus int
		wantType   string
		wantBody   []string // in the answer
		notBody    []string // never in the answer
		wantLog    []string // in the log line of the failure
		logMsg     string
	}{
		{
			name:       "a protocol endpoint answers a protocol error with its Erro and HTTP 200",
			handler:    httpx.Protocol(emv.ComponentDS, emv.Version231, func(http.ResponseWriter, *http.Request) error { return typedErro }),
			wantStatus: 200, wantType: httpx.ProtocolContentType,
			wantBody: []string{`"messageType":"Erro"`, `"messageVersion":"2.2.0"`, `"errorCode":"203"`, `"errorComponent":"D"`,
				`"errorDetail":"purchaseAmount"`, `"errorMessageType":"AReq"`, `"threeDSServerTransID":"8a880dc0-d2d2-4067-bcb1-b08d1690b26e"`},
			wantLog: []string{`"kind":"protocol"`, `"errorCode":"203"`}, logMsg: "request refused",
		},
		{
			name:       "a protocol endpoint answers an unclassified error with Erro 403 and keeps the cause in the log",
			handler:    httpx.Protocol(emv.ComponentACS, emv.Version231, func(http.ResponseWriter, *http.Request) error { return cause }),
			wantStatus: 200, wantType: httpx.ProtocolContentType,
			wantBody: []string{`"errorCode":"403"`, `"errorComponent":"A"`, `"messageVersion":"2.3.1"`},
			notBody:  []string{"database", "db.internal"},
			wantLog:  []string{`"errorCode":"403"`, "database unreachable at db.internal:5432"}, logMsg: "request failed",
		},
		{
			name: "a protocol endpoint answers a panic with Erro 403 and logs the stack",
			handler: httpx.Protocol(emv.ComponentDS, emv.Version220, func(http.ResponseWriter, *http.Request) error {
				panic("nil map in router")
			}),
			wantStatus: 200, wantType: httpx.ProtocolContentType,
			wantBody: []string{`"errorCode":"403"`}, notBody: []string{"nil map", "goroutine"},
			wantLog: []string{"panic: nil map in router", `"stack":"goroutine`}, logMsg: "request failed",
		},
		{
			name: "a protocol endpoint can answer an unreadable message with 400",
			handler: httpx.Protocol(emv.ComponentDS, emv.Version220, func(w http.ResponseWriter, r *http.Request) error {
				var m map[string]any
				return httpx.DecodeJSON(r, 0, &m)
			}).WithErroStatus(httpx.BadRequestOnInvalidMessage),
			wantStatus: 400, wantType: httpx.ProtocolContentType,
			wantBody: []string{`"errorCode":"101"`},
		},
		{
			name: "an API answers a problem with its status, detail and fields",
			handler: httpx.API(func(http.ResponseWriter, *http.Request) error {
				return httpx.Invalid(httpx.FieldError{Field: "purchase.amount", Detail: "must be positive"})
			}),
			wantStatus: 422, wantType: "application/problem+json",
			wantBody: []string{`"type":"about:blank"`, `"title":"Unprocessable Entity"`, `"status":422`,
				`"detail":"the request has invalid fields"`, `"errors":[{"field":"purchase.amount","detail":"must be positive"}]`},
			wantLog: []string{`"kind":"api"`, `"status":422`, "purchase.amount: must be positive"}, logMsg: "request refused",
		},
		{
			name:       "an API answers an unclassified error with a bare 500",
			handler:    httpx.API(func(http.ResponseWriter, *http.Request) error { return cause }),
			wantStatus: 500, wantType: "application/problem+json",
			wantBody: []string{`"title":"Internal Server Error"`, `"status":500`, `"detail":"internal error"`},
			notBody:  []string{"database", "db.internal"},
			wantLog:  []string{`"status":500`, "database unreachable at db.internal:5432"}, logMsg: "request failed",
		},
		{
			name:       "an API answers a panic with a bare 500",
			handler:    httpx.API(func(http.ResponseWriter, *http.Request) error { panic(cause) }),
			wantStatus: 500, wantType: "application/problem+json",
			wantBody: []string{`"detail":"internal error"`}, notBody: []string{"database"},
			wantLog: []string{"panic: database unreachable", `"stack":"goroutine`}, logMsg: "request failed",
		},
		{
			name: "a page answers a problem with its status and a sentence, without the detail",
			handler: httpx.Page(func(http.ResponseWriter, *http.Request) error {
				return httpx.NewProblem(http.StatusNotFound, "transaction 42 is not in the store")
			}),
			wantStatus: 404, wantType: "text/html; charset=utf-8",
			wantBody: []string{"<h1>Not Found</h1>", "This page does not exist, or it has expired.", "Reference: "},
			notBody:  []string{"transaction 42"},
			wantLog:  []string{`"kind":"page"`, "transaction 42 is not in the store"}, logMsg: "request refused",
		},
		{
			name:       "a page answers an unclassified error with a 500 page",
			handler:    httpx.Page(func(http.ResponseWriter, *http.Request) error { return cause }),
			wantStatus: 500, wantType: "text/html; charset=utf-8",
			wantBody: []string{"Something went wrong on our side."}, notBody: []string{"database"},
			wantLog: []string{"database unreachable"}, logMsg: "request failed",
		},
		{
			name:       "a page answers a panic with a 500 page",
			handler:    httpx.Page(func(http.ResponseWriter, *http.Request) error { panic("template missing") }),
			wantStatus: 500, wantType: "text/html; charset=utf-8",
			wantBody: []string{"Something went wrong on our side."}, notBody: []string{"template missing", "goroutine"},
			wantLog: []string{"panic: template missing", `"stack":"goroutine`}, logMsg: "request failed",
		},
		{
			name: "an error after the answer started keeps the answer and is logged",
			handler: httpx.API(func(w http.ResponseWriter, r *http.Request) error {
				httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
				return cause
			}),
			wantStatus: 200, wantType: "application/json",
			wantBody: []string{`{"status":"ok"}`}, notBody: []string{"internal error"},
			wantLog: []string{"database unreachable"}, logMsg: "request failed after the response started",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := start(t, func(mux *http.ServeMux) { mux.Handle("POST /x", tt.handler) })
			resp, body := srv.do(t, "POST", "/x", "not json", "X-Request-ID", "req-1")
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if got := resp.Header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantType)
			}
			if got := resp.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			for _, s := range tt.wantBody {
				if !strings.Contains(body, s) {
					t.Errorf("body lacks %s:\n%s", s, body)
				}
			}
			for _, s := range tt.notBody {
				if strings.Contains(body, s) {
					t.Errorf("body shows %q:\n%s", s, body)
				}
			}
			if tt.logMsg == "" {
				return
			}
			logs := srv.logs.String()
			line := srv.line(t, tt.logMsg)
			if line["request_id"] != "req-1" {
				t.Errorf("failure log line has request_id %v, want req-1", line["request_id"])
			}
			for _, s := range tt.wantLog {
				if !strings.Contains(logs, s) {
					t.Errorf("log lacks %s:\n%s", s, logs)
				}
			}
		})
	}
}

func TestWriteMessageSendsAProtocolAnswer(t *testing.T) {
	srv := start(t, func(mux *http.ServeMux) {
		mux.Handle("POST /rreq", httpx.Protocol(emv.ComponentThreeDSServ, emv.Version220, func(w http.ResponseWriter, r *http.Request) error {
			return httpx.WriteMessage(w, &emv.RRes{MessageVersion: emv.Version220, ResultsStatus: "01"})
		}))
	})
	resp, body := srv.do(t, "POST", "/rreq", "{}")
	want := `{"messageType":"RRes","messageVersion":"2.2.0","resultsStatus":"01"}`
	if resp.StatusCode != 200 || body != want {
		t.Errorf("got %d %s, want 200 %s", resp.StatusCode, body, want)
	}
	if resp.Header.Get("Content-Type") != "application/json; charset=utf-8" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", resp.Header)
	}
}
