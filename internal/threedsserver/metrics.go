package threedsserver

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the 3DS Server's own counters. A nil *Metrics counts nothing.
type Metrics struct {
	auths    *prometheus.CounterVec
	messages *prometheus.CounterVec
}

// NewMetrics registers the 3DS Server metrics on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		auths: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "open3ds_3dss_authentications_total",
			Help: "Authentications by outcome: a transStatus letter, or error."}, []string{"outcome"}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "open3ds_3dss_messages_total",
			Help: "Protocol exchanges of the 3DS Server by message type and outcome (transStatus, Erro, ok or error)."}, []string{"type", "outcome"}),
	}
	for _, c := range []prometheus.Collector{m.auths, m.messages} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// outcome keeps the label set small: a transStatus letter, Erro, ok (a PRes or an RReq taken), or
// error for everything else (a timeout, an invalid answer).
func outcome(o string) string {
	if len(o) == 1 || o == "Erro" || o == "ok" {
		return o
	}
	return "error"
}

func (m *Metrics) auth(o string) {
	if m != nil {
		m.auths.WithLabelValues(outcome(o)).Inc()
	}
}

func (m *Metrics) message(typ, o string) {
	if m != nil {
		m.messages.WithLabelValues(typ, outcome(o)).Inc()
	}
}
