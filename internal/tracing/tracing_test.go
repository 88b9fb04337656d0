package tracing_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/logx"
	"github.com/open3ds/open3ds/internal/tracing"
	"github.com/open3ds/open3ds/internal/tracing/otlptest"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// peer is a server that answers 200 and remembers the traceparent of each request.
func peer(t *testing.T) (*httptest.Server, chan string) {
	t.Helper()
	seen := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Get("traceparent")
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv, seen
}

// call makes one call to url through tr's transport and reads the answer to its end.
func call(t *testing.T, tr *tracing.Tracing, url string) {
	t.Helper()
	client := &http.Client{Transport: tr.Transport(nil)}
	req, _ := http.NewRequestWithContext(tracing.Sending(context.Background(), "AReq"), "POST", url+"/areq?token=secret", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
}

func TestWithoutOTELVariablesNothingIsTracedAndNothingChanges(t *testing.T) {
	for name, vars := range map[string]map[string]string{
		"no variable":                      {},
		"only a service name":              {"OTEL_SERVICE_NAME": "billing"},
		"disabled with an endpoint":        {"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"},
		"exporter none with an endpoint":   {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"},
		"disabled with a wrong protocol":   {"OTEL_SDK_DISABLED": "TRUE", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
		"a protocol but no endpoint given": {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
	} {
		t.Run(name, func(t *testing.T) {
			tr, err := tracing.New(env(vars), "open3ds-ds", "ds", nil)
			if err != nil || tr != nil {
				t.Fatalf("New = %v, %v; want no tracing and no error", tr, err)
			}
			base := &http.Transport{}
			if tr.Transport(base) != http.RoundTripper(base) {
				t.Error("the transport was wrapped")
			}
			srv, seen := peer(t)
			call(t, tr, srv.URL)
			if tp := <-seen; tp != "" {
				t.Errorf("the peer got traceparent %q", tp)
			}
			if err := tr.Shutdown(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestEveryWrongVariableIsNamedAtOnce(t *testing.T) {
	_, err := tracing.New(env(map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT":       "http://collector:4318",
		"OTEL_EXPORTER_OTLP_PROTOCOL":       "grpc",
		"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "soon",
		"OTEL_EXPORTER_OTLP_HEADERS":        "authorization=Bearer%20s3cr3t,broken",
		"OTEL_TRACES_SAMPLER":               "sometimes",
		"OTEL_EXPORTER_OTLP_COMPRESSION":    "zstd",
	}), "open3ds-ds", "ds", nil)
	if err == nil {
		t.Fatal("New accepted every wrong variable")
	}
	for _, want := range []string{"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc is not supported", "http/protobuf",
		"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_TRACES_SAMPLER", "OTEL_EXPORTER_OTLP_COMPRESSION"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("the error repeats a header's value: %v", err)
	}
	for name, vars := range map[string]map[string]string{
		"an endpoint that is no URL": {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "collector:4318"},
		"an exporter we lack":        {"OTEL_TRACES_EXPORTER": "zipkin"},
		"a ratio above one":          {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"},
		"a client key alone":         {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_CLIENT_KEY": "/etc/key.pem"},
	} {
		if _, err := tracing.New(env(vars), "open3ds-ds", "ds", nil); err == nil {
			t.Errorf("%s was accepted", name)
		}
	}
}

// Spans reach the receiver at the endpoint's /v1/traces, under the role's service name, with the
// headers asked for; the peer gets the client span as its parent; the URL stays out of the span.
func TestSpansGoToTheEndpointWithTheHeadersAndThePeerGetsTheTraceparent(t *testing.T) {
	for name, c := range map[string]struct {
		vars    func(url string) map[string]string
		service string
	}{
		"the general endpoint, the role's service name": {func(url string) map[string]string {
			return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": url + "/", "OTEL_EXPORTER_OTLP_HEADERS": "x-team=payments"}
		}, "open3ds-acs"},
		"the traces endpoint, gzip, OTEL_SERVICE_NAME": {func(url string) map[string]string {
			return map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": url + "/v1/traces", "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "x-team=payments",
				"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
				"OTEL_SERVICE_NAME": "issuer-acs", "OTEL_RESOURCE_ATTRIBUTES": "service.name=ignored,region=eu-west"}
		}, "issuer-acs"},
		"a service name in the resource attributes": {func(url string) map[string]string {
			return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_EXPORTER_OTLP_HEADERS": "x-team=payments",
				"OTEL_RESOURCE_ATTRIBUTES": "service.name=bank%20acs"}
		}, "bank acs"},
	} {
		t.Run(name, func(t *testing.T) {
			rcv := otlptest.Start(t)
			tr, err := tracing.New(env(c.vars(rcv.URL)), "open3ds-acs", "acs", nil)
			if err != nil || tr == nil {
				t.Fatalf("New: %v, %v", tr, err)
			}
			srv, seen := peer(t)
			call(t, tr, srv.URL)
			if err := tr.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			spans := rcv.Spans()
			if len(spans) != 1 {
				t.Fatalf("%d spans received, want the one client span", len(spans))
			}
			s := spans[0]
			if s.Name != "POST AReq" || s.Service() != c.service || s.Attr(tracing.AttrRole) != "acs" || s.Header.Get("x-team") != "payments" {
				t.Errorf("span %q of %q, role %q, header %q", s.Name, s.Service(), s.Attr(tracing.AttrRole), s.Header.Get("x-team"))
			}
			if want := "00-" + s.TraceID() + "-" + s.SpanID() + "-01"; <-seen != want {
				t.Errorf("the peer did not get traceparent %s", want)
			}
			for _, text := range s.Strings() {
				if strings.Contains(text, "secret") || strings.Contains(text, "/areq") {
					t.Errorf("the span carries the URL: %q", text)
				}
			}
		})
	}
}

func TestAlwaysOffSamplesNothingButStillPropagates(t *testing.T) {
	rcv := otlptest.Start(t)
	tr, err := tracing.New(env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": rcv.URL, "OTEL_TRACES_SAMPLER": "always_off"}), "open3ds-ds", "ds", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, seen := peer(t)
	call(t, tr, srv.URL)
	tr.Shutdown(context.Background())
	if n := len(rcv.Spans()); n != 0 {
		t.Errorf("%d spans exported with always_off", n)
	}
	if tp := <-seen; !strings.HasPrefix(tp, "00-") || !strings.HasSuffix(tp, "-00") {
		t.Errorf("traceparent %q, want one marked not sampled", tp)
	}
}

// A receiver that is down costs the role nothing but a warning in its own log: the calls it traces
// go through, and stopping takes no longer than the export timeout.
func TestAReceiverThatIsDownIsAWarningInTheRolesLog(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	var logs bytes.Buffer
	log := logx.New(&logs, slog.LevelInfo, "json")
	tr, err := tracing.New(env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": down.URL, "OTEL_EXPORTER_OTLP_TIMEOUT": "300",
		"OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20collector-token"}), "open3ds-ds", "ds", log)
	if err != nil {
		t.Fatal(err)
	}
	srv, seen := peer(t)
	call(t, tr, srv.URL)
	if tp := <-seen; tp == "" {
		t.Error("the peer got no traceparent")
	}
	start := time.Now()
	tr.Shutdown(context.Background())
	if took := time.Since(start); took > 6*time.Second {
		t.Errorf("stopping took %v with the receiver down", took)
	}
	if !strings.Contains(logs.String(), "tracing: spans could not be exported") {
		t.Errorf("the role's log does not say the export failed:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "collector-token") {
		t.Errorf("the log shows the exporter's header:\n%s", logs.String())
	}
}
