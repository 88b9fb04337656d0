package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is what one measured run did. Latencies are of the operations that succeeded; failed
// ones are counted by class instead, since a quick refusal would flatter the percentiles.
type Report struct {
	Scenario    string            `json:"scenario"`
	Target      string            `json:"target"`
	Concurrency int               `json:"concurrency,omitempty"`
	Rate        float64           `json:"ratePerSecond,omitempty"`
	Workers     int               `json:"workers"`
	Seconds     float64           `json:"seconds"`
	Requests    int64             `json:"requests"` // every operation completed, failures included
	OK          int64             `json:"ok"`
	Errors      map[string]int64  `json:"errors"`
	Examples    map[string]string `json:"errorExamples,omitempty"` // the first message of each class
	Throughput  float64           `json:"throughputPerSecond"`     // successful operations per second
	Latency     Latency           `json:"latencyMs"`
	Server      *ServerUsage      `json:"server,omitempty"`
	hist        *Histogram
}

// Latency holds the percentiles of a run, in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99.9"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

func latencyOf(h *Histogram) Latency {
	f := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return Latency{P50: f(h.Quantile(0.50)), P90: f(h.Quantile(0.90)), P99: f(h.Quantile(0.99)),
		P999: f(h.Quantile(0.999)), Max: f(h.Max()), Mean: f(h.Mean())}
}

// ServerUsage is what the server process spent during the measured run.
type ServerUsage struct {
	PID        int     `json:"pid"`
	CPUSeconds float64 `json:"cpuSeconds"`
	Cores      float64 `json:"cores"` // CPU seconds per second of the run
	CPUMsPerOp float64 `json:"cpuMsPerOp"`
	PeakRSSMiB float64 `json:"peakRssMiB"`
	// PeakRSSOfRun is false when the kernel would not restart the high-water mark, so that the
	// peak is the process's since it started.
	PeakRSSOfRun bool   `json:"peakRssOfRun"`
	Problem      string `json:"problem,omitempty"` // why the figures are missing
}

// Comparison is a run against the target and, with --ceiling, the same run against a bare server
// that only decodes and echoes: what this machine can do at all.
type Comparison struct {
	Target  *Report `json:"target"`
	Ceiling *Report `json:"ceiling,omitempty"`
	Ratio   *Ratio  `json:"ratioToCeiling,omitempty"`
}

// Ratio is the target's figures divided by the ceiling's.
type Ratio struct {
	Throughput float64 `json:"throughput"`
	P50        float64 `json:"p50"`
	P99        float64 `json:"p99"`
}

// Compare fills in the ratios of target to ceiling.
func Compare(target, ceiling *Report) Comparison {
	c := Comparison{Target: target, Ceiling: ceiling}
	if ceiling != nil {
		div := func(a, b float64) float64 {
			if b == 0 {
				return 0
			}
			return a / b
		}
		c.Ratio = &Ratio{Throughput: div(target.Throughput, ceiling.Throughput),
			P50: div(target.Latency.P50, ceiling.Latency.P50), P99: div(target.Latency.P99, ceiling.Latency.P99)}
	}
	return c
}

// WriteTable prints the comparison for a person: one column per run, then the ratios.
func (c Comparison) WriteTable(w io.Writer) error {
	t := c.Target
	load := fmt.Sprintf("concurrency %d", t.Concurrency)
	if t.Rate > 0 {
		load = fmt.Sprintf("rate %.0f/s (%d workers)", t.Rate, t.Workers)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "open3ds bench %s → %s, %s, %.1fs measured\n\n", t.Scenario, t.Target, load, t.Seconds)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	runs := []*Report{t}
	fmt.Fprintf(tw, "%-14s\ttarget\t", "")
	if c.Ceiling != nil {
		runs = append(runs, c.Ceiling)
		fmt.Fprint(tw, "ceiling\tratio\t")
	}
	fmt.Fprintln(tw)
	row := func(name string, v func(*Report) float64, format string, ratio float64) {
		fmt.Fprintf(tw, "%-14s\t", name)
		for _, r := range runs {
			fmt.Fprintf(tw, format+"\t", v(r))
		}
		if c.Ratio != nil && ratio >= 0 {
			fmt.Fprintf(tw, "%.2f×\t", ratio)
		} else if c.Ratio != nil {
			fmt.Fprint(tw, "\t")
		}
		fmt.Fprintln(tw)
	}
	var rt, r50, r99 float64 = -1, -1, -1
	if c.Ratio != nil {
		rt, r50, r99 = c.Ratio.Throughput, c.Ratio.P50, c.Ratio.P99
	}
	row("operations", func(r *Report) float64 { return float64(r.Requests) }, "%.0f", -1)
	row("errors", func(r *Report) float64 { return float64(r.Requests - r.OK) }, "%.0f", -1)
	row("throughput /s", func(r *Report) float64 { return r.Throughput }, "%.0f", rt)
	row("p50 ms", func(r *Report) float64 { return r.Latency.P50 }, "%.2f", r50)
	row("p90 ms", func(r *Report) float64 { return r.Latency.P90 }, "%.2f", -1)
	row("p99 ms", func(r *Report) float64 { return r.Latency.P99 }, "%.2f", r99)
	row("p99.9 ms", func(r *Report) float64 { return r.Latency.P999 }, "%.2f", -1)
	row("max ms", func(r *Report) float64 { return r.Latency.Max }, "%.2f", -1)
	tw.Flush()

	if len(t.Errors) > 0 {
		b.WriteString("\nerrors by class:\n")
		for _, class := range slices.Sorted(maps.Keys(t.Errors)) {
			fmt.Fprintf(&b, "  %-28s %8d   e.g. %s\n", class, t.Errors[class], t.Examples[class])
		}
	}
	if s := t.Server; s != nil {
		if s.Problem != "" {
			fmt.Fprintf(&b, "\nserver (pid %d): not measured: %s\n", s.PID, s.Problem)
		} else {
			since := "during the run"
			if !s.PeakRSSOfRun {
				since = "since the process started"
			}
			fmt.Fprintf(&b, "\nserver (pid %d): %.2f CPU seconds (%.2f cores), %.3f ms CPU per operation, peak RSS %.1f MiB %s\n",
				s.PID, s.CPUSeconds, s.Cores, s.CPUMsPerOp, s.PeakRSSMiB, since)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ms writes a duration in milliseconds for the progress line.
func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }
