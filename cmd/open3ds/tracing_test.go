package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/open3ds/open3ds/internal/bench"
	"github.com/open3ds/open3ds/internal/logx"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/tracing"
	"github.com/open3ds/open3ds/internal/tracing/otlptest"
)

// The cards of the traced purchases: the demo's frictionless card and its card challenged with an
// SMS code.
const (
	tracedFrictionless = "4000000000001000"
	tracedChallenged   = "4000010000001009"
	tracedACSDown      = "4000020000001008" // its issuer's ACS drops every connection
)

// With the OTEL_* variables pointing at an OTLP/HTTP receiver, the demo's roles, each with its own
// store and talking over loopback mutual TLS, export spans such that a purchase through the merchant
// API (3DS Server, DS, ACS) is one trace, parent to child, and the RReq that ends a challenge (ACS,
// DS, 3DS Server) is one too; and no span carries the card number.
func TestAPurchaseAndItsRReqAreEachOneTraceAcrossTheRoles(t *testing.T) {
	rcv := otlptest.Start(t)
	d := startTestDemoEnv(t, filepath.Join(t.TempDir(), "open3ds-data"), 0, map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": rcv.URL,
		"OTEL_EXPORTER_OTLP_HEADERS":  "x-collector-tenant=open3ds%20tests",
		"OTEL_RESOURCE_ATTRIBUTES":    "deployment.environment.name=test",
	})
	hooks := tracedWebhook(t, d)
	if res := d.buy(tracedFrictionless, "1999"); res["transStatus"] != "Y" {
		t.Fatalf("the frictionless purchase ended %v", res["transStatus"])
	}
	if res := d.buy(tracedACSDown, "1999"); res["transStatus"] != "A" {
		t.Fatalf("the purchase at the ACS that is down ended %v", res["transStatus"])
	}
	challenge := &bench.ChallengeScenario{API: &bench.MerchantAPI{Client: d.client, URL: d.net.urls.TDSSAPI, Key: d.key},
		Browser: d.client, Outbox: d.net.outboxURL(), Cards: []string{tracedChallenged}, Poll: 10 * time.Second}
	if err := challenge.Do(context.Background(), 0); err != nil {
		t.Fatalf("the challenged purchase: %v\n%s", err, d.logs)
	}
	// Both purchases' final results reach the webhook (in the background) before the demo stops.
	netWaitUntil(t, 10*time.Second, "the two webhooks did not arrive", func() bool { return len(hooks()) >= 2 })
	// Stopping the demo closes each role's runtime, which exports the spans still buffered.
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
	spans := rcv.Spans()
	if len(spans) == 0 {
		t.Fatalf("no span reached the receiver (%d export requests)", rcv.Requests())
	}
	byID := map[string]otlptest.Span{}
	for _, s := range spans {
		byID[s.SpanID()] = s
	}

	// The frictionless purchase: from the ACS's span for the AReq up to the merchant API's request.
	acsAReq := only(t, spans, "the ACS's AReq span with transStatus Y", func(s otlptest.Span) bool {
		return s.Service() == "open3ds-acs" && s.Name == "POST /areq" && s.Attr(tracing.AttrTransStatus) == "Y"
	})
	assertChain(t, "the purchase", byID, acsAReq, []hop{
		{"open3ds-acs", tracepb.Span_SPAN_KIND_SERVER, "POST /areq"},
		{"open3ds-ds", tracepb.Span_SPAN_KIND_CLIENT, "POST AReq"},
		{"open3ds-ds", tracepb.Span_SPAN_KIND_SERVER, "POST /"},
		{"open3ds-3dss", tracepb.Span_SPAN_KIND_CLIENT, "POST AReq"},
		{"open3ds-3dss", tracepb.Span_SPAN_KIND_SERVER, "POST /v1/authentications/{id}/authenticate"},
	})
	dsAReq := byID[byID[acsAReq.ParentID()].ParentID()]
	if dsAReq.Attr(tracing.AttrMessageType) != "AReq" || dsAReq.Attr(tracing.AttrMessageVersion) == "" ||
		dsAReq.Attr(tracing.AttrTransStatus) != "Y" || dsAReq.Attr("http.route") != "/" {
		t.Errorf("the DS's span of the AReq says %v", dsAReq.Attributes)
	}
	merchant := byID[byID[dsAReq.ParentID()].ParentID()]
	if merchant.Attr(tracing.AttrTransStatus) != "Y" || merchant.Attr(tracing.AttrRole) != "3dss" {
		t.Errorf("the merchant API's span says %v", merchant.Attributes)
	}

	// The DS's warning about the ACS that is down names the trace of the purchase it was written in.
	warned := regexp.MustCompile(`msg="ACS did not answer".* trace_id=([0-9a-f]{32}) span_id=([0-9a-f]{16})`).FindStringSubmatch(d.logs.String())
	if warned == nil {
		t.Errorf("the DS's warning about the ACS carries no trace:\n%s", d.logs)
	} else if s, ok := byID[warned[2]]; !ok || s.TraceID() != warned[1] || s.Service() != "open3ds-ds" || s.Attr(tracing.AttrTransStatus) != "A" {
		t.Errorf("the DS's warning names span %s of trace %s, not the DS's span of the purchase it stood in for", warned[2], warned[1])
	}

	// The merchant's webhook for that purchase is a call in its trace, and says so to the merchant.
	var hooked []string
	for _, s := range spans {
		if s.Service() == "open3ds-3dss" && s.Name == "POST webhook" && s.TraceID() == merchant.TraceID() {
			hooked = append(hooked, "00-"+s.TraceID()+"-"+s.SpanID()+"-01")
			if s.ParentID() != merchant.SpanID() {
				t.Errorf("the webhook's span is not a child of the merchant API's request")
			}
		}
	}
	if len(hooked) != 1 {
		t.Errorf("%d webhook spans in the purchase's trace, want one", len(hooked))
	} else if !slices.Contains(hooks(), hooked[0]) {
		t.Errorf("the merchant's webhook got traceparents %v, want %s among them", hooks(), hooked[0])
	}

	// The challenge's RReq: from the 3DS Server's span for it up to the ACS's sender.
	tdssRReq := only(t, spans, "the 3DS Server's RReq span", func(s otlptest.Span) bool {
		return s.Service() == "open3ds-3dss" && s.Kind == tracepb.Span_SPAN_KIND_SERVER && s.Attr(tracing.AttrMessageType) == "RReq"
	})
	assertChain(t, "the RReq", byID, tdssRReq, []hop{
		{"open3ds-3dss", tracepb.Span_SPAN_KIND_SERVER, "POST /3ds/rreq"},
		{"open3ds-ds", tracepb.Span_SPAN_KIND_CLIENT, "POST RReq"},
		{"open3ds-ds", tracepb.Span_SPAN_KIND_SERVER, "POST /"},
		{"open3ds-acs", tracepb.Span_SPAN_KIND_CLIENT, "POST RReq"},
	})
	dsRReq := byID[byID[tdssRReq.ParentID()].ParentID()]
	for _, s := range []otlptest.Span{tdssRReq, dsRReq} {
		if s.Attr(tracing.AttrTransStatus) != "Y" || s.Attr(tracing.AttrMessageType) != "RReq" {
			t.Errorf("the %s's span of the RReq says %v, want RReq with transStatus Y", s.Service(), s.Attributes)
		}
	}

	// The browser's challenge: its CReq names its span, and the step that ends it carries the result.
	creq := only(t, spans, "the ACS's CReq span", func(s otlptest.Span) bool {
		return s.Service() == "open3ds-acs" && s.Name == "POST /challenge"
	})
	if creq.Attr(tracing.AttrMessageType) != "CReq" || creq.Attr(tracing.AttrMessageVersion) == "" {
		t.Errorf("the ACS's CReq span says %v", creq.Attributes)
	}
	only(t, spans, "the ACS's challenge step that ended it Y", func(s otlptest.Span) bool {
		return s.Service() == "open3ds-acs" && s.Name == "POST /challenge/step" && s.Attr(tracing.AttrTransStatus) == "Y"
	})

	for _, s := range spans {
		if s.Header.Get("x-collector-tenant") != "open3ds tests" {
			t.Fatalf("the export came without OTEL_EXPORTER_OTLP_HEADERS's header: %v", s.Header)
		}
		if s.Resource["deployment.environment.name"] != "test" || s.Resource[tracing.AttrRole] == "" {
			t.Fatalf("the resource lacks OTEL_RESOURCE_ATTRIBUTES or the role: %v", s.Resource)
		}
		for _, text := range s.Strings() {
			for _, pan := range []string{tracedFrictionless, tracedChallenged, tracedACSDown} {
				if strings.Contains(text, pan) || strings.Contains(text, logx.MaskPAN(pan)) {
					t.Errorf("span %q of %s carries the card number: %q", s.Name, s.Service(), text)
				}
			}
			// No URL goes into a span: challenge and notification URLs may carry tokens.
			if strings.Contains(text, "?") || strings.HasPrefix(text, "url.") {
				t.Errorf("span %q of %s carries a URL or query: %q", s.Name, s.Service(), text)
			}
		}
	}
}

