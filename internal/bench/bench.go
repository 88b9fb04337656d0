// Package bench is the load engine behind `open3ds bench`: it repeats one scenario (an AReq to the
// ACS or the DS, an authentication through the merchant API, a whole browser challenge) at a fixed
// concurrency or a fixed arrival rate, for a duration or a count, after a warm-up that is not
// counted, and reports throughput, latency percentiles, errors by class and what the server
// process spent in CPU and memory meanwhile.
//
// In rate mode the latency of an operation runs from the moment the schedule says it should have
// been sent, not from when a worker got round to it: a server that falls behind shows its queue in
// the percentiles instead of slowing the load down to a pace it likes (coordinated omission).
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Scenario is one kind of operation the engine repeats.
type Scenario interface {
	// Do performs operation number i and says whether the answer was right: nil, a *Failure naming
	// what was wrong with it, or the transport's error. Numbers start at 0 and never repeat within a
	// run, warm-up included, so a scenario can derive varied and unique requests from them. Do is
	// called from many goroutines at once.
	Do(ctx context.Context, i int64) error
}

// ScenarioFunc lets a plain function serve as a Scenario.
type ScenarioFunc func(ctx context.Context, i int64) error

func (f ScenarioFunc) Do(ctx context.Context, i int64) error { return f(ctx, i) }

// Options says how hard and how long to run. Exactly one of Concurrency and Rate is set, and at
// most one of Duration and Count.
type Options struct {
	Concurrency int           // closed loop: this many workers, each sending as soon as its last answer came
	Rate        float64       // open loop: operations started per second, on a fixed schedule
	Duration    time.Duration // how long the measured run lasts
	Count       int64         // or how many operations it makes
	Warmup      time.Duration // run as measured first, for this long, counting nothing
	// PID, when not 0, is the server process whose CPU time and peak memory the report gives.
	PID int
	// Progress, when not nil, hears a line each second while the run is measured.
	Progress io.Writer
}

// OptionError is a bad Options field, named as the command-line flag that sets it.
type OptionError struct{ Flag, Problem string }

func (e *OptionError) Error() string { return e.Flag + ": " + e.Problem }

// Check reports the first contradiction or impossible value in o.
func (o Options) Check() error {
	switch {
	case o.Concurrency > 0 && o.Rate > 0:
		return &OptionError{"-c", "give either a concurrency (-c) or an arrival rate (--rate), not both"}
	case o.Concurrency < 0:
		return &OptionError{"-c", "must be at least 1"}
	case o.Rate < 0 || math.IsNaN(o.Rate) || math.IsInf(o.Rate, 0):
		return &OptionError{"--rate", "must be a positive number of operations per second"}
	case o.Concurrency == 0 && o.Rate == 0:
		return &OptionError{"-c", "give a concurrency (-c) or an arrival rate (--rate)"}
	case o.Duration > 0 && o.Count > 0:
		return &OptionError{"--count", "give either a duration (--duration) or a count (--count), not both"}
	case o.Duration < 0:
		return &OptionError{"--duration", "must be positive"}
	case o.Count < 0:
		return &OptionError{"--count", "must be positive"}
	case o.Duration == 0 && o.Count == 0:
		return &OptionError{"--duration", "give a duration (--duration) or a count (--count)"}
	case o.Warmup < 0:
		return &OptionError{"--warmup", "must be zero or positive"}
	}
	return nil
}

// Workers is how many goroutines send. In rate mode there must be enough of them to keep the
// schedule while each waits for its answer: enough for 50 ms of latency at the rate, at least 8 and
// at most 1000. A server slower than that makes the workers fall behind the schedule, which the
// latencies then show, measured as they are from the scheduled times.
func (o Options) Workers() int {
	if o.Concurrency > 0 {
		return o.Concurrency
	}
	return int(min(max(math.Ceil(o.Rate*0.05), 8), 1000))
}

// maxShards bounds how many histograms the workers share out between them: enough that few
// workers write the same one, few enough that reading them all each second stays cheap.
const maxShards = 16

// worker is one sender's tallies. Only its own goroutine writes them; the progress line reads the
// atomics while it runs, and the report reads the maps once it has stopped.
type worker struct {
	done, failed atomic.Int64
	classes      map[string]int64
	examples     map[string]string
}

// phase is one stretch of the run: the warm-up or the measured part.
type phase struct {
	opts    Options
	sc      Scenario
	seq     *atomic.Int64 // operation numbers, shared by the phases so that they never repeat
	record  bool
	workers []*worker
	shards  []*Histogram
	issued  atomic.Int64 // operations claimed in this phase
	start   time.Time
}

