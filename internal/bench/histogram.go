package bench

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// The latency recorder keeps counts in fixed log-linear buckets of microseconds, like an HDR
// histogram: every value below 128 µs has a bucket of its own, and above that each power of two is
// cut into 64 equal buckets, so a bucket is never wider than 1/64 of its values (a reported
// percentile is within 0.8 % of the truth). The buckets are fixed, so two recorders merge by adding
// counts, and the whole recorder is a flat array that workers update with atomic adds: no lock on the
// hot path, and the progress line can read it while they write.
const (
	subBits      = 7
	subCount     = 1 << subBits // exact buckets below 128 µs
	halfCount    = subCount / 2 // buckets per power of two above
	maxExponent  = 36           // values are clamped below 2^36 µs, about 19 hours
	bucketCount  = subCount + (maxExponent-subBits)*halfCount
	maxRecording = 1<<maxExponent - 1
)

// Histogram records latencies. The zero value is not usable; call NewHistogram.
type Histogram struct {
	counts [bucketCount]atomic.Uint64
	total  atomic.Uint64
	sum    atomic.Uint64 // µs, for the mean
	max    atomic.Uint64
}

// NewHistogram returns an empty recorder.
func NewHistogram() *Histogram { return &Histogram{} }

// bucketOf maps a value in µs to its bucket.
func bucketOf(us uint64) int {
	if us < subCount {
		return int(us)
	}
	e := bits.Len64(us) - subBits // ≥ 1: how far the value is shifted to fit 7 bits
	return subCount + (e-1)*halfCount + int(us>>e) - halfCount
}

// bucketRange is the lowest value a bucket holds and its width.
func bucketRange(i int) (low, width uint64) {
	if i < subCount {
		return uint64(i), 1
	}
	e := (i-subCount)/halfCount + 1
	sub := uint64((i-subCount)%halfCount + halfCount)
	return sub << e, 1 << e
}

// Record adds one latency. Values below a microsecond count as 0 µs.
func (h *Histogram) Record(d time.Duration) {
	us := uint64(max(d.Microseconds(), 0))
	us = min(us, maxRecording)
	h.counts[bucketOf(us)].Add(1)
	h.total.Add(1)
	h.sum.Add(us)
	for {
		m := h.max.Load()
		if us <= m || h.max.CompareAndSwap(m, us) {
			return
		}
	}
}

// Merge adds other's counts to h.
func (h *Histogram) Merge(other *Histogram) {
	for i := range other.counts {
		if c := other.counts[i].Load(); c != 0 {
			h.counts[i].Add(c)
		}
	}
	h.total.Add(other.total.Load())
	h.sum.Add(other.sum.Load())
	for {
		m, o := h.max.Load(), other.max.Load()
		if o <= m || h.max.CompareAndSwap(m, o) {
			return
		}
	}
}

// Count is the number of values recorded.
func (h *Histogram) Count() uint64 { return h.total.Load() }

// Max is the largest value recorded, exactly.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) * time.Microsecond }

// Mean is the average of the values recorded.
func (h *Histogram) Mean() time.Duration {
	n := h.total.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sum.Load()/n) * time.Microsecond
}

// Quantile is the value below which the fraction q (0 to 1) of the recorded values lie: the middle
// of the bucket that holds the value of that rank, never above the largest value recorded.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.total.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	rank = max(rank, 1)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			low, width := bucketRange(i)
			v := min(low+width/2, h.max.Load())
			return time.Duration(v) * time.Microsecond
		}
	}
	return h.Max()
}
