package retention

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the retention job's, on a role's registry. A nil *Metrics counts nothing.
type Metrics struct {
	rows *prometheus.CounterVec
	last prometheus.Gauge
}

// NewMetrics registers the retention metrics on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "open3ds_retention_rows_total",
			Help: "Rows the retention job removed, by table and mode (purge, or archive: written to the archive, then removed)."},
			[]string{"table", "mode"}),
		last: prometheus.NewGauge(prometheus.GaugeOpts{Name: "open3ds_retention_last_success_timestamp_seconds",
			Help: "When this instance last finished a retention run without error (Unix time); 0 before its first."}),
	}
	for _, c := range []prometheus.Collector{m.rows, m.last} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) removed(table, mode string, n int64) {
	if m != nil {
		m.rows.WithLabelValues(table, mode).Add(float64(n))
	}
}

func (m *Metrics) succeeded(at time.Time) {
	if m != nil {
		m.last.Set(float64(at.UnixNano()) / 1e9)
	}
}