// Run runs the scenario as o says and reports on the measured part. When ctx ends early, the
// report covers what was done until then and the error is ctx's.
func Run(ctx context.Context, sc Scenario, o Options) (*Report, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	var seq atomic.Int64
	if o.Warmup > 0 {
		warm := o
		warm.Duration, warm.Count = o.Warmup, 0
		(&phase{opts: warm, sc: sc, seq: &seq}).run(ctx)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	var before ProcSample
	var procErr error
	resetPeak := false
	if o.PID != 0 {
		resetPeak = ResetPeakRSS(o.PID)
		before, procErr = ReadProc(o.PID)
	}
	p := &phase{opts: o, sc: sc, seq: &seq, record: true}
	elapsed := p.run(ctx)
	r := p.report(elapsed)
	if o.PID != 0 {
		r.Server = serverUsage(o.PID, before, procErr, resetPeak, r)
	}
	return r, ctx.Err()
}

// serverUsage is what the server spent during the measured run.
func serverUsage(pid int, before ProcSample, procErr error, resetPeak bool, r *Report) *ServerUsage {
	u := &ServerUsage{PID: pid, PeakRSSOfRun: resetPeak}
	after, err := ReadProc(pid)
	if procErr != nil || err != nil {
		u.Problem = errors.Join(procErr, err).Error()
		return u
	}
	cpu := (after.CPU - before.CPU).Seconds()
	u.CPUSeconds = cpu
	if r.Seconds > 0 {
		u.Cores = cpu / r.Seconds
	}
	if r.OK > 0 {
		u.CPUMsPerOp = cpu * 1000 / float64(r.OK)
	}
	u.PeakRSSMiB = float64(after.PeakRSS) / (1 << 20)
	return u
}

// run starts the workers and waits for them; it returns how long the phase took.
func (p *phase) run(ctx context.Context) time.Duration {
	n := p.opts.Workers()
	p.workers = make([]*worker, n)
	p.shards = make([]*Histogram, min(n, maxShards))
	for i := range p.shards {
		p.shards[i] = NewHistogram()
	}
	var wg sync.WaitGroup
	p.start = time.Now()
	for w := range n {
		p.workers[w] = &worker{classes: map[string]int64{}, examples: map[string]string{}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if p.opts.Rate > 0 {
				p.scheduled(ctx, p.workers[w], p.shards[w%len(p.shards)])
			} else {
				p.closed(ctx, p.workers[w], p.shards[w%len(p.shards)])
			}
		}()
	}
	stop := make(chan struct{})
	var progress sync.WaitGroup
	if p.record && p.opts.Progress != nil {
		progress.Add(1)
		go func() { defer progress.Done(); p.progress(stop) }()
	}
	wg.Wait()
	elapsed := time.Since(p.start)
	close(stop)
	progress.Wait()
	return elapsed
}

// closed is a closed-loop worker: it sends again as soon as its answer came.
func (p *phase) closed(ctx context.Context, w *worker, h *Histogram) {
	deadline := p.start.Add(p.opts.Duration)
	for ctx.Err() == nil {
		if p.opts.Count > 0 {
			if p.issued.Add(1) > p.opts.Count {
				return
			}
		} else if !time.Now().Before(deadline) {
			return
		}
		t0 := time.Now()
		p.one(ctx, w, h, t0)
	}
}

// scheduled is an open-loop worker: operation k of the phase belongs to the moment start + k/rate,
// whichever worker is free to send it, and its latency counts from that moment.
func (p *phase) scheduled(ctx context.Context, w *worker, h *Histogram) {
	interval := float64(time.Second) / p.opts.Rate
	for ctx.Err() == nil {
		k := p.issued.Add(1) - 1
		if p.opts.Count > 0 && k >= p.opts.Count {
			return
		}
		offset := time.Duration(float64(k) * interval)
		if p.opts.Count == 0 && offset >= p.opts.Duration {
			return
		}
		due := p.start.Add(offset)
		if wait := time.Until(due); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		p.one(ctx, w, h, due)
	}
}

// one performs an operation and counts it, unless the run was cancelled under it.
func (p *phase) one(ctx context.Context, w *worker, h *Histogram, from time.Time) {
	err := p.sc.Do(ctx, p.seq.Add(1)-1)
	if !p.record || ctx.Err() != nil {
		return
	}
	if err != nil {
		class := ClassOf(err)
		w.classes[class]++
		if _, ok := w.examples[class]; !ok {
			w.examples[class] = err.Error()
		}
		w.failed.Add(1)
	} else {
		h.Record(time.Since(from))
	}
	w.done.Add(1)
}

// progress prints a line each second until stop closes: operations done, the last second's rate,
// the 99th percentile so far and the errors so far.
func (p *phase) progress(stop <-chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last int64
	lastAt := p.start
	for {
		select {
		case <-stop:
			return
		case now := <-tick.C:
			var done, failed int64
			for _, w := range p.workers {
				done += w.done.Load()
				failed += w.failed.Load()
			}
			h := NewHistogram()
			for _, s := range p.shards {
				h.Merge(s)
			}
			rate := float64(done-last) / now.Sub(lastAt).Seconds()
			fmt.Fprintf(p.opts.Progress, "%6.0fs  done %-9d rate %8.0f/s  p99 %8s  errors %d\n",
				now.Sub(p.start).Seconds(), done, rate, ms(h.Quantile(0.99)), failed)
			last, lastAt = done, now
		}
	}
}

// report gathers the workers' tallies once they have stopped.
func (p *phase) report(elapsed time.Duration) *Report {
	r := &Report{Concurrency: p.opts.Concurrency, Rate: p.opts.Rate, Workers: len(p.workers), Seconds: elapsed.Seconds(),
		Errors: map[string]int64{}, Examples: map[string]string{}, hist: NewHistogram()}
	for _, w := range p.workers {
		r.Requests += w.done.Load()
		for c, n := range w.classes {
			r.Errors[c] += n
			if _, ok := r.Examples[c]; !ok {
				r.Examples[c] = w.examples[c]
			}
		}
	}
	for _, s := range p.shards {
		r.hist.Merge(s)
	}
	r.OK = int64(r.hist.Count())
	if r.Seconds > 0 {
		r.Throughput = float64(r.OK) / r.Seconds
	}
	r.Latency = latencyOf(r.hist)
	return r
}
