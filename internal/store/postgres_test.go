package store_test

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/store/storetest"
)

// TestPostgresDeadlockedTransactionsBothCommitAfterARetry makes two transactions lock two rows in
// opposite orders. PostgreSQL aborts one of them (after its deadlock_timeout, 1 s by default);
// WithTx must run that one again, so both succeed.
func TestPostgresDeadlockedTransactionsBothCommitAfterARetry(t *testing.T) {
	t.Parallel()
	db := storetest.OpenPostgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, id := range []string{"a", "b"} {
		if err := db.RecordExchange(ctx, exchange(id, "tx-"+id)); err != nil {
			t.Fatal(err)
		}
	}
	var (
		holding  sync.WaitGroup // both transactions hold their first row
		attempts [2]int
		errs     [2]error
		wg       sync.WaitGroup
	)
	holding.Add(2)
	order := [2][2]string{{"a", "b"}, {"b", "a"}}
	for i := range 2 {
		wg.Go(func() {
			errs[i] = db.WithTx(ctx, func(tx *sql.Tx) error {
				attempts[i]++
				for j, id := range order[i] {
					_, err := tx.ExecContext(ctx, db.Rebind("UPDATE exchanges SET outcome = ? WHERE id = ?"), "N", id)
					if err != nil {
						return err
					}
					if j == 0 && attempts[i] == 1 {
						holding.Done()
						holding.Wait()
					}
				}
				return nil
			})
		})
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		t.Fatalf("after a deadlock: %v", err)
	}
	if attempts[0]+attempts[1] != 3 {
		t.Errorf("attempts = %v, want one transaction run twice", attempts)
	}
	got, err := db.RecentExchanges(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range got {
		if e.Outcome != "N" {
			t.Errorf("exchange %s outcome = %q, want both transactions' update", e.ID, e.Outcome)
		}
	}
}

func TestPostgresReadHandleRunsReadOnlyTransactions(t *testing.T) {
	db := storetest.OpenPostgres(t)
	var ro string
	if err := db.Reader().QueryRowContext(context.Background(), "SHOW transaction_read_only").Scan(&ro); err != nil {
		t.Fatal(err)
	}
	if ro != "on" {
		t.Errorf("transaction_read_only = %q on the read handle, want on", ro)
	}
	if db.Dialect() != store.Postgres {
		t.Errorf("dialect = %s, want postgres", db.Dialect())
	}
}
