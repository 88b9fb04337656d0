package httpx_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/httpx"
)

func TestRequestIDs(t *testing.T) {
	var seen string
	srv := start(t, func(mux *http.ServeMux) {
		mux.Handle("GET /id", httpx.API(func(w http.ResponseWriter, r *http.Request) error {
			seen = httpx.RequestIDFrom(r.Context())
			httpx.Logger(r.Context()).Info("inside the handler")
			return httpx.WriteJSON(w, 200, "ok")
		}))
	})
	generated := regexp.MustCompile(`^[A-Z2-7]{26}$`)
	tests := []struct {
		name     string
		incoming string
		want     func(string) bool
	}{
		{"a sane incoming id is kept", "trace-42.a_b", func(id string) bool { return id == "trace-42.a_b" }},
		{"a missing id is made up", "", generated.MatchString},
		{"an id with unsafe characters is replaced", "a b\"<x>", generated.MatchString},
		{"an id longer than 64 characters is replaced", strings.Repeat("a", 65), generated.MatchString},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.logs.Reset()
			var hdr []string
			if tt.incoming != "" {
				hdr = []string{"X-Request-ID", tt.incoming}
			}
			resp, _ := srv.do(t, "GET", "/id", "", hdr...)
			id := resp.Header.Get("X-Request-ID")
			if !tt.want(id) {
				t.Fatalf("X-Request-ID = %q", id)
			}
			if seen != id {
				t.Errorf("the handler saw id %q, the response says %q", seen, id)
			}
			for _, msg := range []string{"inside the handler", "http request"} {
				if got := srv.line(t, msg)["request_id"]; got != id {
					t.Errorf("log line %q has request_id %v, want %q", msg, got, id)
				}
			}
		})
	}
}

