package risk_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/risk"
)

// syncBuffer is a log sink the watcher goroutine writes while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func policyNamed(name string) string {
	return "default:\n  live:\n    name: " + name + "\n    rules:\n      new_device: {points: 100}\n"
}

// eventually polls cond until it holds or a generous deadline passes; the deadline only guards
// against a hang, it measures nothing.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWatchReloadsAndKeepsTheOldPolicyOnABrokenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(policyNamed("first"))
	s, err := risk.LoadSet(path)
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.WatchEvery(ctx, log, 5*time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()

	name := func() string { live, _ := s.Policies("any"); return live.Name() }
	if name() != "first" {
		t.Fatalf("loaded %q, want first", name())
	}

	write(policyNamed("second"))
	eventually(t, "the second policy to load", func() bool { return name() == "second" })
	if !strings.Contains(logs.String(), "risk policy reloaded") {
		t.Errorf("the reload was not logged: %s", logs.String())
	}

	write("default:\n  live:\n    rules:\n      no_such_rule: {}\n")
	eventually(t, "the broken file to be reported", func() bool {
		return strings.Contains(logs.String(), "no_such_rule: unknown rule")
	})
	if name() != "second" {
		t.Fatalf("a broken file replaced the policy: now %q, want second", name())
	}
	in := ordinary()
	in.Facts.DeviceKnown = false
	if live, _ := s.Evaluate("any", in); live.Score != 100 {
		t.Fatalf("after a broken file the old policy should still score 100, got %d", live.Score)
	}

	write(policyNamed("third"))
	eventually(t, "the fixed file to load", func() bool { return name() == "third" })
}

func TestWatchWithoutAFileReturns(t *testing.T) {
	done := make(chan struct{})
	go func() {
		risk.DefaultSet().Watch(context.Background(), slog.New(slog.DiscardHandler))
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Watch on a set without a file did not return")
	}
}
