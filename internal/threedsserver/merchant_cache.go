package threedsserver

import (
	"context"
	"fmt"
	"time"

	"github.com/open3ds/open3ds/internal/store"
)

// DefaultMerchantTTL is how long SQLStore answers Merchant from memory before reading the merchants
// again. Every final result looks for its merchant's webhook and every challenge notification page
// for its merchant, while merchants change rarely; but several 3DS Server instances may share the
// database, so a change made through another instance shows within this long, and one made
// through the same SQLStore at once. Look-ups by API key and of the key itself never use it, so a
// rotated or revoked key (RevokeMerchantKey) is refused at once on every instance: the cache bounds
// how long a merchant's other fields may be stale, never how long a key keeps working.
const DefaultMerchantTTL = 5 * time.Second

// readMerchants reads every merchant, by id: what SQLStore keeps in its snapshot.
func (s *SQLStore) readMerchants(ctx context.Context) (map[string]Merchant, error) {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT `+merchantColumns+` FROM tdss_merchants`)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	byID := map[string]Merchant{}
	for rows.Next() {
		m, err := scanMerchant(rows)
		if err != nil {
			return nil, err
		}
		byID[m.ID] = m
	}
	if err := rows.Err(); err != nil {
		return nil, store.MapError(err)
	}
	return byID, nil
}

// cachedMerchant returns the cached merchant with the id, or ErrNotFound.
func (s *SQLStore) cachedMerchant(ctx context.Context, id string) (Merchant, error) {
	byID, err := s.merchants.Get(ctx, time.Now(), s.MerchantTTL, s.readMerchants)
	if err != nil {
		return Merchant{}, err
	}
	m, ok := byID[id]
	if !ok {
		return Merchant{}, fmt.Errorf("merchant: %w", store.ErrNotFound)
	}
	return m, nil
}
