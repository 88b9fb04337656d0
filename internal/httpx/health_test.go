package httpx_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/httpx"
)

func healthAnswer(t *testing.T, mux *http.ServeMux, path string) (int, httpx.HealthAnswer) {
	t.Helper()
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	var ans httpx.HealthAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil {
		t.Fatalf("%s answered %q: %v", path, rec.Body.String(), err)
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("%s may be cached: a balancer would read an old answer", path)
	}
	return rec.Code, ans
}

// A load balancer takes an instance out of rotation on a 503 from /readyz and an operator reads
// which check failed in the same answer; /livez stays 200 so that the orchestrator does not restart
// an instance whose database is down for a moment.
func TestReadinessNamesTheCheckThatFailedAndLivenessStaysUp(t *testing.T) {
	storeDown := errors.New("store: reading: connection refused")
	var down bool
	h := &httpx.Health{Timeout: 200 * time.Millisecond, Checks: []httpx.Check{
		{Name: "store", Run: func(context.Context) error {
			if down {
				return storeDown
			}
			return nil
		}},
		{Name: "card_ranges", Run: func(context.Context) error { return nil }},
	}}
	mux := http.NewServeMux()
	h.Register(mux)

	if code, ans := healthAnswer(t, mux, "/readyz"); code != http.StatusOK || ans.Status != "ready" ||
		ans.Checks["store"] != "ok" || ans.Checks["card_ranges"] != "ok" {
		t.Errorf("all checks passing: %d %+v, want 200 ready with each check ok", code, ans)
	}
	down = true
	code, ans := healthAnswer(t, mux, "/readyz")
	if code != http.StatusServiceUnavailable || ans.Status != "not ready" || !strings.Contains(ans.Checks["store"], "connection refused") ||
		ans.Checks["card_ranges"] != "ok" {
		t.Errorf("store down: %d %+v, want 503 naming the store and its error, the ranges still ok", code, ans)
	}
	if code, ans := healthAnswer(t, mux, "/livez"); code != http.StatusOK || ans.Status != "live" {
		t.Errorf("liveness while the store is down: %d %+v, want 200 live", code, ans)
	}
}

// A check that hangs (a database that accepts the connection and never answers) fails at the
// timeout instead of holding the balancer's probe.
func TestAHangingCheckFailsAtTheTimeout(t *testing.T) {
	h := &httpx.Health{Timeout: 100 * time.Millisecond, Checks: []httpx.Check{
		{Name: "store", Run: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }},
	}}
	mux := http.NewServeMux()
	h.Register(mux)
	start := time.Now()
	code, ans := healthAnswer(t, mux, "/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(ans.Checks["store"], "deadline") {
		t.Errorf("hanging store: %d %+v, want 503 naming the deadline", code, ans)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the probe waited %v for a hanging check", took)
	}
}
