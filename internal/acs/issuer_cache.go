package acs

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/store"
)

// DefaultIssuerTTL is how long SQLStore answers IssuerForPAN from memory before reading the issuers
// again. Issuers change rarely, and every AReq needs one; but several ACS instances may share the
// database, so a change made through another instance must show within a few seconds.
const DefaultIssuerTTL = 5 * time.Second

// issuerSnapshot is every issuer and card range in memory (SQLStore keeps one in a store.Snapshot),
// so that an AReq finds its issuer by a binary search instead of two queries.
type issuerSnapshot struct {
	// ranges are sorted by start; enrolment refuses overlapping ranges, so at most one holds a PAN.
	ranges []cachedRange
	byID   map[string]*Issuer
}

type cachedRange struct {
	start, end string // padded to 19 digits, as stored
	issuer     *Issuer
}

// newIssuerSnapshot indexes the issuers all by id and by card range.
func newIssuerSnapshot(all []Issuer) *issuerSnapshot {
	s := &issuerSnapshot{byID: make(map[string]*Issuer, len(all))}
	for i := range all {
		s.byID[all[i].ID] = &all[i]
		for _, r := range all[i].Ranges {
			s.ranges = append(s.ranges, cachedRange{start: r.Start, end: r.End, issuer: &all[i]})
		}
	}
	slices.SortFunc(s.ranges, func(a, b cachedRange) int { return strings.Compare(a.start, b.start) })
	return s
}

// find returns the issuer whose range holds the padded PAN p.
func (s *issuerSnapshot) find(p string) (Issuer, error) {
	i := sort.Search(len(s.ranges), func(i int) bool { return s.ranges[i].start > p }) - 1
	if i < 0 || s.ranges[i].end < p {
		return Issuer{}, store.ErrNotFound
	}
	return own(s.ranges[i].issuer), nil
}

// byIssuerID returns the issuer with the id.
func (s *issuerSnapshot) byIssuerID(id string) (Issuer, error) {
	is, ok := s.byID[id]
	if !ok {
		return Issuer{}, store.ErrNotFound
	}
	return own(is), nil
}

// own copies a cached issuer: the snapshot is shared by every request, so the caller gets ranges
// of its own to change.
func own(is *Issuer) Issuer {
	c := *is
	c.Ranges = slices.Clone(is.Ranges)
	return c
}
