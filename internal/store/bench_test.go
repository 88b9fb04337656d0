package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/store/storetest"
)

// benchStores opens each back end for a benchmark; PostgreSQL skips without OPEN3DS_TEST_POSTGRES.
var benchStores = []struct {
	name string
	open func(testing.TB) *store.DB
}{
	{"sqlite", storetest.OpenSQLite},
	{"postgres", storetest.OpenPostgres},
}

// BenchmarkRecordExchange measures one exchange recorded at a time: the latency a role adds to
// each message it handles.
func BenchmarkRecordExchange(b *testing.B) {
	for _, s := range benchStores {
		b.Run(s.name, func(b *testing.B) {
			db := s.open(b)
			ctx := context.Background()
			i := 0
			for b.Loop() {
				i++
				if err := db.RecordExchange(ctx, exchange(fmt.Sprintf("b-%d", i), "tx-bench")); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRecordExchangeParallel records from GOMAXPROCS goroutines at once (more with -cpu): the
// throughput of a busy instance.
func BenchmarkRecordExchangeParallel(b *testing.B) {
	for _, s := range benchStores {
		b.Run(s.name, func(b *testing.B) {
			db := s.open(b)
			ctx := context.Background()
			var n atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					id := fmt.Sprintf("p-%d", n.Add(1))
					if err := db.RecordExchange(ctx, exchange(id, "tx-"+id)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
