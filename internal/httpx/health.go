package httpx

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Check is one thing an instance needs before a load balancer should send it traffic: the store it
// writes to, the card ranges it routes by. Run says what is missing, nil when all is there.
type Check struct {
	Name string
	Run  func(ctx context.Context) error
}

// Health answers the two questions an orchestrator asks of an instance, on its admin listener:
//
//   - GET /livez: is the process serving at all? Always 200 while it runs; a restart is the cure
//     when it stops answering.
//   - GET /readyz: should traffic come here? 200 when every check passes within the timeout, else
//     503 naming each check that failed. A failing check takes the instance out of the balancer's
//     rotation without restarting it.
//
// Both answer JSON: {"status": "ready", "checks": {"store": "ok"}}. The checks run in parallel,
// each within Timeout (2 s when zero).
type Health struct {
	Checks  []Check
	Timeout time.Duration
	Log     *slog.Logger
}

// HealthAnswer is the body of /livez and /readyz.
type HealthAnswer struct {
	Status string            `json:"status"` // live, ready or not ready
	Checks map[string]string `json:"checks,omitempty"`
}

// Register adds /livez and /readyz to mux.
func (h *Health) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		_ = WriteJSON(w, http.StatusOK, HealthAnswer{Status: "live"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ans := h.Ready(r.Context())
		status := http.StatusOK
		if ans.Status != "ready" {
			status = http.StatusServiceUnavailable
		}
		w.Header().Set("Cache-Control", "no-store")
		_ = WriteJSON(w, status, ans)
	})
}

// Ready runs every check and says whether all passed, with each check's word.
func (h *Health) Ready(ctx context.Context) HealthAnswer {
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	words := make([]string, len(h.Checks))
	var wg sync.WaitGroup
	for i, c := range h.Checks {
		wg.Go(func() {
			words[i] = "ok"
			if err := c.Run(ctx); err != nil {
				// The answer names what failed in a short line; the whole error goes to the log,
				// which is where an operator reads a driver's detail.
				words[i] = "failed: " + clip(err.Error(), 160)
				if h.Log != nil {
					h.Log.WarnContext(ctx, "readiness check failed", "check", c.Name, "err", err)
				}
			}
		})
	}
	wg.Wait()
	ans := HealthAnswer{Status: "ready", Checks: make(map[string]string, len(h.Checks))}
	for i, c := range h.Checks {
		ans.Checks[c.Name] = words[i]
		if words[i] != "ok" {
			ans.Status = "not ready"
		}
	}
	return ans
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
