package bench_test

import (
	"os"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/bench"
)

func TestReadProcSeesThisProcessSpendCPUAndHoldMemory(t *testing.T) {
	before, err := bench.ReadProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if before.PeakRSS < 1<<20 {
		t.Errorf("peak RSS %d bytes: a Go test process holds more than a MiB", before.PeakRSS)
	}
	// Spin until the kernel's 10 ms ticks have counted some of it.
	x := 0
	for start := time.Now(); time.Since(start) < 300*time.Millisecond; {
		x++
	}
	after, err := bench.ReadProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after.CPU <= before.CPU {
		t.Errorf("CPU time did not grow over 300ms of spinning: %v then %v (%d)", before.CPU, after.CPU, x)
	}
}

func TestReadProcOfNoProcessIsAnError(t *testing.T) {
	if _, err := bench.ReadProc(1 << 30); err == nil {
		t.Error("no error for a pid that cannot exist")
	}
}
