package acs

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultIssuerTTL is how long SQLStore answers IssuerForPAN from memory before reading the issuers
// again. Issuers change rarely, and every AReq needs one; but several ACS instances may share the
// database, so a change made through another instance must show within a few seconds.
const DefaultIssuerTTL = 5 * time.Second

// issuerCache keeps every issuer and card range in memory, so that an AReq finds its issuer by a
// binary search instead of two queries.
type issuerCache struct {
	snap atomic.Pointer[issuerSnapshot]
	// gen counts invalidations, so that a load that read the tables before a change commits cannot
	// store its out-of-date snapshot after the change cleared the cache.
	gen atomic.Uint64
	// loading lets one caller read the tables when the snapshot expires; the others wait for it.
	loading sync.Mutex
}

type issuerSnapshot struct {
	loaded time.Time
	// ranges are sorted by start; enrolment refuses overlapping ranges, so at most one holds a PAN.
	ranges []cachedRange
	byID   map[string]*Issuer
}

type cachedRange struct {
	start, end string // padded to 19 digits, as stored
	issuer     *Issuer
}

// invalidate drops the snapshot, so that the next look-up reads the change this instance made.
func (c *issuerCache) invalidate() {
	c.gen.Add(1)
	c.snap.Store(nil)
}

// current returns a snapshot younger than ttl, reading the tables when there is none.
func (c *issuerCache) current(ctx context.Context, now time.Time, ttl time.Duration, load func(context.Context) ([]Issuer, error)) (*issuerSnapshot, error) {
	if s := c.snap.Load(); s != nil && now.Sub(s.loaded) < ttl {
		return s, nil
	}
	c.loading.Lock()
	defer c.loading.Unlock()
	// Another caller may have loaded while this one waited.
	if s := c.snap.Load(); s != nil && now.Sub(s.loaded) < ttl {
		return s, nil
	}
	gen := c.gen.Load()
	all, err := load(ctx)
	if err != nil {
		return nil, err
	}
	s := &issuerSnapshot{loaded: now, byID: make(map[string]*Issuer, len(all))}
	for i := range all {
		s.byID[all[i].ID] = &all[i]
		for _, r := range all[i].Ranges {
			s.ranges = append(s.ranges, cachedRange{start: r.Start, end: r.End, issuer: &all[i]})
		}
	}
	slices.SortFunc(s.ranges, func(a, b cachedRange) int { return strings.Compare(a.start, b.start) })
	if c.gen.Load() == gen {
		c.snap.Store(s)
	}
	return s, nil
}

// find returns the issuer whose range holds the padded PAN p.
func (s *issuerSnapshot) find(p string) (Issuer, bool) {
	i := sort.Search(len(s.ranges), func(i int) bool { return s.ranges[i].start > p }) - 1
	if i < 0 || s.ranges[i].end < p {
		return Issuer{}, false
	}
	return own(s.ranges[i].issuer), true
}

// byIssuerID returns the issuer with the id.
func (s *issuerSnapshot) byIssuerID(id string) (Issuer, bool) {
	is, ok := s.byID[id]
	if !ok {
		return Issuer{}, false
	}
	return own(is), true
}

// own copies a cached issuer: the snapshot is shared by every request, so the caller gets ranges
// of its own to change.
func own(is *Issuer) Issuer {
	c := *is
	c.Ranges = slices.Clone(is.Ranges)
	return c
}