// tracedWebhook gives the demo's merchant a webhook on loopback and returns what tells the
// traceparent headers it has received.
func tracedWebhook(t *testing.T, d *testDemo) func() []string {
	t.Helper()
	var mu sync.Mutex
	var got []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("traceparent"))
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	admin := func(method string, body io.Reader) map[string]any {
		req, _ := http.NewRequest(method, d.net.urls.TDSSAdmin+"/v1/merchants/demo-shop", body)
		req.Header.Set("Authorization", "Bearer "+d.net.secrets.TDSSAdmin)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s the demo's merchant: %d %v", method, resp.StatusCode, err)
		}
		return m
	}
	m := admin("GET", nil)
	m["webhookUrl"] = hook.URL + "/3ds-result"
	b, _ := json.Marshal(m)
	admin("PUT", bytes.NewReader(b))
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

// hop is what one span of a chain must be.
type hop struct {
	service string
	kind    tracepb.Span_SpanKind
	name    string
}

// assertChain follows from's parents to the root and checks that they are the hops, in order, all
// in one trace.
func assertChain(t *testing.T, what string, byID map[string]otlptest.Span, from otlptest.Span, hops []hop) {
	t.Helper()
	var got []string
	s := from
	for i := 0; ; i++ {
		got = append(got, fmt.Sprintf("%s %s %q", s.Service(), s.Kind, s.Name))
		if i < len(hops) && (s.Service() != hops[i].service || s.Kind != hops[i].kind || s.Name != hops[i].name) {
			t.Errorf("%s: span %d is %s, want %s %s %q", what, i, got[i], hops[i].service, hops[i].kind, hops[i].name)
		}
		if s.TraceID() != from.TraceID() {
			t.Errorf("%s: span %d is in trace %s, not %s", what, i, s.TraceID(), from.TraceID())
		}
		if s.ParentID() == "" {
			break
		}
		parent, ok := byID[s.ParentID()]
		if !ok {
			t.Fatalf("%s: the parent of %s never arrived; chain so far %v", what, got[i], got)
		}
		s = parent
	}
	if len(got) != len(hops) {
		t.Errorf("%s: the chain is %v, want %d spans", what, got, len(hops))
	}
}

