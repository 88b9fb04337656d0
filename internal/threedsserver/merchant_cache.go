package threedsserver

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open3ds/open3ds/internal/store"
)

// DefaultMerchantTTL is how long SQLStore answers Merchant from memory before reading the merchants
// again. Every final result looks for its merchant's webhook and every challenge notification page
// for its merchant, while merchants change rarely; but several 3DS Server instances may share the
// database, so a change made through another instance shows within this long, and one made
// through the same SQLStore at once. Look-ups by API key and of the key itself never use it.
const DefaultMerchantTTL = 5 * time.Second

type merchantSnapshot struct {
	loaded time.Time
	byID   map[string]Merchant
}

type merchantCache struct {
	snap atomic.Pointer[merchantSnapshot]
	// gen counts invalidations, so that a load that read the table before a change cannot store
	// its out-of-date snapshot after the change cleared the cache.
	gen     atomic.Uint64
	loading sync.Mutex
}

func (c *merchantCache) invalidate() {
	c.gen.Add(1)
	c.snap.Store(nil)
}

func (c *merchantCache) current(ctx context.Context, now time.Time, ttl time.Duration, db *store.DB) (*merchantSnapshot, error) {
	if s := c.snap.Load(); s != nil && now.Sub(s.loaded) < ttl {
		return s, nil
	}
	c.loading.Lock()
	defer c.loading.Unlock()
	if s := c.snap.Load(); s != nil && now.Sub(s.loaded) < ttl {
		return s, nil
	}
	gen := c.gen.Load()
	rows, err := db.Reader().QueryContext(ctx, `SELECT `+merchantColumns+` FROM tdss_merchants`)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	s := &merchantSnapshot{loaded: now, byID: map[string]Merchant{}}
	for rows.Next() {
		m, err := scanMerchant(rows)
		if err != nil {
			return nil, err
		}
		s.byID[m.ID] = m
	}
	if err := rows.Err(); err != nil {
		return nil, store.MapError(err)
	}
	if c.gen.Load() == gen {
		c.snap.Store(s)
	}
	return s, nil
}

// cachedMerchant returns the cached merchant with the id, or ErrNotFound.
func (s *SQLStore) cachedMerchant(ctx context.Context, id string) (Merchant, error) {
	snap, err := s.merchants.current(ctx, time.Now(), s.MerchantTTL, s.db)
	if err != nil {
		return Merchant{}, err
	}
	m, ok := snap.byID[id]
	if !ok {
		return Merchant{}, fmt.Errorf("merchant: %w", store.ErrNotFound)
	}
	return m, nil
}
