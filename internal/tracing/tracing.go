// Package tracing gives each open3ds role its OpenTelemetry traces: a tracer provider built from the
// standard OTEL_* variables and exporting over OTLP/HTTP, server spans for the requests a role
// answers (see httpx), client spans for the calls it makes to its peers, and the W3C traceparent
// header both ways, so that one purchase (merchant API, 3DS Server, DS, ACS) is one trace and so is
// the RReq that ends a challenge (ACS, DS, 3DS Server).
//
// A role whose environment asks for no tracing gets a nil *Tracing: its middleware and transports are
// the ones it had before, and a span never exists, so tracing costs nothing unless it is used.
//
// What a span may carry is decided here and in httpx, and nowhere else: route patterns rather than
// paths, no query string, no header values, message types, versions and outcomes but never a
// message's content. A PAN, a code or a key never reaches a span.
package tracing

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/open3ds/open3ds/internal/buildinfo"
)

// scope names the instrumentation in every span, as the specification asks.
const scope = "github.com/open3ds/open3ds"

// Attribute keys of our own, beside the specification's HTTP ones.
const (
	AttrRole           = "open3ds.role"            // ds, acs or 3dss
	AttrMessageType    = "open3ds.message_type"    // AReq, RReq, PReq, CReq, Erro…
	AttrMessageVersion = "open3ds.message_version" // 2.1.0, 2.2.0, 2.3.1
	AttrTransStatus    = "open3ds.trans_status"    // Y, N, A, C, D, R, U, I
	AttrErrorCode      = "open3ds.error_code"      // the Erro errorCode
)

// Tracing is one role's tracer provider and what it needs to start spans. A nil *Tracing traces
// nothing; every method may be called on it.
type Tracing struct {
	provider *sdktrace.TracerProvider
	tracer   trace.Tracer
	role     string
	prop     propagation.TextMapPropagator
}

// New builds the tracing of one role from the OTEL_* variables getenv gives: nil with no error when
// they ask for none, a *config.Problems error naming each variable that is wrong. service is the
// service.name spans carry unless OTEL_SERVICE_NAME names another; role goes into every span as
// open3ds.role, so that roles sharing a service name (the demo with OTEL_SERVICE_NAME set) can still
// be told apart. Nothing is sent before the first span ends, so New does not need the receiver up.
//
// Failures to export are reported to log (at WARN, as "tracing: …"): the SDK's error handler is
// global to the process, so the last role to start tracing is the one whose logger says it. A nil
// log leaves the SDK's default, which prints through the standard log package.
func New(getenv func(string) string, service, role string, log *slog.Logger) (*Tracing, error) {
	s, problems := readSettings(getenv)
	if err := problems.Err(); err != nil {
		return nil, err
	}
	if !s.enabled {
		return nil, nil
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(s.endpoint), otlptracehttp.WithTimeout(s.timeout)}
	if len(s.headers) > 0 {
		opts = append(opts, otlptracehttp.WithHeaders(s.headers))
	}
	if s.gzip {
		opts = append(opts, otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
	}
	if s.tls != nil {
		opts = append(opts, otlptracehttp.WithTLSClientConfig(s.tls))
	}
	// The exporter makes no connection until it exports; the context only bounds its set-up.
	exp, err := otlptracehttp.New(context.Background(), opts...)
	if err != nil {
		return nil, err
	}
	if log != nil {
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			log.Warn("tracing: spans could not be exported", "err", err)
		}))
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(newResource(s, service, role)),
		sdktrace.WithSampler(sampler(s)),
	)
	return &Tracing{provider: tp, tracer: tp.Tracer(scope), role: role, prop: propagation.TraceContext{}}, nil
}

// newResource describes the process: service.name (OTEL_SERVICE_NAME, else a service.name given in
// OTEL_RESOURCE_ATTRIBUTES, else the role's), service.version, the role, and the operator's other
// attributes.
func newResource(s settings, service, role string) *resource.Resource {
	attrs := make([]attribute.KeyValue, 0, len(s.attributes)+3)
	for k, v := range s.attributes {
		if k == "service.name" && s.serviceName == "" {
			service = v
			continue
		}
		attrs = append(attrs, attribute.String(k, v))
	}
	if s.serviceName != "" {
		service = s.serviceName
	}
	attrs = append(attrs, attribute.String("service.name", service),
		attribute.String("service.version", buildinfo.Read().Version), attribute.String(AttrRole, role))
	return resource.NewSchemaless(attrs...)
}

func sampler(s settings) sdktrace.Sampler {
	switch s.sampler {
	case "always_on":
		return sdktrace.AlwaysSample()
	case "always_off":
		return sdktrace.NeverSample()
	case "traceidratio":
		return sdktrace.TraceIDRatioBased(s.samplerArg)
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample())
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(s.samplerArg))
	}
	return sdktrace.ParentBased(sdktrace.AlwaysSample())
}

// Enabled reports whether spans are made at all.
func (t *Tracing) Enabled() bool { return t != nil }

// shutdownBudget bounds the last export at shutdown: a receiver that is down must not hold up a
// role that is stopping.
const shutdownBudget = 5 * time.Second

// Shutdown exports the spans still buffered and stops the exporter. The role calls it once its
// listeners have stopped, so that the spans of the last requests are sent too.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownBudget)
	defer cancel()
	return t.provider.Shutdown(ctx)
}

// StartServer starts the span of a request r, for httpx's middleware: a child of the caller's span
// when r carries a traceparent, else a new trace. It returns r's context holding the span, and end,
// which names the span after the route (known only once the router has run) and ends it with the
// answer's status. The attributes are the method, the route pattern, the status and the role; the
// path, the query string and the headers stay out (3DS Method and challenge URLs may carry tokens).
// On a nil *Tracing it returns r's own context and an end that does nothing.
func (t *Tracing) StartServer(r *http.Request) (context.Context, func(route string, status int)) {
	if t == nil {
		return r.Context(), noEnd
	}
	ctx := t.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	method := methodName(r.Method)
	ctx, span := t.tracer.Start(ctx, method, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.request.method", method), attribute.String(AttrRole, t.role)))
	return ctx, func(route string, status int) { finishServer(span, method, route, status) }
}

func noEnd(string, int) {}

// finishServer names the span after its route and ends it with the answer's status: an error for a
// 5xx, as the specification says of server spans (a 4xx is the client's error, not ours).
func finishServer(span trace.Span, method, route string, status int) {
	name := method
	if route != "" && route != "unmatched" {
		name = route
		if !hasMethod(route) {
			name = method + " " + route
		}
		span.SetAttributes(attribute.String("http.route", routePath(route)))
	}
	span.SetName(name)
	span.SetAttributes(attribute.Int("http.response.status_code", status))
	if status >= 500 {
		span.SetStatus(codes.Error, "HTTP "+strconv.Itoa(status))
	}
	span.End()
}

// methodName keeps the method to the ones that exist, as the specification asks, so that a client
// inventing methods cannot invent span names.
func methodName(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "_OTHER"
}

// hasMethod reports whether a ServeMux pattern starts with its method ("POST /areq").
func hasMethod(pattern string) bool {
	m, _, ok := cutSpace(pattern)
	return ok && methodName(m) == m
}

// routePath is a pattern without its method: the http.route attribute.
func routePath(pattern string) string {
	if hasMethod(pattern) {
		_, rest, _ := cutSpace(pattern)
		return rest
	}
	return pattern
}

func cutSpace(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
