package acs_test

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/emv"
)

// BenchmarkAReq measures the whole AReq path as the DS sees it: mutual TLS on loopback (kept-alive
// connections), decode and validation, issuer and account look-ups, history, risk, authentication
// value, the durable SQLite write and the ARes. It reports ARes per second and the 99th percentile.
func BenchmarkAReq(b *testing.B) {
	e := newACS(b)
	const cards = 200
	pans := make([]string, cards)
	for i := range pans {
		pans[i] = withCheckDigit(fmt.Sprintf("40000090%07d", i))
		if _, err := e.store.CreateCardholder(b.Context(), acs.Cardholder{IssuerID: "bank-a", PAN: pans[i]}); err != nil {
			b.Fatal(err)
		}
	}
	bodies := make([][]byte, cards)
	for i, p := range pans {
		bodies[i] = areq(b, "2.2.0", "areq-browser-pa", map[string]any{"acctNumber": p})
	}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		n         int
	)
	b.SetParallelism(4) // eight clients on two cores: a DS keeps several AReqs in flight
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration

		for pb.Next() {
			mu.Lock()
			n++
			body := bodies[n%cards]
			mu.Unlock()
			t0 := time.Now()
			resp, err := e.ds.Post(e.url, "application/json", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !bytes.Contains(raw, []byte(`"ARes"`)) {
				b.Errorf("not an ARes: %s", raw)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		latencies = append(latencies, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(latencies) == 0 {
		return
	}
	slices.Sort(latencies)
	b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "ARes/s")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
}

// withCheckDigit appends the digit that makes body a Luhn-valid card number, as every AReq's
// acctNumber must be.
func withCheckDigit(body string) string {
	for d := '0'; d <= '9'; d++ {
		if emv.LuhnValid(body + string(d)) {
			return body + string(d)
		}
	}
	panic("unreachable: one of ten check digits always fits")
}
