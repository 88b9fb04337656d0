package httpx

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics counts requests, their latency and the errors the adapters answered. It registers on the
// registry it is given, never the global one, so that tests and several servers in one process (the
// demo runs every role) each keep their own.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
	panics   *prometheus.CounterVec
}

// NewMetrics makes the HTTP metrics and registers them on reg. It fails when reg already holds
// metrics of the same names.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "open3ds", Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests answered, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "open3ds", Subsystem: "http", Name: "request_duration_seconds",
			Help: "Time from receiving a request to the end of its answer, by route pattern and method.",
			// From 5 ms to 30 s: the protocol's own timeouts are in seconds.
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route", "method"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "open3ds", Subsystem: "http", Name: "errors_total",
			Help: "Errors answered by the adapters, by kind (protocol, api, page, panic) and code (Erro errorCode or HTTP status).",
		}, []string{"kind", "code"}),
		panics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "open3ds", Subsystem: "http", Name: "panics_total",
			Help: "Handler panics recovered, by route pattern.",
		}, []string{"route"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.errors, m.panics} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Middleware counts each request when its answer is done. A nil *Metrics counts nothing, so that code
// that does not care about metrics can pass nil to Standard.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, r := requestInfo(r)
		rec := record(w)
		start := time.Now()
		defer func() {
			rt, method := route(r, in), methodLabel(r.Method)
			m.requests.WithLabelValues(rt, method, strconv.Itoa(rec.statusOr())).Inc()
			m.duration.WithLabelValues(rt, method).Observe(time.Since(start).Seconds())
			if in.errKind != "" {
				m.errors.WithLabelValues(in.errKind, in.errCode).Inc()
			}
			if in.panicked {
				m.panics.WithLabelValues(rt).Inc()
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// methodLabel keeps the method label to the methods that exist, so that a client inventing methods
// cannot invent time series.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// MetricsHandler serves the metrics gathered by g in the Prometheus exposition format, for /metrics.
func MetricsHandler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{})
}
