package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/store/storetest"
)

// openPostgresWith opens a fresh, migrated PostgreSQL store with opts and a unique application name,
// which it returns.
func openPostgresWith(t *testing.T, opts store.Options) (*store.DB, string) {
	t.Helper()
	dsn := storetest.PostgresDSN(t)
	var b [6]byte
	rand.Read(b[:])
	opts.ApplicationName = "open3ds-test-" + hex.EncodeToString(b[:])
	opts.Migrate = true
	db, err := store.Open(context.Background(), dsn, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, opts.ApplicationName
}

func TestPostgresStatementTimeoutFailsALongQueryWithErrTimeoutAndThePoolGoesOn(t *testing.T) {
	// The migrations on Open run without the timeout; the statements after it run under it.
	db, _ := openPostgresWith(t, store.Options{StatementTimeout: 300 * time.Millisecond, MaxOpen: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// A stuck query in a write transaction, and one on the read pool, each past the timeout.
	began := time.Now()
	err := db.WithTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "SELECT pg_sleep(3)")
		return err
	})
	if !errors.Is(err, store.ErrTimeout) {
		t.Fatalf("a 3 s statement under a 300 ms timeout: %v; want store.ErrTimeout", err)
	}
	if took := time.Since(began); took > 2500*time.Millisecond {
		t.Errorf("the stuck statement held its caller %v; the timeout did not end it", took)
	}
	_, err = db.Reader().ExecContext(ctx, "SELECT pg_sleep(3)")
	if err = store.MapError(err); !errors.Is(err, store.ErrTimeout) {
		t.Fatalf("a 3 s read under a 300 ms timeout: %v; want store.ErrTimeout", err)
	}

	// Both pools serve on, more calls than they have connections, so every connection is reused.
	for i := range 6 {
		if err := db.RecordExchange(ctx, exchange("after-"+string(rune('a'+i)), "tx-after")); err != nil {
			t.Fatalf("a store call after the timeouts: %v", err)
		}
		if err := db.Ready(ctx); err != nil {
			t.Fatalf("readiness after the timeouts: %v", err)
		}
	}
}

func TestPostgresIdleInTransactionTimeoutEndsAnAbandonedTransaction(t *testing.T) {
	db, _ := openPostgresWith(t, store.Options{IdleInTransactionTimeout: 300 * time.Millisecond, MaxOpen: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := db.WithTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "SELECT 1"); err != nil {
			return err
		}
		time.Sleep(time.Second) // the transaction idles, holding its connection
		_, err := tx.ExecContext(ctx, "SELECT 1")
		return err
	})
	if !errors.Is(err, store.ErrTimeout) {
		t.Fatalf("a transaction idle past the timeout: %v; want store.ErrTimeout", err)
	}
	// The pool's one connection was ended by the server; the next call gets a new one.
	if err := db.RecordExchange(ctx, exchange("after", "tx-after")); err != nil {
		t.Fatalf("a store call after the abandoned transaction: %v", err)
	}
}

func TestPostgresPoolsNeverHoldMoreServerConnectionsThanTheirLimit(t *testing.T) {
	const limit = 3
	db, app := openPostgresWith(t, store.Options{MaxOpen: limit, MaxIdle: 1})
	monitor, err := sql.Open("pgx", storetest.SkipWithoutPostgres(t))
	if err != nil {
		t.Fatal(err)
	}
	defer monitor.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	count := func(name string) int {
		var n int
		if err := monitor.QueryRowContext(ctx, "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", name).Scan(&n); err != nil {
			t.Error(err)
		}
		return n
	}

	// The monitor counts both pools' server connections while many callers want one at once.
	var peakWrite, peakRead atomic.Int64
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			for _, p := range []struct {
				name string
				peak *atomic.Int64
			}{{app, &peakWrite}, {app + "-read", &peakRead}} {
				if n := int64(count(p.name)); n > p.peak.Load() {
					p.peak.Store(n)
				}
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 16 {
		wg.Go(func() {
			errs <- db.WithTx(ctx, func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, "SELECT pg_sleep(0.3)")
				return err
			})
		})
		wg.Go(func() {
			_, err := db.Reader().ExecContext(ctx, "SELECT pg_sleep(0.3)")
			errs <- err
		})
	}
	wg.Wait()
	close(stop)
	<-watched
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a call through the limited pool failed: %v", err)
		}
	}
	// Never above the limit, and the limit reached: 16 callers on 3 connections queue, not fail.
	if w, r := peakWrite.Load(), peakRead.Load(); w != limit || r != limit {
		t.Fatalf("peak server connections: write pool %d, read pool %d; want %d each", w, r, limit)
	}
	// Once the burst is over, each pool keeps its one idle connection.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		w, r := count(app), count(app+"-read")
		if w <= 1 && r <= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the burst the pools hold %d and %d connections; want at most 1 idle each", w, r)
		}
	}
}
