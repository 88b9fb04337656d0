package bench_test

import (
	"math"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/bench"
)

func within(t *testing.T, what string, got, want time.Duration, tolerance float64) {
	t.Helper()
	if math.Abs(float64(got-want)) > tolerance*float64(want) {
		t.Errorf("%s: got %v, want %v within %.1f%%", what, got, want, tolerance*100)
	}
}

func TestHistogramPercentilesOfAUniformDistributionAreWithinOnePercent(t *testing.T) {
	h := bench.NewHistogram()
	for us := 1; us <= 100_000; us++ {
		h.Record(time.Duration(us) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.9, 90 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {0.999, 99900 * time.Microsecond}} {
		within(t, "quantile", h.Quantile(c.q), c.want, 0.01)
	}
	if h.Max() != 100*time.Millisecond {
		t.Errorf("max %v, want exactly 100ms", h.Max())
	}
	if h.Count() != 100_000 {
		t.Errorf("count %d", h.Count())
	}
	within(t, "mean", h.Mean(), 50*time.Millisecond, 0.001)
}

func TestHistogramIsExactBelow128Microseconds(t *testing.T) {
	h := bench.NewHistogram()
	for range 99 {
		h.Record(40 * time.Microsecond)
	}
	h.Record(127 * time.Microsecond)
	if got := h.Quantile(0.5); got != 40*time.Microsecond {
		t.Errorf("p50 %v, want 40µs", got)
	}
	if got := h.Quantile(1); got != 127*time.Microsecond {
		t.Errorf("p100 %v, want 127µs", got)
	}
}

func TestHistogramOfALongTailReportsTheTailNotTheBody(t *testing.T) {
	h := bench.NewHistogram()
	for range 980 {
		h.Record(2 * time.Millisecond)
	}
	for range 20 {
		h.Record(3 * time.Second)
	}
	within(t, "p50", h.Quantile(0.5), 2*time.Millisecond, 0.01)
	within(t, "p99", h.Quantile(0.99), 3*time.Second, 0.01)
	if h.Max() != 3*time.Second {
		t.Errorf("max %v", h.Max())
	}
}

func TestHistogramsMergedGiveWhatOneRecorderOfEverythingGives(t *testing.T) {
	all, a, b := bench.NewHistogram(), bench.NewHistogram(), bench.NewHistogram()
	for us := 1; us <= 50_000; us += 7 {
		d := time.Duration(us*us%90_001) * time.Microsecond
		all.Record(d)
		if us%2 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	merged := bench.NewHistogram()
	merged.Merge(a)
	merged.Merge(b)
	for _, q := range []float64{0.1, 0.5, 0.9, 0.99, 0.999, 1} {
		if merged.Quantile(q) != all.Quantile(q) {
			t.Errorf("quantile %v: merged %v, single %v", q, merged.Quantile(q), all.Quantile(q))
		}
	}
	if merged.Count() != all.Count() || merged.Max() != all.Max() || merged.Mean() != all.Mean() {
		t.Errorf("merged count %d max %v mean %v; single %d %v %v", merged.Count(), merged.Max(), merged.Mean(), all.Count(), all.Max(), all.Mean())
	}
}

func TestEmptyHistogramReportsZeros(t *testing.T) {
	h := bench.NewHistogram()
	if h.Quantile(0.99) != 0 || h.Max() != 0 || h.Mean() != 0 {
		t.Errorf("an empty recorder reports %v %v %v", h.Quantile(0.99), h.Max(), h.Mean())
	}
}
