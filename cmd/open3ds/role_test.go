package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/httpx"
)

// testListener is a plain-HTTP server on a fresh loopback listener.
func testListener(t *testing.T) listener {
	t.Helper()
	lns, err := listenAll("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	return listener{srv: httpx.NewServer(h, slog.New(slog.DiscardHandler)), ln: lns[0]}
}

func TestServeListenersStopsEveryListenerWhenOneFailsAndNamesTheCommand(t *testing.T) {
	healthy, broken := testListener(t), testListener(t)
	broken.ln.Close() // its server fails at once
	done := make(chan error, 1)
	go func() { done <- serveListeners(context.Background(), "serve test", &httpx.Drain{}, healthy, broken) }()
	select {
	case err := <-done:
		if err == nil || !strings.HasPrefix(err.Error(), "serve test: ") {
			t.Fatalf("serveListeners = %v, want the failure named after the command", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the healthy listener kept serving after the other failed")
	}
	if _, err := net.Dial("tcp", healthy.ln.Addr().String()); err == nil {
		t.Error("the healthy listener still accepts connections after serveListeners returned")
	}
}

func TestServeListenersServesUntilTheContextEndsAndThenReturnsNil(t *testing.T) {
	a, b := testListener(t), testListener(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveListeners(ctx, "serve test", &httpx.Drain{}, a, b) }()
	for _, l := range []listener{a, b} {
		resp, err := http.Get("http://" + l.ln.Addr().String() + "/")
		if err != nil {
			t.Fatalf("listener %s does not serve: %v", l.ln.Addr(), err)
		}
		resp.Body.Close()
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serveListeners after ctx ended = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serveListeners did not return after ctx ended")
	}
}

func TestListenAllClosesWhatItOpenedWhenAnAddressIsTaken(t *testing.T) {
	taken := testListener(t)
	defer taken.ln.Close()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := free.Addr().String()
	free.Close()
	if _, err := listenAll(addr, taken.ln.Addr().String()); err == nil {
		t.Fatal("listenAll on a taken address succeeded")
	}
	again, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the first address stayed open after listenAll failed: %v", err)
	}
	again.Close()
}

// Every role refuses pool and shutdown settings it cannot use, naming each key.
func TestEveryRoleNamesEachBadPoolAndShutdownSetting(t *testing.T) {
	args := []string{"--drain-delay", "-1s", "--shutdown-grace", "0s", "--db-max-open", "0", "--db-max-idle", "-1",
		"--db-max-idle-time", "0s", "--db-statement-timeout", "-1s", "--db-idle-in-transaction-timeout", "-2s"}
	for _, role := range []string{"ds", "acs", "3dss"} {
		err := run(context.Background(), append([]string{"serve", role}, args...), func(string) string { return "" },
			strings.NewReader(""), io.Discard, io.Discard)
		if exitCode(err) != 2 {
			t.Fatalf("serve %s: %v; want a usage error", role, err)
		}
		for _, key := range []string{"drain_delay", "shutdown_grace", "db_max_open", "db_max_idle", "db_max_idle_time",
			"db_statement_timeout", "db_idle_in_transaction_timeout"} {
			if !strings.Contains(err.Error(), key+":") && !strings.Contains(err.Error(), key+" ") {
				t.Errorf("serve %s does not name %s: %v", role, key, err)
			}
		}
	}
	// A limit of idle connections above the pool's size names both.
	err := run(context.Background(), []string{"serve", "ds", "--db-max-open", "4", "--db-max-idle", "8"}, func(string) string { return "" },
		strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "db_max_idle") || !strings.Contains(err.Error(), "db_max_open (4)") {
		t.Errorf("db_max_idle above db_max_open: %v", err)
	}
}
