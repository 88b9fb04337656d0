package sdk

import (
	"net/url"
	"time"
)

// SetMaxTimeout shortens a challenge's time below the protocol's five minutes, so that a test can
// see the SDK's timeout without waiting for it.
func SetMaxTimeout(s *SDK, d time.Duration) { s.cfg.MaxTimeout = d }

// LoopbackHTTPURL reports whether raw is plain HTTP to this machine, as LoopbackHTTP admits it.
func LoopbackHTTPURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && loopbackHTTP(u)
}
