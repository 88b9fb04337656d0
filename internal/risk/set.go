package risk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// issuerPolicies is the pair of policies one issuer runs: live decides, shadow (optional) is
// evaluated beside it for comparison and never acted on.
type issuerPolicies struct {
	live, shadow *Policy
}

// snapshot is one loaded policy file. A reload builds a new one and swaps it in whole, so an
// evaluation never sees half of an old file and half of a new one.
type snapshot struct {
	def     issuerPolicies
	issuers map[string]issuerPolicies
	sum     [sha256.Size]byte
}

// Set holds the policies of every issuer: a default for issuers the file does not name, and
// per-issuer live and shadow policies. It is safe for concurrent use, including while Watch
// reloads it. Build one with DefaultSet, LoadSet or ParseSet.
type Set struct {
	path string
	cur  atomic.Pointer[snapshot]

	// Watch's memory of the file, guarded by mu: the last size and modification time seen and
	// the hash of the last content tried, good or bad, so a broken file is reported once.
	mu      sync.Mutex
	size    int64
	mod     time.Time
	tried   [sha256.Size]byte
	lastErr string
}

// builtin is the snapshot of DefaultSet, also used by a zero Set.
var builtin = &snapshot{def: issuerPolicies{live: builtinPolicy("default")}}

// DefaultSet returns the built-in default policy for every issuer: every rule on with its
// default points, frictionless below 300, denied above 700, no shadow.
func DefaultSet() *Set {
	s := &Set{}
	s.cur.Store(builtin)
	return s
}

// ParseSet reads a policy file's content (the format is in README.md). Errors are *PolicyError
// naming the line and key, or the YAML parser's own error with its line.
func ParseSet(data []byte) (*Set, error) {
	snap, err := parseSnapshot(data)
	if err != nil {
		return nil, err
	}
	snap.sum = sha256.Sum256(data)
	s := &Set{}
	s.cur.Store(snap)
	return s, nil
}

// LoadSet reads the policy file at path. Watch keeps the set in step with the file afterwards.
func LoadSet(path string) (*Set, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("risk policy: %w", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("risk policy: %w", err)
	}
	s, err := ParseSet(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s.path = path
	s.size, s.mod = fi.Size(), fi.ModTime()
	s.tried = s.cur.Load().sum
	return s, nil
}

// Evaluate scores in with the issuer's live policy and, when the issuer has one, its shadow
// policy. Issuers the policy file does not name get the file's default.
func (s *Set) Evaluate(issuer string, in Input) (live Result, shadow *Result) {
	snap := s.cur.Load()
	if snap == nil {
		snap = builtin
	}
	ip, ok := snap.issuers[issuer]
	if !ok {
		ip = snap.def
	}
	live = ip.live.evaluate(&in)
	if ip.shadow != nil {
		r := ip.shadow.evaluate(&in)
		shadow = &r
	}
	return live, shadow
}

// Policies returns the live and shadow (possibly nil) policies the issuer gets.
func (s *Set) Policies(issuer string) (live, shadow *Policy) {
	snap := s.cur.Load()
	if snap == nil {
		snap = builtin
	}
	ip, ok := snap.issuers[issuer]
	if !ok {
		ip = snap.def
	}
	return ip.live, ip.shadow
}

// Watch reloads the policy file when it changes, checking about once a second, until ctx is
// done. A file that no longer parses leaves the current policies in force and is logged once.
// For a set that did not come from a file it returns at once. Run it in its own goroutine.
func (s *Set) Watch(ctx context.Context, log *slog.Logger) {
	s.WatchEvery(ctx, log, time.Second)
}

// WatchEvery is Watch with a chosen polling interval.
func (s *Set) WatchEvery(ctx context.Context, log *slog.Logger, every time.Duration) {
	if s.path == "" {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.poll(log)
		}
	}
}

// poll looks at the file once. Size and modification time are cheap and catch most edits; a
// file modified in the last two seconds is hashed anyway, because a rewrite within the file
// system's timestamp granularity can leave both unchanged.
func (s *Set) poll(log *slog.Logger) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fi, err := os.Stat(s.path)
	if err != nil {
		s.report(log, "risk policy file unreadable; keeping the current policy", err)
		return
	}
	if fi.Size() == s.size && fi.ModTime().Equal(s.mod) && time.Since(fi.ModTime()) > 2*time.Second {
		return
	}
	data, err := os.ReadFile(s.path)
	if err != nil {
		s.report(log, "risk policy file unreadable; keeping the current policy", err)
		return
	}
	s.size, s.mod = fi.Size(), fi.ModTime()
	sum := sha256.Sum256(data)
	if bytes.Equal(sum[:], s.tried[:]) {
		return
	}
	s.tried = sum
	snap, err := parseSnapshot(data)
	if err != nil {
		// Each distinct broken content is logged once: tried already holds its hash.
		s.lastErr = ""
		log.Error("risk policy file rejected; keeping the current policy", "path", s.path, "err", err)
		return
	}
	snap.sum = sum
	s.cur.Store(snap)
	s.lastErr = ""
	log.Info("risk policy reloaded", "path", s.path, "sha256", hex.EncodeToString(sum[:8]))
}

// report logs a problem unless it is the same one as last time, so a broken file does not
// fill the log once a second.
func (s *Set) report(log *slog.Logger, msg string, err error) {
	if err.Error() == s.lastErr {
		return
	}
	s.lastErr = err.Error()
	log.Error(msg, "path", s.path, "err", err)
}
