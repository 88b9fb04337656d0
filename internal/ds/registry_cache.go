package ds

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/open3ds/open3ds/internal/store"
)

// The registry (the scheme's settings, the card ranges, the ACSs and the 3DS Servers) is read by
// every AReq: who is calling, the scheme, the card's range and its ACS. Read from the database,
// that is four statements per AReq; on SQLite each one after a commit starts from an emptied page
// cache (issue 18). It changes rarely, so SQLStore can serve it from memory.
//
// The copy is kept current by the scheme's serial, which every registry change advances in its own
// transaction (see change): a change made through this SQLStore drops the copy at once, and a
// change made by another instance is noticed by reading the serial, at most every RegistryRecheck.
// That is the longest a change made elsewhere takes to reach this instance's AReqs; the admin API
// and the console of the instance that made it see it at once, and so do PReqs (which read the
// ranges with their serial from the database).

// registryView is the registry at one serial.
type registryView struct {
	serial  int64
	scheme  Scheme
	ranges  map[int][]Range // by PAN length, by start
	acs     map[string]ACS
	servers map[string]ThreeDSServer
	checked time.Time // when the serial was last found unchanged
}

func (v *registryView) findRange(pan string) (Range, error) {
	rs := v.ranges[len(pan)]
	// The last range starting at or before pan; ranges never overlap.
	i := sort.Search(len(rs), func(i int) bool { return rs[i].Start > pan })
	if i == 0 || !rs[i-1].Contains(pan) {
		return Range{}, fmt.Errorf("%w: card range", store.ErrNotFound)
	}
	return rs[i-1], nil
}

type registryCache struct {
	mu   sync.Mutex
	view *registryView
}

func (c *registryCache) drop() {
	c.mu.Lock()
	c.view = nil
	c.mu.Unlock()
}

// registry returns the registry as this instance knows it, no older than RegistryRecheck, or nil
// when the store reads the database every time (RegistryRecheck zero).
func (s *SQLStore) registry(ctx context.Context) (*registryView, error) {
	if s.RegistryRecheck <= 0 {
		return nil, nil
	}
	c := &s.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if v := c.view; v != nil && now.Sub(v.checked) < s.RegistryRecheck {
		return v, nil
	}
	var serial int64
	if err := s.db.Reader().QueryRowContext(ctx, `SELECT serial FROM ds_scheme WHERE id = 1`).Scan(&serial); err != nil {
		return nil, store.MapError(err)
	}
	if v := c.view; v != nil && v.serial == serial {
		v.checked = now
		return v, nil
	}
	v, err := s.loadRegistry(ctx, serial)
	if err != nil {
		return nil, err
	}
	v.checked = now
	c.view = v
	return v, nil
}

// loadRegistry reads the whole registry. It is read after the serial, so a change that lands
// between the two shows in the data and, with a larger serial, makes the next check load again: a
// view may be newer than its serial says, never older.
func (s *SQLStore) loadRegistry(ctx context.Context, serial int64) (*registryView, error) {
	v := &registryView{serial: serial, ranges: map[int][]Range{}, acs: map[string]ACS{}, servers: map[string]ThreeDSServer{}}
	var err error
	if v.scheme, err = s.readScheme(ctx); err != nil {
		return nil, err
	}
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT `+rangeColumns+` FROM ds_ranges ORDER BY pan_len, start_pan`)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRange(rows)
		if err != nil {
			return nil, err
		}
		v.ranges[len(r.Start)] = append(v.ranges[len(r.Start)], r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	acss, err := s.ListACS(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range acss {
		v.acs[a.Name] = a
	}
	servers, err := s.ListThreeDSServers(ctx)
	if err != nil {
		return nil, err
	}
	for _, x := range servers {
		v.servers[x.Name] = x
	}
	return v, nil
}
