package httpx_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/logx"
	"github.com/open3ds/open3ds/internal/tracing"
	"github.com/open3ds/open3ds/internal/tracing/otlptest"
)

// A traced server names each request's span after the route that matched, never the path or its
// query, answers a caller's traceparent by joining its trace, and writes the span's ids into the
// request's log lines, the access line among them; probes get no span.
func TestTracedRequestsAreNamedByRouteJoinTheCallersTraceAndLogTheirIDs(t *testing.T) {
	rcv := otlptest.Start(t)
	tr, err := tracing.New(func(k string) string {
		return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": rcv.URL}[k]
	}, "open3ds-acs", "acs", nil)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	mux := http.NewServeMux()
	mux.Handle("POST /challenge/{step}", httpx.Page(func(w http.ResponseWriter, r *http.Request) error {
		httpx.Logger(r.Context()).InfoContext(r.Context(), "step served")
		return nil
	}))
	mux.Handle("GET /boom", httpx.API(func(w http.ResponseWriter, r *http.Request) error { panic("boom") }))
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, r *http.Request) {})
	log := logx.New(logs, slog.LevelDebug, "json")
	srv := httptest.NewServer(httpx.Chain(mux, httpx.Trace(tr, "/livez"), httpx.Standard(log, nil)))
	defer srv.Close()
	s := &testServer{Server: srv, logs: logs}

	const caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	s.do(t, "POST", "/challenge/4000000000001000?token=abc", "", "traceparent", caller)
	s.do(t, "GET", "/boom", "")
	s.do(t, "GET", "/livez", "")
	s.do(t, "GET", "/nowhere?pan=4000000000001000", "")
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	spans := map[string]otlptest.Span{}
	for _, sp := range rcv.Spans() {
		spans[sp.Name] = sp
	}
	if len(spans) != 3 {
		t.Errorf("spans %v, want three: the step, the panic and the unmatched request, no probe", keys(spans))
	}
	step, ok := spans["POST /challenge/{step}"]
	if !ok || step.TraceID() != "0af7651916cd43dd8448eb211c80319c" || step.ParentID() != "b7ad6b7169203331" {
		t.Fatalf("no span of the step in the caller's trace: %v", keys(spans))
	}
	if step.Attr("http.route") != "/challenge/{step}" || step.Attr("http.response.status_code") != "200" || step.Attr(tracing.AttrRole) != "acs" {
		t.Errorf("the step's span says %v", step.Attributes)
	}
	if boom := spans["GET /boom"]; boom.Attr("http.response.status_code") != "500" || boom.GetStatus().GetCode().String() != "STATUS_CODE_ERROR" {
		t.Errorf("the panic's span says %v, status %v", boom.Attributes, boom.GetStatus())
	}
	if _, ok := spans["GET"]; !ok {
		t.Errorf("the unmatched request's span is not named by its method alone: %v", keys(spans))
	}
	for _, sp := range rcv.Spans() {
		for _, text := range sp.Strings() {
			if strings.Contains(text, "token") || strings.Contains(text, "4000000000001000") || strings.Contains(text, "nowhere") {
				t.Errorf("span %q carries the path or query: %q", sp.Name, text)
			}
		}
	}
	for _, msg := range []string{"step served", "http request"} {
		l := s.line(t, msg)
		if l[logx.TraceIDKey] != step.TraceID() || l[logx.SpanIDKey] != step.SpanID() {
			t.Errorf("the %q line has trace %v span %v, want %s %s", msg, l[logx.TraceIDKey], l[logx.SpanIDKey], step.TraceID(), step.SpanID())
		}
	}
}

// Without tracing the middleware is not there at all, and log lines carry no trace.
func TestUntracedServersLogNoTraceIDs(t *testing.T) {
	var none *tracing.Tracing
	logs := &syncBuffer{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /x", func(w http.ResponseWriter, r *http.Request) {})
	srv := httptest.NewServer(httpx.Chain(mux, httpx.Trace(none), httpx.Standard(logx.New(logs, slog.LevelDebug, "json"), nil)))
	defer srv.Close()
	s := &testServer{Server: srv, logs: logs}
	s.do(t, "GET", "/x", "", "traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	if l := s.line(t, "http request"); l[logx.TraceIDKey] != nil || l[logx.SpanIDKey] != nil {
		t.Errorf("an untraced request logged %v", l)
	}
}

func keys(m map[string]otlptest.Span) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
