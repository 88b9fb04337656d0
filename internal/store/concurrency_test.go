package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/store/storetest"
)

// TestSQLiteConcurrentWritersGetNoBusyErrors records from many goroutines at once, with readers
// alongside, through one handle and through two handles on one file (as two processes would).
// Every write must succeed: none may fail with SQLITE_BUSY.
func TestSQLiteConcurrentWritersGetNoBusyErrors(t *testing.T) {
	const writers, each = 32, 20
	for _, handles := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d handles on one file", handles), func(t *testing.T) {
			ctx := context.Background()
			dsn := storetest.SQLiteDSN(t)
			var dbs []*store.DB
			for range handles {
				db, err := store.Open(ctx, dsn, store.Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				dbs = append(dbs, db)
			}
			var (
				wg       sync.WaitGroup
				mu       sync.Mutex
				errs     []error
				stop     = make(chan struct{})
				readOnce atomic.Int64
			)
			fail := func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() }
			for r := range 2 {
				wg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						if _, err := dbs[r%handles].RecentExchanges(ctx, 10); err != nil {
							fail(fmt.Errorf("read: %w", err))
							return
						}
						readOnce.Add(1)
						time.Sleep(time.Millisecond) // leave the CPUs to the writers under test
					}
				})
			}
			var writes sync.WaitGroup
			for w := range writers {
				writes.Go(func() {
					for i := range each {
						e := exchange(fmt.Sprintf("w%d-%d", w, i), fmt.Sprintf("tx-%d", w))
						if i%2 == 0 {
							if err := dbs[w%handles].RecordExchange(ctx, e); err != nil {
								fail(fmt.Errorf("record: %w", err))
							}
							continue
						}
						// Every other write is a transaction that reads before it writes, the pattern
						// that fails with SQLITE_BUSY when a deferred transaction has to upgrade.
						err := dbs[w%handles].WithTx(ctx, func(tx *sql.Tx) error {
							var n int
							if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM exchanges").Scan(&n); err != nil {
								return err
							}
							_, err := tx.ExecContext(ctx, `INSERT INTO exchanges
								(id, role, direction, peer, message_type, outcome, started_at, duration_us)
								VALUES (?, 'ds', 'in', 'p', 'AReq', 'Y', ?, 0)`, e.ID, store.Time(e.StartedAt))
							return err
						})
						if err != nil {
							fail(fmt.Errorf("transaction: %w", err))
						}
					}
				})
			}
			writes.Wait()
			close(stop)
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := dbs[0].Reader().QueryRowContext(ctx, "SELECT count(*) FROM exchanges").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != writers*each {
				t.Errorf("%d exchanges stored, want %d", n, writers*each)
			}
			if readOnce.Load() == 0 {
				t.Errorf("no read ran beside the writers")
			}
		})
	}
}

// exchange is a valid exchange for tests outside the contract suite.
func exchange(id, transID string) store.Exchange {
	return store.Exchange{
		ID: id, Role: store.Role3DSS, Direction: store.Out, Peer: "ds-test",
		MessageType: "AReq", ResponseType: "ARes", ThreeDSServerTransID: transID,
		DSTransID: "f25084f0-5b16-4c0a-ae5d-b24808a95e4b", MaskedPAN: "400000******1091",
		MessageVersion: "2.2.0", Outcome: "Y", StartedAt: time.Now(), Duration: 3 * time.Millisecond,
	}
}

// TestSQLiteReadThenWriteTransactionIsNotUpsetByAnotherProcessWriting opens a transaction that reads
// and then, while another handle on the file (another process, in effect) tries to write, writes
// itself. Because write transactions take the lock when they begin, the other writer waits for
// this one and the transaction runs once; were the lock taken only at the first write, the other
// handle would commit in between and SQLite would refuse this transaction's write (SQLITE_BUSY,
// its snapshot being stale), forcing a retry.
func TestSQLiteReadThenWriteTransactionIsNotUpsetByAnotherProcessWriting(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dsn := storetest.SQLiteDSN(t)
	var dbs [2]*store.DB
	for i := range dbs {
		db, err := store.Open(ctx, dsn, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dbs[i] = db
	}
	other := make(chan error, 1)
	otherDone := false
	attempts := 0
	err := dbs[0].WithTx(ctx, func(tx *sql.Tx) error {
		attempts++
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM exchanges").Scan(&n); err != nil {
			return err
		}
		if attempts == 1 {
			go func() { other <- dbs[1].RecordExchange(ctx, exchange("other", "tx-other")) }()
			select {
			case err := <-other: // the other write got in first
				otherDone = true
				if err != nil {
					return err
				}
			case <-time.After(300 * time.Millisecond): // the other write is waiting for us
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO exchanges
			(id, role, direction, peer, message_type, outcome, started_at, duration_us)
			VALUES ('mine', 'ds', 'in', 'p', 'AReq', 'Y', ?, 0)`, store.Time(time.Now()))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !otherDone {
		if err := <-other; err != nil {
			t.Fatalf("the other handle's write: %v", err)
		}
	}
	if attempts != 1 {
		t.Errorf("the transaction ran %d times, want once", attempts)
	}
}
