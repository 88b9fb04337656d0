package ds

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the DS's own counters, on the same registry as httpx.Metrics. A nil *Metrics counts
// nothing, so tests and tools may leave it out.
type Metrics struct {
	messages *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	standIns *prometheus.CounterVec
	acs      *prometheus.CounterVec
	// sdkEnc counts app AReqs refused for their sdkEncData: a rise after a key change says SDKs
	// still encrypt to a key the DS no longer holds.
	sdkEnc prometheus.Counter
}

// NewMetrics registers the DS metrics on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "open3ds_ds_messages_total",
			Help: "Protocol messages the DS answered, by request type and outcome."}, []string{"type", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "open3ds_ds_message_seconds",
			Help: "Time the DS took to answer a protocol message, by request type.", Buckets: prometheus.DefBuckets}, []string{"type"}),
		standIns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "open3ds_ds_stand_ins_total",
			Help: "ARes the DS made in an ACS's place, by policy."}, []string{"policy"}),
		acs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "open3ds_ds_acs_errors_total",
			Help: "Failed calls to ACSs, by ACS and kind (timeout, unreachable, invalid)."}, []string{"acs", "kind"}),
		sdkEnc: prometheus.NewCounter(prometheus.CounterOpts{Name: "open3ds_ds_sdkencdata_refused_total",
			Help: "App AReqs refused with Erro 302 because their sdkEncData did not decrypt to device information."}),
	}
	for _, c := range []prometheus.Collector{m.messages, m.latency, m.standIns, m.acs, m.sdkEnc} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// outcomes keeps the outcome label to a small set: a transStatus letter or Erro, else "ok".
func outcomeLabel(o string) string {
	if len(o) == 1 || o == "Erro" {
		return o
	}
	return "ok"
}

func (m *Metrics) message(typ, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.messages.WithLabelValues(typ, outcomeLabel(outcome)).Inc()
	m.latency.WithLabelValues(typ).Observe(d.Seconds())
}

func (m *Metrics) standIn(p Policy) {
	if m != nil {
		m.standIns.WithLabelValues(string(p)).Inc()
	}
}

func (m *Metrics) acsError(acs, kind string) {
	if m != nil {
		m.acs.WithLabelValues(acs, kind).Inc()
	}
}

func (m *Metrics) sdkEncDataRefused() {
	if m != nil {
		m.sdkEnc.Inc()
	}
}
