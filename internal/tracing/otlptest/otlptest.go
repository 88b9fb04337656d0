// Package otlptest is a real OTLP/HTTP receiver for tests: an HTTP server on loopback that takes
// the protobuf export requests an exporter posts to /v1/traces, decodes them with the protocol's own
// types, and keeps every span with the resource it came from. Tests point the OTEL_* variables at
// URL and read what arrived.
package otlptest

import (
	"compress/gzip"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// Span is one span received, with its resource's attributes and the headers of the export request
// that carried it.
type Span struct {
	*tracepb.Span
	Resource map[string]string
	Header   http.Header
}

// TraceID and SpanID are the ids in hex, as logs print them.
func (s Span) TraceID() string { return hex.EncodeToString(s.Span.TraceId) }
func (s Span) SpanID() string  { return hex.EncodeToString(s.Span.SpanId) }

// ParentID is the parent span's id in hex, "" for a root span.
func (s Span) ParentID() string { return hex.EncodeToString(s.Span.ParentSpanId) }

// Service is the span's service.name.
func (s Span) Service() string { return s.Resource["service.name"] }

// Attr is the value of the span's attribute key, as text; "" when it has none.
func (s Span) Attr(key string) string {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return Text(kv.Value)
		}
	}
	return ""
}

// Text is an attribute value as text, whatever its type.
func Text(v *commonpb.AnyValue) string {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_IntValue:
		return strconv.FormatInt(x.IntValue, 10)
	case *commonpb.AnyValue_BoolValue:
		return strconv.FormatBool(x.BoolValue)
	case *commonpb.AnyValue_DoubleValue:
		return strconv.FormatFloat(x.DoubleValue, 'g', -1, 64)
	case nil:
		return ""
	}
	return v.String()
}

// Receiver is the running receiver.
type Receiver struct {
	URL string // the base URL, for OTEL_EXPORTER_OTLP_ENDPOINT

	mu       sync.Mutex
	spans    []Span
	requests int
	problems []string
}

// Start runs a receiver until the test ends.
func Start(tb testing.TB) *Receiver {
	tb.Helper()
	r := &Receiver{}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	tb.Cleanup(srv.Close)
	tb.Cleanup(func() {
		for _, p := range r.Problems() {
			tb.Errorf("OTLP receiver: %s", p)
		}
	})
	r.URL = srv.URL
	return r
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	fail := func(status int, msg string) {
		r.mu.Lock()
		r.problems = append(r.problems, req.Method+" "+req.URL.Path+": "+msg)
		r.mu.Unlock()
		http.Error(w, msg, status)
	}
	if req.Method != http.MethodPost || req.URL.Path != "/v1/traces" {
		fail(http.StatusNotFound, "not an OTLP traces export")
		return
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		fail(http.StatusUnsupportedMediaType, "Content-Type "+ct+", want application/x-protobuf")
		return
	}
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			fail(http.StatusBadRequest, "gzip: "+err.Error())
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		fail(http.StatusBadRequest, err.Error())
		return
	}
	var export coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(raw, &export); err != nil {
		fail(http.StatusBadRequest, "not an ExportTraceServiceRequest: "+err.Error())
		return
	}
	r.mu.Lock()
	r.requests++
	for _, rs := range export.ResourceSpans {
		res := map[string]string{}
		for _, kv := range rs.GetResource().GetAttributes() {
			res[kv.Key] = Text(kv.Value)
		}
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				r.spans = append(r.spans, Span{Span: s, Resource: res, Header: req.Header.Clone()})
			}
		}
	}
	r.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

// Spans returns every span received so far.
func (r *Receiver) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Span(nil), r.spans...)
}

// Requests is the number of export requests received.
func (r *Receiver) Requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests
}

// Problems lists the requests the receiver refused, and why.
func (r *Receiver) Problems() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.problems...)
}

// Strings is every piece of text a span carries: its name, its attributes, its events' names and
// attributes, its status message and its resource's attributes. A test looks for card data in it.
func (s Span) Strings() []string {
	out := []string{s.Name, s.GetStatus().GetMessage()}
	for _, kv := range s.Attributes {
		out = append(out, kv.Key, Text(kv.Value))
	}
	for _, e := range s.Events {
		out = append(out, e.Name)
		for _, kv := range e.Attributes {
			out = append(out, kv.Key, Text(kv.Value))
		}
	}
	for k, v := range s.Resource {
		out = append(out, k, v)
	}
	return out
}
