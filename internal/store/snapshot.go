package store

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Snapshot keeps a value read from the database (a registry that changes rarely but is read on every
// request) for a while. A change made through the same instance calls Invalidate and shows at once;
// one made through another instance sharing the database shows once the value is older than the
// TTL given to Get. The zero Snapshot is empty and ready.
type Snapshot[T any] struct {
	held atomic.Pointer[held[T]]
	// gen counts invalidations, so that a load that read the tables before a change commits cannot
	// keep its out-of-date value after the change cleared the snapshot.
	gen atomic.Uint64
	// loading lets one caller read the tables when the value expires; the others wait for it.
	loading sync.Mutex
}

type held[T any] struct {
	loaded time.Time
	value  T
}

// Invalidate drops the value, so that the next Get reads the change this instance made.
func (s *Snapshot[T]) Invalidate() {
	s.gen.Add(1)
	s.held.Store(nil)
}

// Get returns the value if it was loaded less than ttl before now, and otherwise loads it again.
func (s *Snapshot[T]) Get(ctx context.Context, now time.Time, ttl time.Duration, load func(context.Context) (T, error)) (T, error) {
	if h := s.held.Load(); h != nil && now.Sub(h.loaded) < ttl {
		return h.value, nil
	}
	s.loading.Lock()
	defer s.loading.Unlock()
	// Another caller may have loaded while this one waited.
	if h := s.held.Load(); h != nil && now.Sub(h.loaded) < ttl {
		return h.value, nil
	}
	gen := s.gen.Load()
	v, err := load(ctx)
	if err != nil {
		return v, err
	}
	if s.gen.Load() == gen {
		s.held.Store(&held[T]{loaded: now, value: v})
	}
	return v, nil
}
