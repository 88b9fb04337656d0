package bench_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/bench"
)

// counting is a scenario that records which operation numbers it was given.
type counting struct {
	mu   sync.Mutex
	seen map[int64]int
	do   func(i int64) error
}

func (c *counting) Do(_ context.Context, i int64) error {
	c.mu.Lock()
	if c.seen == nil {
		c.seen = map[int64]int{}
	}
	c.seen[i]++
	c.mu.Unlock()
	if c.do != nil {
		return c.do(i)
	}
	return nil
}

func (c *counting) calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, k := range c.seen {
		n += k
	}
	return n
}

func run(t *testing.T, sc bench.Scenario, o bench.Options) *bench.Report {
	t.Helper()
	r, err := bench.Run(context.Background(), sc, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRateModeSchedulesOneOperationPerIntervalOfTheDuration(t *testing.T) {
	sc := &counting{}
	r := run(t, sc, bench.Options{Rate: 1000, Duration: 300 * time.Millisecond})
	if sc.calls() != 300 || r.Requests != 300 || r.OK != 300 {
		t.Errorf("1000/s for 300ms: %d calls, %d requests, %d ok; want 300", sc.calls(), r.Requests, r.OK)
	}
	sc = &counting{}
	r = run(t, sc, bench.Options{Rate: 500, Count: 120})
	if sc.calls() != 120 || r.Requests != 120 {
		t.Errorf("count 120 at 500/s: %d calls, %d requests", sc.calls(), r.Requests)
	}
	if r.Seconds < 0.2 {
		t.Errorf("120 operations at 500/s took %.3fs: the schedule was not kept", r.Seconds)
	}
}

func TestRateModeCountsQueueingFromTheScheduledTimeNotFromTheSend(t *testing.T) {
	// A server that serves one operation at a time, 5 ms each, can do 200/s. Offered 400/s for half
	// a second, it ends a second later than asked: the last operations waited half a second, which
	// the percentiles must show though each took only 5 ms once sent.
	var server sync.Mutex
	sc := bench.ScenarioFunc(func(context.Context, int64) error {
		server.Lock()
		defer server.Unlock()
		time.Sleep(5 * time.Millisecond)
		return nil
	})
	r := run(t, sc, bench.Options{Rate: 400, Duration: 500 * time.Millisecond})
	if r.Latency.P99 < 250 {
		t.Errorf("p99 %.1f ms: the queue behind the slow server is hidden", r.Latency.P99)
	}
}

func TestConcurrencyModeRunsTheCountWithAtMostThatManyInFlight(t *testing.T) {
	var inFlight, most atomic.Int64
	sc := &counting{do: func(int64) error {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(time.Millisecond)
		return nil
	}}
	r := run(t, sc, bench.Options{Concurrency: 4, Count: 100})
	if r.Requests != 100 || sc.calls() != 100 {
		t.Errorf("%d requests, %d calls; want 100", r.Requests, sc.calls())
	}
	if most.Load() > 4 {
		t.Errorf("%d operations in flight at once with -c 4", most.Load())
	}
}

func TestFailuresAreCountedByClassAndLeftOutOfTheLatencies(t *testing.T) {
	sc := &counting{do: func(i int64) error {
		switch i % 4 {
		case 1:
			return &bench.Failure{Class: "transStatus N", Detail: "transStatusReason 11"}
		case 2:
			return bench.Failf("Erro 203", "acctNumber")
		case 3:
			return &os.SyscallError{Syscall: "connect", Err: errors.New("boom")}
		}
		return nil
	}}
	r := run(t, sc, bench.Options{Concurrency: 1, Count: 40})
	want := map[string]int64{"transStatus N": 10, "Erro 203": 10, "transport: other": 10}
	for class, n := range want {
		if r.Errors[class] != n {
			t.Errorf("class %q: %d, want %d (all: %v)", class, r.Errors[class], n, r.Errors)
		}
	}
	if len(r.Errors) != len(want) || r.OK != 10 || r.Requests != 40 {
		t.Errorf("errors %v, ok %d, requests %d", r.Errors, r.OK, r.Requests)
	}
	if r.Examples["Erro 203"] != "Erro 203: acctNumber" {
		t.Errorf("the example of Erro 203 is %q", r.Examples["Erro 203"])
	}
}

func TestWarmupRunsFirstAndIsNotCounted(t *testing.T) {
	sc := &counting{}
	r := run(t, sc, bench.Options{Concurrency: 2, Count: 10, Warmup: 50 * time.Millisecond})
	if r.Requests != 10 {
		t.Errorf("%d requests counted, want the 10 after the warm-up", r.Requests)
	}
	if sc.calls() <= 10 {
		t.Errorf("only %d calls: no warm-up ran", sc.calls())
	}
	for i, n := range sc.seen {
		if n != 1 {
			t.Errorf("operation %d was given %d times", i, n)
		}
	}
}

func TestTheProgressLineComesEverySecond(t *testing.T) {
	var out lockedBuffer
	run(t, &counting{}, bench.Options{Rate: 50, Duration: 2100 * time.Millisecond, Progress: &out})
	if n := out.lines(); n != 2 {
		t.Errorf("%d progress lines in 2.1s, want 2:\n%s", n, out.String())
	}
}

func TestContradictoryOptionsNameTheirFlag(t *testing.T) {
	for _, c := range []struct {
		name string
		o    bench.Options
		flag string
	}{
		{"both a concurrency and a rate", bench.Options{Concurrency: 2, Rate: 10, Count: 1}, "-c"},
		{"neither a concurrency nor a rate", bench.Options{Count: 1}, "-c"},
		{"both a duration and a count", bench.Options{Concurrency: 1, Count: 1, Duration: time.Second}, "--count"},
		{"neither a duration nor a count", bench.Options{Concurrency: 1}, "--duration"},
		{"a negative rate", bench.Options{Rate: -3, Count: 1}, "--rate"},
		{"a negative warm-up", bench.Options{Concurrency: 1, Count: 1, Warmup: -time.Second}, "--warmup"},
	} {
		_, err := bench.Run(context.Background(), &counting{}, c.o)
		var oe *bench.OptionError
		if !errors.As(err, &oe) || oe.Flag != c.flag {
			t.Errorf("%s: %v, want an error about %s", c.name, err, c.flag)
		}
	}
}

func TestACancelledRunReportsWhatItDid(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	r, err := bench.Run(ctx, &counting{}, bench.Options{Rate: 100, Duration: time.Hour})
	if !errors.Is(err, context.DeadlineExceeded) || r == nil || r.Requests == 0 {
		t.Fatalf("report %v, err %v", r, err)
	}
	if len(r.Errors) != 0 {
		t.Errorf("cancellation counted as errors: %v", r.Errors)
	}
}

// lockedBuffer is a writer the engine's progress goroutine and the test can share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

func (b *lockedBuffer) lines() int {
	n := 0
	for _, c := range b.String() {
		if c == '\n' {
			n++
		}
	}
	return n
}