func TestAccessLogShowsTheRouteWithoutTheQuery(t *testing.T) {
	srv := start(t, func(mux *http.ServeMux) {
		mux.Handle("GET /method/{id}", httpx.Page(func(w http.ResponseWriter, r *http.Request) error {
			_, err := io.WriteString(w, "hello")
			return err
		}))
	})
	srv.do(t, "GET", "/method/77?threeDSMethodData=eyJwYW4iOiI0MTExIn0&otp=123456", "")
	srv.do(t, "GET", "/nowhere?threeDSMethodData=eyJ9&otp=123456", "")
	lines := []map[string]any{}
	for _, l := range srv.lines(t) {
		if l["msg"] == "http request" {
			lines = append(lines, l)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("got %d access log lines, want 2:\n%s", len(lines), srv.logs.String())
	}
	if lines[0]["route"] != "GET /method/{id}" || lines[0]["status"] != 200.0 || lines[0]["bytes"] != 5.0 || lines[0]["method"] != "GET" {
		t.Errorf("access log line %v", lines[0])
	}
	if _, ok := lines[0]["duration"]; !ok {
		t.Errorf("access log line has no duration: %v", lines[0])
	}
	if lines[1]["route"] != "/nowhere" || lines[1]["status"] != 404.0 {
		t.Errorf("an unmatched request is logged as %v, want its path and 404", lines[1])
	}
	if logs := srv.logs.String(); strings.Contains(logs, "threeDSMethodData") || strings.Contains(logs, "123456") {
		t.Errorf("the access log shows the query string:\n%s", logs)
	}
}

func TestMetricsCountRequestsAndErrors(t *testing.T) {
	srv := start(t, func(mux *http.ServeMux) {
		mux.Handle("POST /areq", httpx.Protocol(emv.ComponentDS, emv.Version220, func(w http.ResponseWriter, r *http.Request) error {
			if r.URL.Query().Has("bad") {
				return emv.Errorf(emv.CodeRequiredMissing, "acctNumber")
			}
			return httpx.WriteMessage(w, &emv.RRes{MessageVersion: emv.Version220, ResultsStatus: "01"})
		}))
		mux.Handle("GET /boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	})
	srv.do(t, "POST", "/areq", "{}")
	srv.do(t, "POST", "/areq?bad", "{}")
	srv.do(t, "POST", "/areq?bad", "{}")
	srv.do(t, "GET", "/boom", "")
	srv.do(t, "BREW", "/areq", "")
	_, metrics := srv.do(t, "GET", "/metrics", "")
	for _, want := range []string{
		`open3ds_http_requests_total{method="POST",route="POST /areq",status="200"} 3`,
		`open3ds_http_requests_total{method="GET",route="GET /boom",status="500"} 1`,
		`open3ds_http_requests_total{method="OTHER",route="unmatched",status="405"} 1`,
		`open3ds_http_errors_total{code="201",kind="protocol"} 2`,
		`open3ds_http_errors_total{code="500",kind="panic"} 1`,
		`open3ds_http_panics_total{route="GET /boom"} 1`,
		`open3ds_http_request_duration_seconds_count{method="POST",route="POST /areq"} 3`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if t.Failed() {
		t.Log(metrics)
	}
}

func TestRecoverAnswersAPanicOutsideTheAdapters(t *testing.T) {
	srv := start(t, func(mux *http.ServeMux) {
		mux.Handle("GET /boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("card 4111111111111111") }))
	})
	tests := []struct {
		name, accept, wantType, wantBody string
	}{
		{"a browser gets a page", "text/html,application/xhtml+xml", "text/html; charset=utf-8", "Something went wrong on our side."},
		{"a program gets a problem", "application/json", "application/problem+json", `"detail":"internal error"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := srv.do(t, "GET", "/boom", "", "Accept", tt.accept)
			if resp.StatusCode != 500 || resp.Header.Get("Content-Type") != tt.wantType || !strings.Contains(body, tt.wantBody) {
				t.Errorf("got %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			line := srv.line(t, "panic")
			if !strings.Contains(line["error"].(string), "panic: card 411111******1111") || !strings.HasPrefix(line["stack"].(string), "goroutine") {
				t.Errorf("panic log line %v", line)
			}
		})
	}
}

func TestSecurityHeaders(t *testing.T) {
	routes := func(mux *http.ServeMux) {
		ok := func(w http.ResponseWriter, r *http.Request) error { return httpx.WriteJSON(w, 200, "ok") }
		mux.Handle("GET /api", httpx.API(ok))
		mux.Handle("GET /challenge", httpx.WithCSP("frame-ancestors https:", httpx.Page(ok)))
	}
	plain := start(t, routes)
	tlsSrv := httptest.NewUnstartedServer(plain.Config.Handler)
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)

	tests := []struct {
		name   string
		url    string
		client *http.Client
		want   map[string]string
	}{
		{"every answer has the default headers", plain.URL + "/api", plain.Client(), map[string]string{
			"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Content-Security-Policy": httpx.DefaultCSP,
			"Cache-Control": "no-store", "Strict-Transport-Security": "",
		}},
		{"a route can set its own policy", plain.URL + "/challenge", plain.Client(), map[string]string{
			"Content-Security-Policy": "frame-ancestors https:", "X-Content-Type-Options": "nosniff",
		}},
		{"an answer over TLS asks for HTTPS from now on", tlsSrv.URL + "/api", tlsSrv.Client(), map[string]string{
			"Strict-Transport-Security": "max-age=31536000",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.client.Get(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			for k, v := range tt.want {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestChainRunsTheFirstMiddlewareOutermost(t *testing.T) {
	var order []string
	mw := func(name string) httpx.Middleware {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				order = append(order, name)
				next.ServeHTTP(w, r)
			})
		}
	}
	h := httpx.Chain(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { order = append(order, "handler") }), mw("a"), mw("b"))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if got := strings.Join(order, ","); got != "a,b,handler" {
		t.Errorf("order = %s, want a,b,handler", got)
	}
}

func TestLoggerOutsideARequestIsTheDefault(t *testing.T) {
	if httpx.Logger(context.Background()) != slog.Default() || httpx.RequestIDFrom(context.Background()) != "" {
		t.Error("a context without a request should give the default logger and no id")
	}
}
