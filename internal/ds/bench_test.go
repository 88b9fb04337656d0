package ds_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
)

// BenchmarkAReqRelay sends AReqs from a 3DS Server through the DS to a trivial ACS, all over
// mutual TLS on loopback with keep-alive connections, on SQLite. It reports the 99th percentile
// of the round trip as p99-ms.
func BenchmarkAReqRelay(b *testing.B) {
	n := newNetwork(b, netOptions{})
	msgs := make([][]byte, 0, 1024)
	for range 1024 {
		data, err := emv.Marshal(n.areq(b, "4000000000001091"))
		must(b, err)
		msgs = append(msgs, data)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		if _, ok := n.send(b, n.psp, msgs[i%len(msgs)]).(*emv.ARes); !ok {
			b.Fatal("no ARes")
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	reportP99(b, lat)
}

// BenchmarkAReqRelayParallel is BenchmarkAReqRelay with several 3DS Server connections at once,
// for throughput: ops/s is 1e9 / ns/op.
func BenchmarkAReqRelayParallel(b *testing.B) {
	n := newNetwork(b, netOptions{})
	data, err := emv.Marshal(n.areq(b, "4000000000001091"))
	must(b, err)
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok := n.send(b, n.psp, data).(*emv.ARes); !ok {
				b.Error("no ARes")
				return
			}
		}
	})
}

// BenchmarkPReqFull10k answers a full PReq over 10,000 card ranges.
func BenchmarkPReqFull10k(b *testing.B) {
	n := newNetwork(b, netOptions{every: time.Nanosecond})
	ctx := context.Background()
	for i := range 10_000 {
		r := testRange(fmt.Sprintf("5%07d00000000", i), fmt.Sprintf("5%07d99999999", i), "bank")
		must(b, n.store.AddRange(ctx, r))
	}
	preq := &emv.PReq{MessageType: emv.TypePReq, MessageVersion: "2.2.0", ThreeDSServerTransID: newID(), ThreeDSServerRefNumber: pspRef}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		pres, ok := n.send(b, n.psp, preq).(*emv.PRes)
		if !ok || len(pres.CardRangeData) != 10_001 {
			b.Fatal("short PRes")
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	reportP99(b, lat)
}

func reportP99(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	p99 := lat[len(lat)*99/100]
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
}