// only returns the one span that match finds, failing the test unless there is exactly one.
func only(t *testing.T, spans []otlptest.Span, what string, match func(otlptest.Span) bool) otlptest.Span {
	t.Helper()
	var found []otlptest.Span
	for _, s := range spans {
		if match(s) {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		var names []string
		for _, s := range spans {
			names = append(names, s.Service()+" "+s.Name)
		}
		t.Fatalf("%d spans are %s, want one; received: %v", len(found), what, names)
	}
	return found[0]
}

// With tracing turned off (OTEL_SDK_DISABLED, though an endpoint is set) the demo buys as ever and
// sends the receiver nothing, even when it stops and would flush.
func TestWithTracingOffTheNetworkExportsNothingAndStillWorks(t *testing.T) {
	rcv := otlptest.Start(t)
	d := startTestDemoEnv(t, filepath.Join(t.TempDir(), "open3ds-data"), 0, map[string]string{
		"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": rcv.URL,
	})
	if res := d.buy(tracedFrictionless, "1999"); res["transStatus"] != "Y" {
		t.Fatalf("the purchase ended %v", res["transStatus"])
	}
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
	if n := rcv.Requests(); n != 0 {
		t.Errorf("the receiver got %d export requests", n)
	}
}

// A role asked to export over gRPC, which it cannot, refuses to start and says which variable to
// change, before it opens anything.
func TestARoleRefusesAnOTLPProtocolItCannotSpeak(t *testing.T) {
	var stderr strings.Builder
	vars := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
		"OPEN3DS_DS_ADMIN_TOKEN": "admin-token-for-tests", "OPEN3DS_DS_STAND_IN_KEY": "stand-in-key-for-tests"}
	dir := t.TempDir()
	res, err := pki.Init(filepath.Join(dir, "pki"), pki.InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l := res.Layout
	err = run(context.Background(), []string{"serve", "ds", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
		"--dsn", "sqlite:" + filepath.Join(dir, "ds.db"), "--tls.ca", l.CA.Cert, "--tls.cert", l.DS.Cert, "--tls.key", l.DS.Key},
		func(k string) string { return vars[k] }, strings.NewReader(""), io.Discard, &stderr)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "OTEL_EXPORTER_OTLP_PROTOCOL") || !strings.Contains(err.Error(), "http/protobuf") {
		t.Fatalf("serve ds answered %v (exit %d), want exit 2 naming OTEL_EXPORTER_OTLP_PROTOCOL\n%s", err, exitCode(err), stderr.String())
	}
	if _, statErr := os.Stat(filepath.Join(dir, "ds.db")); statErr == nil {
		t.Error("the store was opened before the tracing variables were checked")
	}
}
